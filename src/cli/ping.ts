/**
 * `sjq ping`: asks the daemon whether it is alive.
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

const HELP = `sjq ping: ask the daemon whether it is alive

Usage: sjq ping [--socket PATH]

Prints the daemon's job counts by state (e.g. "Q:3 R:2 S:11") and exits 0;
exits 1 when no daemon answers (ping never starts one).

Options:
${CLIENT_FLAGS_HELP}

Examples:
  sjq ping
  sjq ping >/dev/null 2>&1 || sjq daemon --detach
`;

/** `sjq ping`. */
export const pingCommand: Command = {
  name: "ping",
  summary: "check that the daemon answers; print job counts",
  help: HELP,
  flags: flagNames(CLIENT_FLAGS),
  async run(args) {
    const { values, positionals } = parseFlags(args, CLIENT_FLAGS);
    if (values.help) return out(HELP), 0;
    noPositionals(positionals);
    using client = await connect(values);
    const reply = await client.request("PING");
    if (!reply.ok) throw new Error(reply.text);
    out(`${reply.text}\n`);
    return 0;
  },
};
