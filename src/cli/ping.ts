/**
 * `sjq ping`: asks the daemon whether it is alive.
 *
 * @module
 */

import {
  CLIENT_FLAGS,
  CLIENT_FLAGS_HELP,
  connect,
  flagsOnlyCommand,
  out,
  requestOk,
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
export const pingCommand = flagsOnlyCommand({
  name: "ping",
  summary: "check that the daemon answers; print job counts",
  help: HELP,
  options: CLIENT_FLAGS,
}, async (values) => {
  using client = await connect(values);
  out(`${(await requestOk(client, "PING")).text}\n`);
  return 0;
});
