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
import { resolveJob } from "./job_queries.ts";
import type { RunningJobs } from "./running_jobs.ts";
import { specOf, tallyReason, taskIds } from "./arrays.ts";
import { arrayOutcome } from "./scheduler.ts";

/**
 * RESTART id [DEPENDENTS] (`sjq restart`): puts an ended job back in the
 * queue with the jobs it aborted (src/restart.ts); answers how many.
 * Jobs of other users than `caller` are left as they are (root's restart
 * takes everyone's). A task of an array (`12_7`) goes back into its array,
 * whose head returns to H if it had ended; an array (`12`) gets its tasks
 * that did not succeed back (all of them if every one succeeded). Heads
 * are not counted.
 */
export function restart(
  ctx: DaemonContext,
  jobs: RunningJobs,
  ref: { id: number; task?: number },
  dependents: boolean,
  caller: Caller,
): Reply {
  const { store } = ctx;
  if (ctx.stopping()) return error("The daemon is shutting down");
  const id = resolveJob(store, ref)!;
  const name = ref.task === undefined ? `${ref.id}` : `${ref.id}_${ref.task}`;
  const job = id === 0 ? undefined : store.get(id);
  if (job === undefined) return error(`Unknown job ${name}`);
  const headActive = job.array !== undefined && !isFinal(job.state);
  if (!isFinal(job.state) && !headActive) return error(`Job ${name} has not ended`);
  // An array's head is restarted with its tasks, and a task's ended head with it.
  const targets = new Set([id]);
  /** Heads that come back only because some of their tasks do: not restarted whole. */
  const carried = new Set<number>();
  if (job.arrayId !== undefined && isFinal(store.state(job.arrayId) ?? "Q")) {
    targets.add(job.arrayId);
    carried.add(job.arrayId);
  }
  let ids: number[];
  for (;;) {
    ids = planRestart([...targets], store.endedAfter(Math.min(...targets) - 1), dependents);
    // A task revived by the plan brings its ended head (and what the head aborted) along.
    const heads = ids.map((next) => store.get(next)!.arrayId)
      .filter((head): head is number =>
        head !== undefined && !targets.has(head) && isFinal(store.state(head) ?? "Q")
      );
    if (heads.length === 0) break;
    for (const head of heads) {
      targets.add(head);
      carried.add(head);
    }
  }
  const planned = new Set(ids);
  let count = 0;
  for (const next of ids) {
    const again = next === id ? job : store.get(next)!;
    if (again.arrayId !== undefined && planned.has(again.arrayId)) continue; // with its head
    if (mayActOnJob(caller, "restart", next, again.uid) !== null) continue;
    if (again.array !== undefined) {
      count += _restartArray(ctx, jobs, again, planned, next === id || !carried.has(next));
    } else if (again.arrayId !== undefined) {
      count += _restartArray(ctx, jobs, store.get(again.arrayId)!, planned, false);
    } else {
      _requeue(ctx, again);
      count++;
    }
  }
  if (headActive && count === 0) return error(`Array ${name} has no ended task to restart`);
  ctx.afterCommit(() => ctx.log.info(`restarted ${count} jobs from job ${name}`));
  return ok(String(count));
}

/**
 * Restarts tasks of array `head`: those in `planned`, or with `whole`
 * (the array itself was named, or revived) every task that did not
 * succeed (all when all did). Its head comes back in H with the tally
 * of the tasks that stay ended. Returns how many tasks.
 */
function _restartArray(
  ctx: DaemonContext,
  jobs: RunningJobs,
  head: JobRecord,
  planned: ReadonlySet<number>,
  whole: boolean,
): number {
  const { store, scheduler } = ctx;
  const { first, last } = taskIds(head);
  const ended = [...store.records(first, last)].filter((t) => isFinal(t.state));
  let tasks = ended.filter((t) => whole ? t.state !== "S" : planned.has(t.id));
  if (tasks.length === 0 && whole && isFinal(head.state)) tasks = ended;
  if (tasks.length === 0) return 0;
  const tally = store.arrayTally(head.id, first, last);
  for (const t of tasks) {
    const state = t.state as FinalState;
    tally[state] = tally[state]! - 1;
    if (tally[state] === 0) delete tally[state];
  }
  scheduler.reopenArray({ id: head.id, first, last, max: specOf(head).max }, tally);
  if (isFinal(head.state)) store.restartJob(head.id, "H");
  for (const task of tasks) _requeue(ctx, task);
  // Every task aborted again at once (a dependency still failed): the array ends again.
  if (scheduler.get(head.id)?.pending === 0) {
    const now = store.arrayTally(head.id, first, last);
    jobs.end(head.id, arrayOutcome(now), { ended: Date.now(), reason: tallyReason(now) });
  }
  return tasks.length;
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
      ...(job.arrayId === undefined ? {} : { array: job.arrayId }),
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
