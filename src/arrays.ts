/**
 * Job arrays, as the daemon sees them. An array is one SUBMIT with ARRAY:
 * its head, a job that holds the script, environment and options its tasks
 * share and stays in H until every task has ended, and one light job per
 * task, with consecutive ids after the head's. `12_7` names task 7 of the
 * array whose head is job 12. See docs/protocol.md, *Job arrays*.
 *
 * @module
 */

import { type ArraySpec, parseArraySpec, taskCount, taskPosition } from "./array_spec.ts";
import type { JobRecord } from "./job.ts";
import type { Tally } from "./scheduler.ts";

/** Parsed array specifications of heads, by head id (a head's never changes). */
const specs = new Map<number, ArraySpec>();

/** The parsed specification of an array's head. */
export function specOf(head: Pick<JobRecord, "id" | "array">): ArraySpec {
  let spec = specs.get(head.id);
  if (spec === undefined) {
    spec = parseArraySpec(head.array!);
    specs.set(head.id, spec);
  }
  return spec;
}

/** The job ids of an array's tasks: from the head's id + 1 to the returned `last`. */
export function taskIds(head: Pick<JobRecord, "id" | "array">): { first: number; last: number } {
  return { first: head.id + 1, last: head.id + taskCount(specOf(head)) };
}

/** The job id of task `task` of the array whose head is `head`, or null when it has none. */
export function taskJobId(head: Pick<JobRecord, "id" | "array">, task: number): number | null {
  const position = taskPosition(specOf(head), task);
  return position === null ? null : head.id + 1 + position;
}

/** The variables a task runs with besides the usual ones (Slurm's names too). */
export function arrayEnvironment(
  job: Pick<JobRecord, "arrayId" | "arrayTask">,
): Record<string, string> {
  if (job.arrayId === undefined) return {};
  const array = String(job.arrayId);
  const task = String(job.arrayTask);
  return {
    SJQ_ARRAY_JOB_ID: array,
    SJQ_ARRAY_TASK_ID: task,
    SLURM_ARRAY_JOB_ID: array,
    SLURM_ARRAY_TASK_ID: task,
  };
}

/** How a job is named for people: `12` for a job or a head, `12_7` for a task. */
export function jobRef(job: Pick<JobRecord, "id" | "arrayId" | "arrayTask">): string {
  return job.arrayId === undefined ? String(job.id) : `${job.arrayId}_${job.arrayTask}`;
}

/**
 * The output name an array's head keeps for its tasks: the given one (or
 * `%A_%a.stdout` in the working directory, or in a directory given) with
 * `%j`, `%a` and `%A` escaped, so that expanding it at submit fills in only
 * what all tasks share (`%x`, `%u`) and each task's own fields are filled
 * in when its record is read (src/store.ts).
 */
export function taskOutputPattern(
  given: string | undefined,
  place: { cwd: string; kind: "stdout" | "stderr"; isDirectory: (path: string) => boolean },
): string {
  const file = `%%A_%%a.${place.kind}`;
  if (given === undefined) return file;
  const escaped = given.replace(
    /%%|%(\d*[jaA])/g,
    (_m, field?: string) => (field === undefined ? "%%%%" : `%%${field}`),
  );
  const path = given.startsWith("/") ? given : `${place.cwd}/${given}`;
  return path.endsWith("/") || place.isDirectory(path)
    ? `${escaped.replace(/\/+$/, "")}/${file}`
    : escaped;
}

/** The reason an array's head gives for its end: how its tasks ended, e.g. `tasks: 998 S, 2 F`. */
export function tallyReason(tally: Readonly<Tally>): string {
  const parts = (["S", "F", "A", "K", "E"] as const)
    .filter((s) => (tally[s] ?? 0) > 0)
    .map((s) => `${tally[s]} ${s}`);
  return `tasks: ${parts.join(", ")}`;
}
