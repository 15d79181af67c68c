/**
 * Starting a daemon in the background (`sjq daemon --detach`, auto-start)
 * and asking whether one answers. Kept apart from the daemon itself so that
 * clients load none of it.
 *
 * @module
 */

import { Client } from "../client.ts";
import { CONFIG_KEYS, type ConfigKey } from "../config.ts";
import { type LoadedConfig } from "../config_loader.ts";

/** Daemon flags (`--maxprocs`…) and the configuration keys they set: all but sjq.daemon and sjq.autostart. */
export const DAEMON_FLAGS: Record<string, ConfigKey> = Object.fromEntries(
  CONFIG_KEYS.filter((k) => k.key !== "sjq.daemon" && k.key !== "sjq.autostart").map((
    k,
  ) => [k.flag, k.key]),
);

/** Whether a daemon answers PING on `socket`. */
export async function daemonAnswers(socket: string): Promise<boolean> {
  try {
    using client = await Client.connect(socket);
    return (await client.request("PING")).ok;
  } catch {
    return false;
  }
}

/** Raised by {@linkcode startDetached} when the daemon reports that it could not start. */
export class DaemonStartError extends Error {
  /**
   * @param message The whole report, with the last lines of the daemon's log.
   * @param reason The daemon's own message.
   */
  constructor(message: string, readonly reason: string) {
    super(message);
    this.name = "DaemonStartError";
  }
}

/** How long a detaching parent waits for the daemon to answer. */
const START_TIMEOUT_MS = 30_000;

/**
 * Starts a daemon in a session of its own and returns its pid once it
 * answers on the socket (`autostarted`: for a client that found none). A daemon that fails to start is reported with the
 * last lines of its log.
 *
 * @throws {DaemonStartError} When the daemon reports why it could not start.
 */
export async function startDetached(
  loaded: LoadedConfig,
  flags: Partial<Record<ConfigKey, string>>,
  autostarted = false,
): Promise<number> {
  const { config } = loaded;
  const logfile = config.logfile ?? `${Deno.env.get("HOME") ?? "/tmp"}/.sjq.log`;
  const report = await Deno.makeTempFile({ prefix: "sjq-start-" });
  const logTail = async () => {
    const lines = await tail(logfile);
    return lines === "" ? "" : `\nlast lines of ${logfile}:\n${lines}`;
  };
  try {
    const args = ["daemon", "--foreground", "--logfile", logfile, "--startup-report", report];
    // An auto-started daemon takes the saved settings of the last one started by hand.
    if (autostarted) args.push("--autostarted");
    for (const [flag, key] of Object.entries(DAEMON_FLAGS)) {
      if (flags[key] !== undefined && flag !== "logfile") args.push(`--${flag}`, flags[key]!);
    }
    const [program, ...pre] = selfCommand();
    const child = new Deno.Command("setsid", {
      args: ["-f", program, ...pre, ...args],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    await child.status;
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const text = await Deno.readTextFile(report).catch(() => "");
      if (text.startsWith("ok ")) return Number(text.slice(3));
      if (text.startsWith("error ")) {
        const reason = text.slice(6).trim();
        throw new DaemonStartError(
          `the daemon did not start: ${reason}${await logTail()}`,
          reason,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(
      `the daemon did not answer within ${START_TIMEOUT_MS / 1000} s${
        await logTail() || ` (${logfile} is empty)`
      }`,
    );
  } finally {
    await Deno.remove(report).catch(() => {});
  }
}

async function tail(path: string, lines = 10): Promise<string> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Facts about the running program that decide how it runs itself again. */
export interface SelfFacts {
  /** `Deno.build.standalone`: whether this is a `deno compile`d binary. */
  standalone: boolean;
  /** `Deno.execPath()`: the compiled binary, or the Deno running the sources. */
  execPath: string;
  /** `Deno.mainModule`: main.ts's URL when run from the sources. */
  mainModule: string;
}

/**
 * The program and leading arguments that run this sjq again (for `--detach`
 * and auto-start): a compiled binary is itself sjq; from the sources (also
 * through the launcher `make build` writes) it is Deno running main.ts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selfCommand } from "./detach.ts";
 *
 * assert.deepEqual(
 *   selfCommand({ standalone: true, execPath: "/usr/local/bin/sjq", mainModule: "file:///x" }),
 *   ["/usr/local/bin/sjq"],
 * );
 * ```
 */
export function selfCommand(facts: SelfFacts = {
  standalone: Deno.build.standalone,
  execPath: Deno.execPath(),
  mainModule: Deno.mainModule,
}): [string, ...string[]] {
  if (facts.standalone) return [facts.execPath];
  return [
    facts.execPath,
    "run",
    "-A",
    "--quiet",
    // deno.json holds nothing sjq needs to run; not looking for it saves about 1 ms a start.
    "--no-config",
    decodeURIComponent(new URL(facts.mainModule).pathname),
  ];
}
