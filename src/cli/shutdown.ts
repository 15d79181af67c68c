/**
 * `sjq shutdown`: stops the daemon.
 *
 * @module
 */

import {
  CLIENT_FLAGS,
  CLIENT_FLAGS_HELP,
  connect,
  flagsOnlyCommand,
  requestOk,
  UsageError,
} from "./common.ts";

const HELP = `sjq shutdown: stop the daemon

Usage: sjq shutdown [--kill | --drain] [--socket PATH]

Without an option the daemon stops at once and running jobs go on: the next
daemon adopts them and records how they ended. Queued and held jobs stay on
disk for the next daemon.
With --kill the daemon kills the running jobs first (they end in K).
With --drain it accepts no new job, starts no queued one, and exits once the
running ones have ended; queued jobs stay on disk.
What happens to running jobs is said on stderr.

Exits 1 when no daemon answers (shutdown never starts one).

Options:
  --kill          kill running jobs (they end in K)
  --drain         let running jobs finish; start nothing new
${CLIENT_FLAGS_HELP}

Examples:
  sjq shutdown              # e.g. to upgrade sjq: running jobs go on
  sjq shutdown --drain      # e.g. before a reboot: finish what runs
  sjq shutdown --kill
`;

const OPTIONS = { ...CLIENT_FLAGS, drain: { type: "boolean" }, kill: { type: "boolean" } } as const;

/** `sjq shutdown`. */
export const shutdownCommand = flagsOnlyCommand({
  name: "shutdown",
  summary: "stop the daemon (running jobs go on; --kill, --drain)",
  help: HELP,
  options: OPTIONS,
}, async (values) => {
  if (values.drain && values.kill) throw new UsageError("--kill and --drain exclude each other");
  using client = await connect(values);
  const ping = await client.request("PING");
  const running = ping.ok ? Number(/\bR:(\d+)/.exec(ping.text)?.[1] ?? 0) : 0;
  const mode = values.kill ? " KILL" : values.drain ? " DRAIN" : "";
  await requestOk(client, `SHUTDOWN${mode}`);
  const one = running === 1;
  const jobs = `${running} running job${one ? "" : "s"}`;
  console.error(
    running === 0
      ? "sjq: the daemon is stopping; no job was running"
      : values.kill
      ? `sjq: the daemon is killing ${jobs} (ending in K), then stops`
      : values.drain
      ? `sjq: the daemon starts nothing new and stops once ${jobs} ${one ? "has" : "have"} ended`
      : `sjq: the daemon is stopping; ${jobs} ${one ? "goes" : "go"} on (the next daemon adopts ${
        one ? "it" : "them"
      })`,
  );
  return 0;
});
