/**
 * The requests on ended jobs: RESTART puts them back in the queue, CLEAN
 * forgets them.
 *
 * @module
 */

import { abortReason, type FinalState, isFinal, type JobRecord } from "./job.ts";
import { type Caller, mayActOnJob } from "./authorization.ts";
import type { DaemonContext } from "./daemon_context.ts";
import { error, ok, type Reply } from "./reply.ts";
import { planRestart } from "./restart.ts";

/**
 * RESTART id [DEPENDENTS] (`sjq restart`): puts an ended job back in the
 * queue with the jobs it aborted (src/restart.ts); answers how many.
 * Jobs of other users than `caller` are left as they are (root's restart
 * takes everyone's).
 */
export function restart(
  ctx: DaemonContext,
  id: number,
  dependents: boolean,
  caller: Caller,
): Reply {
  const { store } = ctx;
  if (ctx.stopping()) return error("The daemon is shutting down");
  const job = store.get(id);
  if (job === undefined) return error(`Unknown job ${id}`);
  if (!isFinal(job.state)) return error(`Job ${id} has not ended`);
  if (job.array !== undefined || job.arrayId !== undefined) {
    return error(`Job ${id} belongs to an array: restarting arrays is not supported yet`);
  }
  const ids = planRestart([id], store.endedAfter(id), dependents);
  let count = 0;
  for (const next of ids) {
    const again = next === id ? job : store.get(next)!;
    if (again.array !== undefined || again.arrayId !== undefined) continue;
    if (mayActOnJob(caller, "restart", next, again.uid) !== null) continue;
    _requeue(ctx, again);
    count++;
  }
  ctx.afterCommit(() => ctx.log.info(`restarted ${count} jobs from job ${id}`));
  return ok(String(count));
}

/** An ended job back in the scheduler as if just submitted; its last end kept as an attempt. */
function _requeue(ctx: DaemonContext, job: Omit<JobRecord, "env">): void {
  const added = ctx.scheduler.add(
    {
      id: job.id,
      procs: job.procs,
      mem: job.mem,
      deps: job.deps,
      hold: false,
      owner: job.uid,
      priority: job.priority ?? 0,
      gpus: job.gpus ?? 0,
      ...(job.queue === undefined ? {} : { queue: job.queue }),
    },
    ctx.endedState,
  );
  ctx.store.restartJob(job.id, added.state);
  if (added.state === "A") {
    const reason = abortReason(added.cause, added.causeState);
    ctx.store.update(job.id, { ended: Date.now(), reason });
  }
}

/** CLEAN age states (`sjq clean`): forgets ended jobs (of `uid` only, unless null); answers how many. */
export function clean(
  ctx: DaemonContext,
  olderThan: number,
  states: readonly FinalState[],
  uid: number | null = null,
): Reply {
  // Their spool files went when they ended (or at the next start, after a crash).
  const ids = ctx.store.deleteEnded(Date.now() - olderThan * 1000, states, uid);
  if (ids.length > 0) ctx.afterCommit(() => ctx.log.info(`cleaned ${ids.length} ended jobs`));
  return ok(String(ids.length));
}
