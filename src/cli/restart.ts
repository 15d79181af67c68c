/**
 * `sjq restart`: puts ended jobs back in the queue (RESTART).
 *
 * @module
 */

import type { JobInfo } from "../info.ts";
import { connectDaemon } from "./autostart.ts";
import {
  AUTOSTART_FLAGS,
  AUTOSTART_FLAGS_HELP,
  type Command,
  flagNames,
  out,
  parseFlags,
  parseIdList,
  UsageError,
} from "./common.ts";

const HELP = `sjq restart: run ended jobs again

Usage: sjq restart ID|FROM-TO... [--with-dependents] [options]
       sjq restart --failed [--with-dependents] [options]

Puts failed, aborted, killed (or any other ended) jobs back in the queue,
with the same id, script and options. The jobs that were aborted because of
them come back too, and wait for them again; nothing else is touched. The
earlier runs are kept: 'sjq status --json' lists them under "attempts".
Prints how many jobs went back in the queue; exits 1 if the daemon refused
any (an unknown id, a job that has not ended, a task of an array).

Options:
  --failed           every job that failed (F) or could not start (E)
  --with-dependents  also every job that depends on them, however it ended
${AUTOSTART_FLAGS_HELP}

A job submitted with --retries N is run again by itself, up to N times,
when it fails (see 'sjq submit --help').

Examples:
  sjq restart 12
  sjq restart --failed
  sjq restart --with-dependents 7    # align again, and everything after it
`;

const OPTIONS = {
  ...AUTOSTART_FLAGS,
  failed: { type: "boolean" },
  "with-dependents": { type: "boolean" },
} as const;

/** `sjq restart`. */
export const restartCommand: Command = {
  name: "restart",
  summary: "run ended jobs again, with the jobs they aborted",
  help: HELP,
  flags: flagNames(OPTIONS),
  async run(args) {
    const { values, positionals } = parseFlags(args, OPTIONS);
    if (values.help) return out(HELP), 0;
    if (values.failed && positionals.length > 0) {
      throw new UsageError("give ids or --failed, not both");
    }
    const given = values.failed ? null : parseIdList(positionals);
    using client = await connectDaemon(values);
    let ids: string[];
    if (given === null) {
      const reply = await client.request("INFO", true);
      if (!reply.ok) throw new Error(reply.text);
      const jobs = JSON.parse(new TextDecoder().decode(reply.payload)) as JobInfo[];
      ids = jobs.filter((j) => (j.state === "F" || j.state === "E") && j.array_id === null)
        .map((j) => String(j.id));
    } else ids = given;
    const mode = values["with-dependents"] ? " DEPENDENTS" : "";
    let failed = 0;
    let restarted = 0;
    for (const id of ids) {
      const reply = await client.request(`RESTART ${id}${mode}`);
      if (reply.ok) restarted += Number(reply.text);
      else {
        console.error(`error: job ${id}: ${reply.text}`);
        failed++;
      }
    }
    out(`${restarted}\n`);
    return failed > 0 ? 1 : 0;
  },
};
