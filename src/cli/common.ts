/**
 * What every subcommand shares: flag parsing with clear usage errors, the
 * effective configuration, the connection to the daemon, and output.
 *
 * @module
 */

import { type Flags, type FlagValues, parseArgs } from "./args.ts";
import type { LoadedConfig } from "../config_loader.ts";
import { Client, type ClientReply, NoDaemonError } from "../client.ts";
import { type ClientSettings, quickClientSettings } from "./client_settings.ts";
import { lazyImport } from "./lazy.ts";

/** A usage error: printed as `error: …` with a hint, exit code 2. */
export class UsageError extends Error {
  /**
   * @param message What is wrong with the command line.
   * @param hint A suggestion printed before the pointer to `--help`.
   */
  constructor(message: string, readonly hint?: string) {
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
  /** Its flags (`--procs`, `-p`…), for shell completions. */
  flags?: readonly string[];
  /** Runs the command; returns the exit code. Throws `UsageError` for bad arguments. */
  run(args: string[]): Promise<number>;
}

export type { Flags };

/** Flags every client command takes. */
export const CLIENT_FLAGS = {
  socket: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Flags;

/** The text of the common flags, for help texts. */
export const CLIENT_FLAGS_HELP =
  `  --socket PATH   the daemon's socket (default: sjq.socket, $HOME/.sjq.sock)
  -h, --help      show this help`;

/** Flags of the commands that start a daemon when none answers. */
export const AUTOSTART_FLAGS = {
  ...CLIENT_FLAGS,
  "no-autostart": { type: "boolean" },
} as const satisfies Flags;

/** The text of {@linkcode AUTOSTART_FLAGS}, for help texts. */
export const AUTOSTART_FLAGS_HELP =
  `  --no-autostart  fail when no daemon answers instead of starting one (sjq.autostart)
${CLIENT_FLAGS_HELP}`;

/** What a client command knows about reaching the daemon. */
export interface ClientValues {
  socket?: string | undefined;
  "no-autostart"?: boolean | undefined;
}

/**
 * Strict flag parsing (./args.ts, as `node:util` parseArgs), failures turned
 * into `UsageError`; an unknown flag close to a known one gets a "did you mean".
 */
export function parseFlags<O extends Flags>(args: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs(args, options, allowPositionals);
  } catch (e) {
    const message = (e as Error).message.replace(/\. To specify a positional.*$/s, "");
    const unknown = /^Unknown option '(-[^']*)'/.exec(message)?.[1];
    const near = unknown === undefined ? undefined : nearest(unknown, flagNames(options));
    throw new UsageError(message, near === undefined ? undefined : `did you mean '${near}'?`);
  }
}

/** The flags of an options object: `--long` and `-s` names. */
export function flagNames(options: Flags): string[] {
  return Object.entries(options).flatMap(([name, o]) => [
    `--${name}`,
    ...(o.short === undefined ? [] : [`-${o.short}`]),
  ]);
}

/** The candidate at edit distance 2 or less from `word` (the closest), if any: for "did you mean". */
export function nearest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j]! + 1,
        next[j - 1]! + 1,
        row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length]!;
}

/** Throws a usage error when a command that takes no arguments got some. */
export function noPositionals(positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
}

const loadedFor = new WeakMap<ClientValues, Promise<LoadedConfig>>();

/**
 * The whole configuration of a client command, from its `--socket` flag and
 * the usual sources; loaded (and its warnings printed) once per command.
 */
export function clientConfig(values: ClientValues): Promise<LoadedConfig> {
  let loaded = loadedFor.get(values);
  if (loaded === undefined) {
    loaded = lazyImport<typeof import("./configure.ts")>("./configure.ts", import.meta.url)
      .then(({ configure }) =>
        configure(values.socket === undefined ? {} : { "sjq.socket": values.socket })
      );
    loadedFor.set(values, loaded);
  }
  return loaded;
}

/**
 * What a client command needs to reach its daemon: without loading the whole
 * configuration when nothing but the socket is configured
 * (./client_settings.ts), else from {@linkcode clientConfig}.
 */
export async function clientSettings(values: ClientValues): Promise<ClientSettings> {
  const home = Deno.env.get("HOME") ?? "/";
  const quick = quickClientSettings({
    socket: values.socket,
    env: Deno.env.toObject(),
    home,
    cwd: Deno.cwd(),
    uid: Deno.uid() ?? 0,
    readFile: readIfExists,
    exists: (path) => {
      try {
        Deno.statSync(path);
        return true;
      } catch {
        return false;
      }
    },
  });
  return quick ?? (await clientConfig(values)).config;
}

function readIfExists(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** The command line that starts a daemon for a client command, for hints. */
export function startCommand(values: ClientValues, socket: string): string {
  const base = "sjq daemon --detach";
  return values.socket === undefined ? base : `${base} --socket ${shellQuote(socket)}`;
}

/**
 * Why no daemon can be listening at `socket`, in one sentence, or null: its
 * directory is missing, or something other than a socket is there.
 */
export function socketProblem(socket: string): string | null {
  const dir = socket.slice(0, socket.lastIndexOf("/")) || "/";
  try {
    if (!Deno.statSync(dir).isDirectory) return `the socket's directory ${dir} is not a directory`;
  } catch {
    return `the socket's directory ${dir} does not exist (sjq.socket is ${socket})`;
  }
  try {
    const info = Deno.lstatSync(socket);
    if (!info.isSocket) {
      return `${socket} is not a socket (${info.isDirectory ? "a directory" : "a file"})`;
    }
  } catch { /* nothing there yet: a daemon can listen */ }
  return null;
}

/** Connects to the daemon a client command is configured for, without starting one. */
export async function connect(values: ClientValues): Promise<Client> {
  const { socket } = await clientSettings(values);
  try {
    return await Client.connect(socket);
  } catch (e) {
    if (e instanceof NoDaemonError) {
      const problem = socketProblem(socket);
      if (problem !== null) throw new Error(problem);
      throw new NoDaemonError(socket, e.cause, startCommand(values, socket));
    }
    throw e;
  }
}

/** What {@linkcode defineCommand} needs besides the code: the command's name, texts and flags. */
export interface CommandSpec<O extends Flags> {
  name: string;
  /** One line for `sjq --help`. */
  summary: string;
  /** The full `--help` text. */
  help: string;
  /** Its flags, `-h, --help` among them. */
  options: O;
  /** The flags shell completions offer, when not all of `options`. */
  flags?: readonly string[];
}

/**
 * A subcommand from its spec and its code: the arguments are parsed against
 * `spec.options` here (a bad flag is a usage error with a "did you mean"),
 * `--help` prints the help, and `run` gets the parsed flags and the other
 * arguments and returns the exit code (main.ts turns what it throws into
 * messages and exit codes).
 */
export function defineCommand<O extends Flags & { help: { type: "boolean" } }>(
  spec: CommandSpec<O>,
  run: (values: FlagValues<O>, positionals: string[]) => Promise<number>,
): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    help: spec.help,
    flags: spec.flags ?? flagNames(spec.options),
    run(args) {
      const { values, positionals } = parseFlags(args, spec.options);
      if (values.help) return out(spec.help), Promise.resolve(0);
      return run(values, positionals);
    },
  };
}

/** A {@linkcode defineCommand} subcommand that takes flags only: any other argument is a usage error. */
export function flagsOnlyCommand<O extends Flags & { help: { type: "boolean" } }>(
  spec: CommandSpec<O>,
  run: (values: FlagValues<O>) => Promise<number>,
): Command {
  return defineCommand(spec, (values, positionals) => {
    noPositionals(positionals);
    return run(values);
  });
}

/** The one job id of a command that takes exactly one (`sjq log ID`, `sjq show ID`). */
export function oneJobId(positionals: string[]): string {
  const ids = parseIdList(positionals);
  if (ids.length !== 1) throw new UsageError("give exactly one job id");
  return ids[0]!;
}

/** Sends one request and returns its OK reply; an ERROR reply is thrown with its text. */
export async function requestOk(
  client: Client,
  line: string,
  counted = false,
): Promise<ClientReply> {
  const reply = await client.request(line, counted);
  if (!reply.ok) throw new Error(reply.text);
  return reply;
}

/**
 * Sends `request(id)` for each job id at once (pipelined) and reads the
 * replies in order: a refusal is printed as `error: job ID: …`, an OK reply's
 * text goes to `ok`. Returns how many were refused.
 */
export async function requestPerJob(
  client: Client,
  ids: readonly string[],
  request: (id: string) => string,
  ok: (id: string, text: string) => void,
): Promise<number> {
  const requests = ids.map(request);
  const sending = client.send(new TextEncoder().encode(requests.map((r) => `${r}\r\n`).join("")));
  let refused = 0;
  try {
    for (const [i, id] of ids.entries()) {
      const reply = await client.reply(false, requests[i]);
      if (reply.ok) ok(id, reply.text);
      else {
        console.error(`error: job ${id}: ${reply.text}`);
        refused++;
      }
    }
  } finally {
    await sending.catch(() => {});
  }
  return refused;
}

/**
 * Parses job ids and ranges (`7`, `3-5`, `3:4`, `3,4`) and array tasks
 * (`12_7`, `12_1-3`) into a list of the ids as requests name them.
 */
export function parseIdList(words: string[]): string[] {
  if (words.length === 0) throw new UsageError("no job id given");
  const ids: string[] = [];
  for (const word of words) {
    for (const part of word.split(/[,:]/)) {
      const m = /^(?:(\d+)_)?(\d+)(?:-(\d+))?$/.exec(part);
      const from = m ? Number(m[2]) : 0;
      const to = m?.[3] !== undefined ? Number(m[3]) : from;
      const array = m?.[1];
      if (!m || (from < 1 && array === undefined) || to < from || to - from > 1_000_000) {
        throw new UsageError(
          `bad job id or range "${part}"`,
          "ids are numbers, ranges are written 3-7, array tasks 12_7 or 12_1-5",
        );
      }
      for (let id = from; id <= to; id++) {
        ids.push(array === undefined ? `${id}` : `${array}_${id}`);
      }
    }
  }
  return ids;
}

/** Quotes a word for /bin/sh so that it stays one word, whatever it holds. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Writes text or bytes to stdout. */
export function out(text: string | Uint8Array): void {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  for (let off = 0; off < bytes.length;) off += Deno.stdout.writeSync(bytes.subarray(off));
}

/** Whether stdout gets colour: only a terminal, and never with `NO_COLOR` set. */
export function colourful(): boolean {
  return Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
}
