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
  defineCommand,
  out,
  parseIdList,
  requestOk,
  requestPerJob,
  UsageError,
} from "./common.ts";

const HELP = `sjq restart: run ended jobs again

Usage: sjq restart ID|FROM-TO... [--with-dependents] [options]
       sjq restart --failed [--with-dependents] [options]

Puts failed, aborted, killed (or any other ended) jobs back in the queue,
with the same id, script and options. The jobs that were aborted because of
them come back too, and wait for them again; nothing else is touched. The
earlier runs are kept: 'sjq status --json' lists them under "attempts".
An array's task (A_T) goes back into its array, whose head waits again
(and the jobs it aborted come back); an array (A) gets back every task that
did not succeed (every task, if all did), also while it still runs.

Prints how many jobs went back in the queue (an array's head is not
counted); exits 1 if the daemon refused any (an unknown id, a job that has
not ended).

Options:
  --failed           every job that failed (F) or could not start (E); a failed
                     array whole, a failed task of a running array alone
  --with-dependents  also every job that depends on them, however it ended
${AUTOSTART_FLAGS_HELP}

A job submitted with --retries N is run again by itself, up to N times,
when it fails (see 'sjq submit --help').

Examples:
  sjq restart 12
  sjq restart 12_7                   # task 7 of array 12
  sjq restart --failed
  sjq restart --with-dependents 7    # align again, and everything after it
`;

const OPTIONS = {
  ...AUTOSTART_FLAGS,
  failed: { type: "boolean" },
  "with-dependents": { type: "boolean" },
} as const;

/** `sjq restart`. */
export const restartCommand = defineCommand({
  name: "restart",
  summary: "run ended jobs again, with the jobs they aborted",
  help: HELP,
  options: OPTIONS,
}, async (values, positionals) => {
  if (values.failed && positionals.length > 0) {
    throw new UsageError("give ids or --failed, not both");
  }
  const given = values.failed ? null : parseIdList(positionals);
  using client = await connectDaemon(values);
  let ids: string[];
  if (given === null) {
    const reply = await requestOk(client, "INFO", true);
    const jobs = JSON.parse(new TextDecoder().decode(reply.payload)) as JobInfo[];
    const failed = jobs.filter((j) => j.state === "F" || j.state === "E");
    const heads = new Set(failed.filter((j) => j.array !== null).map((j) => j.id));
    // A failed array is restarted whole (its tasks that did not succeed); a task alone
    // only while its array runs on.
    ids = failed.filter((j) => j.array_id === null || !heads.has(j.array_id))
      .map((j) => j.array_id === null ? String(j.id) : `${j.array_id}_${j.array_task}`);
  } else ids = given;
  const mode = values["with-dependents"] ? " DEPENDENTS" : "";
  let restarted = 0;
  const refused = await requestPerJob(client, ids, (id) => `RESTART ${id}${mode}`, (_, text) => {
    restarted += Number(text);
  });
  out(`${restarted}\n`);
  return refused > 0 ? 1 : 0;
});
