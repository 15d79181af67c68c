/**
 * `sjq shutdown`: stops the daemon.
 *
 * @module
 */

import {
  CLIENT_FLAGS,
  CLIENT_FLAGS_HELP,
  type Command,
  connect,
  flagNames,
  noPositionals,
  out,
  parseFlags,
} from "./common.ts";

const HELP = `sjq shutdown: stop the daemon

Usage: sjq shutdown [--drain] [--socket PATH]

Without --drain the daemon stops accepting work, kills running jobs (they end
in K) and exits; queued and held jobs stay on disk for the next daemon.
With --drain it accepts no new job, starts no queued one, and exits once the
running ones have ended; queued jobs stay on disk.

Exits 1 when no daemon answers (shutdown never starts one).

Options:
  --drain         let running jobs finish; start nothing new
${CLIENT_FLAGS_HELP}

Examples:
  sjq shutdown
  sjq shutdown --drain      # e.g. before a reboot: finish what runs
`;

const OPTIONS = { ...CLIENT_FLAGS, drain: { type: "boolean" } } as const;

/** `sjq shutdown`. */
export const shutdownCommand: Command = {
  name: "shutdown",
  summary: "stop the daemon (kill running jobs, or --drain)",
  help: HELP,
  flags: flagNames(OPTIONS),
  async run(args) {
    const { values, positionals } = parseFlags(args, OPTIONS);
    if (values.help) return out(HELP), 0;
    noPositionals(positionals);
    using client = await connect(values);
    const reply = await client.request(values.drain ? "SHUTDOWN DRAIN" : "SHUTDOWN");
    if (!reply.ok) throw new Error(reply.text);
    return 0;
  },
};
