/**
 * `sjq reload`: the running daemon reads the rc file again and applies the
 * new limits at once.
 *
 * @module
 */

import { CLIENT_FLAGS, CLIENT_FLAGS_HELP, connect, flagsOnlyCommand } from "./common.ts";

const HELP = `sjq reload: apply a changed rc file to the running daemon

Usage: sjq reload [--socket PATH]

The daemon reads its rc file (~/.sjqrc, or the one SJQ_CONFIG named when it
started) again and applies at once what changed in sjq.maxprocs, sjq.maxmem,
sjq.defaults.procs, sjq.defaults.mem, sjq.keepdone, sjq.killgrace,
sjq.waittime, sjq.schedtime and sjq.autoshutdown; running jobs go on (with a
smaller limit, nothing new starts until enough of them end). Paths
(socket, db, logfile, pidfile) and sjq.maxscript need a restart. Flags the
daemon was started with still win over the file. Each change is printed on
stderr. SIGHUP to the daemon does the same. Never starts a daemon.

Exits 0 when the file was applied, 1 when it is invalid (nothing changes
then) or no daemon answers.

Options:
${CLIENT_FLAGS_HELP}

Examples:
  echo 'sjq.maxprocs = 8' >> ~/.sjqrc && sjq reload
  kill -HUP "$(cat ~/.sjq.pid)"
`;

/** `sjq reload`. */
export const reloadCommand = flagsOnlyCommand({
  name: "reload",
  summary: "apply a changed rc file to the running daemon",
  help: HELP,
  options: CLIENT_FLAGS,
}, async (values) => {
  using client = await connect(values);
  const reply = await client.request("RELOAD", true);
  if (!reply.ok) throw new Error(`the daemon kept its settings: ${reply.text}`);
  const text = new TextDecoder().decode(reply.payload);
  console.error(
    text === "" ? "sjq: reloaded: nothing changed" : `sjq: reloaded:\n${text.trimEnd()}`,
  );
  return 0;
});
