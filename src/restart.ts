/**
 * Restarting ended jobs (`sjq restart`, RESTART): which jobs go back into
 * the queue. A restarted job keeps its id, script and options; the jobs
 * that were aborted because of it come back with it (transitively), and
 * with `dependents` so does every job that depends on it, however it ended.
 *
 * @module
 */

import type { Dependency, State } from "./job.ts";

/** What the plan needs to know of an ended job. */
export interface EndedJob {
  id: number;
  state: State;
  deps: readonly Dependency[];
  reason: string | null;
}

/** The dependency that aborted a job, from its reason (`dependency 7 ended in F`), or null. */
export function abortCause(job: Pick<EndedJob, "state" | "reason">): number | null {
  if (job.state !== "A") return null;
  const m = /^dependency (\d+) ended in [SFAKE]$/.exec(job.reason ?? "");
  return m === null ? null : Number(m[1]);
}

/**
 * The ids to restart, ascending: `targets`, then each later job (of
 * `later`, ascending ids, every job after the first target) that was
 * aborted by one of them, or with `dependents` that depends on one of them
 * in any way.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { planRestart } from "./restart.ts";
 *
 * const later = [
 *   { id: 2, state: "A" as const, deps: [{ id: 1, kind: "afterok" as const }], reason: "dependency 1 ended in F" },
 *   { id: 3, state: "S" as const, deps: [{ id: 1, kind: "afterany" as const }], reason: null },
 * ];
 * assert.deepEqual(planRestart([1], later, false), [1, 2]);
 * assert.deepEqual(planRestart([1], later, true), [1, 2, 3]);
 * ```
 */
export function planRestart(
  targets: readonly number[],
  later: Iterable<EndedJob>,
  dependents: boolean,
): number[] {
  const chosen = new Set(targets);
  for (const job of later) {
    if (chosen.has(job.id)) continue;
    const cause = abortCause(job);
    const revive = cause !== null
      ? chosen.has(cause)
      : dependents && job.deps.some((d) => chosen.has(d.id));
    if (revive) chosen.add(job.id);
  }
  return [...chosen].sort((a, b) => a - b);
}
