/**
 * What every subcommand shares: flag parsing with clear usage errors, the
 * effective configuration, and the connection to the daemon.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { type ConfigKey, loadConfig, type LoadedConfig } from "../config.ts";
import { Client } from "../client.ts";

/** A usage error: printed as `error: …` with a hint to `--help`, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A subcommand: its help text and what runs it. Only main.ts exits the process. */
export interface Command {
  name: string;
  /** One line for `sjq --help`. */
  summary: string;
  /** The full `--help` text. */
  help: string;
  /** Runs the command; returns the exit code. Throws `UsageError` for bad arguments. */
  run(args: string[]): Promise<number>;
}

/** Flags every client command takes. */
export const CLIENT_FLAGS = {
  socket: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

/** The text of the common flags, for help texts. */
export const CLIENT_FLAGS_HELP = `  --socket PATH   the daemon's socket (default: sjq.socket, $HOME/.sjq.sock)
  -h, --help      show this help`;

/** `node:util` parseArgs with strict checking, failures turned into `UsageError`. */
export function parseFlags<O extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: O,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional.*$/s, ""));
  }
}

/** Loads the configuration, printing its warnings to stderr. */
export function configure(flags: Partial<Record<ConfigKey, string>>): LoadedConfig {
  const loaded = loadConfig({
    flags,
    env: Deno.env.toObject(),
    home: Deno.env.get("HOME") ?? "/",
    cpus: navigator.hardwareConcurrency,
  });
  for (const w of loaded.warnings) console.error(`warning: ${w}`);
  return loaded;
}

/** The configuration of a client command, from its `--socket` flag and the usual sources. */
export function clientConfig(values: { socket?: string | undefined }): LoadedConfig {
  return configure(values.socket === undefined ? {} : { "sjq.socket": values.socket });
}

/** Connects to the daemon a client command is configured for. */
export function connect(values: { socket?: string | undefined }): Promise<Client> {
  return Client.connect(clientConfig(values).config.socket);
}

/** Parses job ids and ranges (`7`, `3-5`, `3:4`) into a list of ids. */
export function parseIdList(words: string[]): number[] {
  if (words.length === 0) throw new UsageError("no job id given");
  const ids: number[] = [];
  for (const word of words) {
    for (const part of word.split(/[,:]/)) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(part);
      const from = m ? Number(m[1]) : 0;
      const to = m?.[2] !== undefined ? Number(m[2]) : from;
      if (!m || from < 1 || to < from || to - from > 1_000_000) {
        throw new UsageError(`bad job id or range "${part}"`);
      }
      for (let id = from; id <= to; id++) ids.push(id);
    }
  }
  return ids;
}

/** Writes text to stdout. */
export function out(text: string | Uint8Array): void {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  for (let off = 0; off < bytes.length;) off += Deno.stdout.writeSync(bytes.subarray(off));
}
