/**
 * Recovery when a daemon opens: the jobs that had not ended are put back into
 * the scheduler, job by job. A job that cannot be put back is settled with
 * the reason (and logged); it never keeps the others from being recovered.
 * What became of the running ones is the executor's to find out
 * (`Executor.recover`).
 *
 * @module
 */

import { abortReason, type FinalState } from "./job.ts";
import type { Recovering } from "./executor.ts";
import type { Logger } from "./log.ts";
import type { Scheduler } from "./scheduler.ts";
import type { Store } from "./store.ts";
import { specOf, tallyReason, taskIds } from "./arrays.ts";

/**
 * Restores every active job of `store` into `scheduler`, in the open
 * transaction; returns the running ones, for the executor.
 */
export function restoreJobs(store: Store, scheduler: Scheduler, log: Logger): Recovering[] {
  const now = Date.now();
  const running: Recovering[] = [];
  const settle = (id: number, state: FinalState, reason: string) => {
    log.error(`job ${id} recovered as ${state}: ${reason}`);
    store.update(id, { state, ended: now, reason, pid: null });
  };
  const ended = (id: number) => store.endedState(id);
  const jobs = store.active((id, e) =>
    settle(id, "E", `recovery: its record cannot be read: ${e.message}`)
  );
  for (const job of jobs) {
    try {
      if (job.array !== undefined) {
        // An array's head, before its tasks: its ended tasks are counted from the store.
        const { first, last } = taskIds(job);
        const head = { id: job.id, first, last, max: specOf(job).max };
        scheduler.restoreArray(head, store.arrayTally(job.id, first, last));
        continue;
      }
      if (job.state !== "R") {
        const unknown = job.deps.find((d) =>
          scheduler.get(d.id) === undefined && ended(d.id) === undefined
        );
        if (unknown !== undefined) {
          settle(
            job.id,
            "A",
            `dependency ${unknown.id} is unknown: it was forgotten (sjq clean) with no record of how it ended`,
          );
          continue;
        }
      }
      const { array: _, arrayId, ...rest } = job;
      const added = scheduler.restore(
        arrayId === undefined
          ? { ...rest, owner: job.uid }
          : { ...rest, array: arrayId, owner: job.uid },
        ended,
      );
      if (added.state === "A") {
        const reason = abortReason(added.cause, added.causeState);
        store.update(job.id, { state: "A", ended: now, reason });
      } else if (added.state !== job.state) store.update(job.id, { state: added.state });
      if (job.state === "R") {
        const handle = job.handle ?? (job.pid === null ? null : String(job.pid));
        running.push({ job: { ...job, env: {} }, handle });
      }
    } catch (e) {
      const message = (e as Error)?.message ?? String(e);
      settle(job.id, job.state === "R" ? "F" : "E", `lost: recovery failed: ${message}`);
    }
  }
  // A head whose tasks all ended (or were settled above) ends now, and so may its dependents.
  for (const change of scheduler.endIdleArrays()) {
    if ("tally" in change) {
      store.update(change.id, {
        state: change.state,
        ended: now,
        reason: tallyReason(change.tally),
      });
    } else if (change.state === "A") {
      store.update(change.id, {
        state: "A",
        ended: now,
        reason: abortReason(change.cause, change.causeState),
      });
    } else store.update(change.id, { state: change.state });
  }
  return running;
}
