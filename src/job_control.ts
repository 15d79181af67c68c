/**
 * The requests that act on one job (or on every task of an array): KILL,
 * HOLD and RELEASE, and who may send them.
 *
 * @module
 */

import { type Caller, type JobAction, mayActOnJob } from "./authorization.ts";
import type { DaemonContext } from "./daemon_context.ts";
import { error, ok, type Reply } from "./reply.ts";
import type { RunningJobs } from "./running_jobs.ts";

/** ERROR when `caller` may not act on job `id` (an unknown job is for the handler to answer). */
export function mayAct(
  ctx: DaemonContext,
  caller: Caller,
  action: JobAction,
  id: number,
): Reply | null {
  if (caller.uid === ctx.uid) return null;
  const owner = ctx.store.get(id)?.uid;
  const denied = owner === undefined ? null : mayActOnJob(caller, action, id, owner);
  return denied === null ? null : error(denied.denied);
}

/** KILL id (`sjq kill`): ends a waiting job at once; signals a running one. */
export function kill(ctx: DaemonContext, jobs: RunningJobs, id: number): Reply {
  const { scheduler } = ctx;
  if (scheduler.isArray(id)) {
    for (const task of scheduler.arrayTasks(id)) kill(ctx, jobs, task);
    return ok();
  }
  const job = scheduler.get(id);
  if (job === undefined) return _noop(ctx, id);
  if (job.state !== "R" || (job.ahead && !jobs.isLaunched(id))) {
    jobs.end(id, "K", { ended: Date.now(), reason: "killed before it started" });
    return ok();
  }
  jobs.stop(id, "kill");
  return ok();
}

/** RELEASE id (`sjq release`): lets a user-held job go on. */
export function release(ctx: DaemonContext, id: number): Reply {
  const { scheduler, store } = ctx;
  for (const task of scheduler.arrayTasks(id)) release(ctx, task);
  const change = scheduler.release(id);
  if (change) store.update(id, { state: change.state, retryAt: null });
  return change || scheduler.isArray(id) ? ok() : _noop(ctx, id);
}

/** HOLD id (`sjq hold`): puts a queued or holding job into user-hold. */
export function hold(ctx: DaemonContext, id: number): Reply {
  const { scheduler, store } = ctx;
  for (const task of scheduler.arrayTasks(id)) hold(ctx, task);
  const change = scheduler.hold(id);
  if (change) store.update(id, { state: change.state });
  return change || scheduler.isArray(id) ? ok() : _noop(ctx, id);
}

/** The reply to a KILL, RELEASE or HOLD that changed nothing: `OK unknown`, or `OK noop <state>`. */
function _noop(ctx: DaemonContext, id: number): Reply {
  const state = ctx.store.state(id);
  return ok(state === undefined ? "unknown" : `noop ${state}`);
}
