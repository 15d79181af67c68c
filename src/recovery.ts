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
      const added = scheduler.restore(job, ended);
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
  return running;
}
