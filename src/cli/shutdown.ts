/**
 * `sjq shutdown`: stops the daemon.
 *
 * @module
 */

import { CLIENT_FLAGS, CLIENT_FLAGS_HELP, type Command, connect, out, parseFlags, UsageError } from "./common.ts";

const HELP = `sjq shutdown: stop the daemon

Usage: sjq shutdown [--drain] [--socket PATH]

Without --drain the daemon stops accepting work, kills running jobs (they end
in K) and exits; queued and held jobs stay on disk for the next daemon.
With --drain it starts no new job and exits once the running ones have ended.

Options:
  --drain         let running jobs finish; start nothing new
${CLIENT_FLAGS_HELP}
`;

/** `sjq shutdown`. */
export const shutdownCommand: Command = {
  name: "shutdown",
  summary: "stop the daemon (kill running jobs, or --drain)",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...CLIENT_FLAGS, drain: { type: "boolean" } }, false);
    if (values.help) return out(HELP), 0;
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    using client = await connect(values);
    const reply = await client.request(values.drain ? "SHUTDOWN DRAIN" : "SHUTDOWN");
    if (!reply.ok) throw new Error(reply.text);
    return 0;
  },
};
