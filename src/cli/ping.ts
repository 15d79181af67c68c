/**
 * `sjq ping`: is the daemon alive, and what does it hold.
 *
 * @module
 */

import { CLIENT_FLAGS, CLIENT_FLAGS_HELP, type Command, connect, out, parseFlags, UsageError } from "./common.ts";

const HELP = `sjq ping: ask the daemon whether it is alive

Usage: sjq ping [--socket PATH]

Prints the daemon's job counts by state (e.g. "Q:3 R:2 S:11") and exits 0;
exits 1 when no daemon answers.

Options:
${CLIENT_FLAGS_HELP}
`;

/** `sjq ping`. */
export const pingCommand: Command = {
  name: "ping",
  summary: "check that the daemon answers; print job counts",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseFlags(args, CLIENT_FLAGS, false);
    if (values.help) return out(HELP), 0;
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    using client = await connect(values);
    const reply = await client.request("PING");
    if (!reply.ok) throw new Error(reply.text);
    out(`${reply.text}\n`);
    return 0;
  },
};
