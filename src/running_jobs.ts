/**
 * The jobs between the scheduler and the executor: which are handed to the
 * executor (once each, only once their R is durable, with lookahead), how
 * they are stopped (TIMEOUT, KILL, a killing shutdown), and what a job's
 * end does to the store, the scheduler, WAITs and NOTIFY (a retry
 * instead, with RETRIES).
 *
 * @module
 */

import { abortReason, type FinalState, type JobRecord, type StopCause } from "./job.ts";
import type { JobUpdate } from "./job_rows.ts";
import type { Outcome, Usage } from "./executor.ts";
import { memoryWarning, type UsageColumns, usageColumns } from "./job_usage.ts";
import type { Change } from "./scheduler.ts";
import type { DaemonContext } from "./daemon_context.ts";
import { accountOf, jobEnvironment } from "./job_environment.ts";
import { endingOf } from "./job_outcome.ts";
import { JobTimers } from "./job_timers.ts";
import { tallyReason } from "./arrays.ts";
import { noticesDue, sendNotices } from "./end_notices.ts";
import { waitReply } from "./reply.ts";
import { MemoryGate } from "./memory_gate.ts";

/**
 * Lookahead (jobs marked R ahead of a free slot, docs/durability.md) only
 * with a backlog of at least this many queued jobs: a job a user is about
 * to hold or reorder is rarely this deep in a queue.
 */
const LOOKAHEAD_BACKLOG = 32;

/** What an ending records of a job (and what it used, when it ran). */
export interface EndFields extends Partial<UsageColumns> {
  ended: number;
  exitCode?: number | null;
  reason: string | null;
}

/** The running jobs' bookkeeping of one daemon. */
export class RunningJobs {
  readonly #ctx: DaemonContext;
  /** Jobs handed to the executor and not settled: none is ever started twice. */
  readonly #launched = new Set<number>();
  /** Jobs this daemon has asked its executor to stop (see `signal`). */
  readonly #signalled = new Set<number>();
  /** Jobs marked R ahead of their slot whose R is durable: they start when promoted. */
  readonly #aheadDurable = new Set<number>();
  /** Jobs promoted to a slot before their R was durable: they start once it is. */
  readonly #promotedEarly = new Set<number>();
  /**
   * The records of running jobs, read once and kept up to date by `update`
   * (nothing else changes a running job's row); dropped when a job ends and
   * all at once when a tick rolls back.
   */
  readonly #records = new Map<number, JobRecord>();
  /** Timeouts of running jobs. */
  readonly #timeouts = new JobTimers();
  /** Failed jobs waiting in U for their retry (RETRYDELAY). */
  readonly #retries = new JobTimers();
  /** MemAvailable for each scheduling pass (sjq.memmargin). */
  readonly #memory: MemoryGate;

  constructor(ctx: DaemonContext) {
    this.#ctx = ctx;
    this.#memory = new MemoryGate(ctx.config, ctx.log, () => ctx.event(() => {}));
  }

  /** The record of active job `id` (kept while it runs; see `update`). */
  recordOf(id: number): JobRecord {
    let job = this.#records.get(id);
    if (job === undefined) {
      job = this.#ctx.store.get(id)!;
      this.#records.set(id, job);
    }
    return job;
  }

  /** Changes some columns of a running job, in the store and in its kept record. */
  update(id: number, fields: JobUpdate): void {
    this.#ctx.store.update(id, fields);
    const job = this.#records.get(id);
    if (job !== undefined) Object.assign(job, fields);
  }

  /** The open tick rolled back: the kept records may hold what it undid. */
  rolledBack(): void {
    this.#records.clear();
  }

  /** Whether job `id` has been handed to the executor (and not settled since). */
  isLaunched(id: number): boolean {
    return this.#launched.has(id);
  }

  /**
   * The scheduling pass: marks what starts R; the executor gets each job once
   * that is durable. With a backlog, one more job is marked R ahead of a
   * free slot (lookahead), so that it starts the moment a slot frees,
   * without waiting for the disk.
   */
  startJobs(): void {
    const { scheduler } = this.#ctx;
    const now = Date.now();
    // MemAvailable is read only when a job may start.
    const room = scheduler.counts().Q > 0 ? this.#memory.room() : null;
    for (const { id } of scheduler.schedule(room)) {
      const gpuIds = scheduler.get(id)!.gpuIds;
      this.update(id, { state: "R", started: now, ...(gpuIds ? { gpuIds: [...gpuIds] } : {}) });
      this.#ctx.afterCommit(() => this.#launch(id));
    }
    if (room !== null) this.#memory.passed(scheduler.memoryShort, room.margin);
    while (scheduler.counts().Q >= LOOKAHEAD_BACKLOG) {
      const ahead = scheduler.reserveAhead(room);
      if (ahead === null) return;
      this.update(ahead.id, { state: "R", started: now });
      this.#ctx.afterCommit(() => {
        // An executor with lookahead holds the job itself and starts it when a slot frees.
        if (this.#executorHolds(ahead.id)) this.#launch(ahead.id, scheduler.isAhead(ahead.id));
        else if (this.#promotedEarly.delete(ahead.id)) this.#launch(ahead.id);
        else if (scheduler.isAhead(ahead.id)) this.#aheadDurable.add(ahead.id);
      });
    }
  }

  /**
   * Whether the executor holds lookahead job `id` until a slot frees: not
   * once a job ahead of it in line waits here instead (the executor would
   * start this one in the slot that is that job's).
   */
  #executorHolds(id: number): boolean {
    const { executor } = this.#ctx;
    if (this.#aheadDurable.size > 0) return false;
    if (executor.lookaheadFor !== undefined) return executor.lookaheadFor(this.recordOf(id).uid);
    return executor.lookahead === true;
  }

  /**
   * Jobs whose slot freed: each starts now if its R is durable, else once it
   * is; one the executor holds is told, in case the slot is one it does not
   * know of.
   */
  promote(): void {
    for (const id of this.#ctx.scheduler.promoted()) {
      if (this.#ctx.stopping()) continue;
      if (this.#launched.has(id)) this.#ctx.executor.promoted?.(id);
      else if (this.#aheadDurable.delete(id)) this.#launch(id);
      else this.#promotedEarly.add(id);
    }
  }

  /** Hands a job whose R is durable to the executor, once. */
  #launch(id: number, ahead = false): void {
    const { store, scheduler, executor } = this.#ctx;
    if (scheduler.get(id)?.state !== "R" || this.#launched.has(id)) return;
    this.#launched.add(id);
    const job = this.recordOf(id);
    executor.start({
      job,
      script: store.script(id),
      env: jobEnvironment(job, accountOf(job.uid)),
      ...(ahead ? { ahead } : {}),
    });
  }

  /** After the commit: job `id` is no longer the executor's (it ended, or goes back to the queue). */
  forget(id: number): void {
    this.#timeouts.clear(id);
    this.#launched.delete(id);
    this.#signalled.delete(id);
    this.#records.delete(id);
    this.#ctx.executor.forget(id);
  }

  /** Marks a running job as being stopped (durably), then has the executor end it. */
  stop(id: number, cause: StopCause): void {
    if (this.#ctx.scheduler.get(id)?.state !== "R") return;
    if (this.recordOf(id).stopping !== null) return;
    this.update(id, { stopping: cause });
    this.#ctx.afterCommit(() => this.signal(id));
  }

  /**
   * SIGTERM (or the backend's equivalent), SIGKILL after the grace; once per
   * job in this daemon's life (the executor sees a kill through, even one
   * that comes before it reported the start).
   */
  signal(id: number): void {
    if (this.#ctx.scheduler.get(id)?.state !== "R" || this.#signalled.has(id)) return;
    this.#signalled.add(id);
    this.#timeouts.clear(id);
    this.#ctx.executor.kill(id, this.#ctx.config.killgrace * 1000);
  }

  /** Stops job `id` (TIMEOUT) at `due`, ms since the epoch. */
  armTimeout(id: number, due: number): void {
    this.#timeouts.at(id, due, () => this.#ctx.event(() => this.stop(id, "timeout")));
  }

  /** Records a running job's end, the state it earned, and what follows for its dependents. */
  settle(id: number, outcome: Outcome, at: number, usage: Usage | null = null): void {
    const job = this.recordOf(id);
    this.#records.delete(id);
    const ended = Math.max(at, job.started ?? at);
    const { state, exitCode, reason } = endingOf(outcome, job.stopping, job.timeout);
    const fields = { ended, exitCode, reason, ...usageColumns(outcome, usage) };
    if (state === "F" && this.#retry(job, fields)) return;
    this.end(id, state, fields);
    this.#ctx.afterCommit(() => {
      const over = memoryWarning(job.mem, usage?.maxRss);
      if (over !== null) this.#ctx.log.error(`job ${id}: warning: ${over}`);
      const took = ((ended - (job.started ?? ended)) / 1000).toFixed(3);
      const how = exitCode === null
        ? reason
        : `exit code ${exitCode}${reason ? `, ${reason}` : ""}`;
      this.#ctx.log.info(`job ${id} ended ${state}: ${how}, after ${took} s`);
      this.forget(id);
    });
  }

  /** Ends an active job in `state` and carries the scheduler's consequences into the store. */
  end(id: number, state: FinalState, fields: EndFields): void {
    this.#ctx.store.update(id, { state, pid: null, ...fields });
    this.notify(id);
    this.#aheadDurable.delete(id);
    this.#promotedEarly.delete(id);
    this.#apply(this.#ctx.scheduler.end(id, state), fields.ended);
    this.promote();
  }

  /** Stores the scheduler's decisions. */
  #apply(changes: Change[], now: number): void {
    const { store } = this.#ctx;
    for (const change of changes) {
      if ("tally" in change) {
        store.update(change.id, {
          state: change.state,
          ended: now,
          reason: tallyReason(change.tally),
        });
        this.notify(change.id);
      } else if (change.state === "A") {
        const reason = abortReason(change.cause, change.causeState);
        store.update(change.id, { state: "A", ended: now, reason });
        this.notify(change.id);
      } else store.update(change.id, { state: change.state });
    }
  }

  /** Runs the job's NOTIFY command, sends its MAIL (src/end_notices.ts) and answers WAITs on it once its end is committed. */
  notify(id: number): void {
    const { store, waiters, log } = this.#ctx;
    const due = noticesDue(store.noticesOf(id), this.#ctx.config);
    if (due.notify !== null || due.mail !== null) {
      this.#ctx.afterCommit(() =>
        sendNotices(due, store.get(id)!, this.#ctx.config, accountOf(this.#ctx.uid).home, log)
      );
    }
    if (!waiters.has(id)) return;
    this.#ctx.afterCommit(() => waiters.answer(id, waitReply(store.get(id)!)));
  }

  /**
   * A job that failed with retries left (RETRIES) goes back to the queue
   * instead of ending: at once, or waiting in U for RETRYDELAY seconds.
   * Returns whether it did.
   */
  #retry(
    job: JobRecord,
    fields: EndFields,
  ): boolean {
    const { store, scheduler } = this.#ctx;
    const tries = store.attempts(job.id).get(job.id)?.length ?? 0;
    if ((job.retries ?? 0) <= tries) return false;
    store.update(job.id, { state: "F", ...fields });
    scheduler.requeue(job.id);
    const delay = (job.retryDelay ?? 0) * 1000;
    if (delay > 0) scheduler.hold(job.id);
    store.restartJob(job.id, delay > 0 ? "U" : "Q");
    const due = fields.ended + delay;
    if (delay > 0) {
      store.update(job.id, { retryAt: due });
      this.#ctx.afterCommit(() => this.armRetry(job.id, due));
    }
    this.#ctx.afterCommit(() => {
      this.#ctx.log.info(
        `job ${job.id} failed (attempt ${tries + 1} of ${(job.retries ?? 0) + 1}): retried`,
      );
      this.forget(job.id);
    });
    this.promote();
    return true;
  }

  /** Releases a job waiting in U for its retry when it is due. */
  armRetry(id: number, due: number): void {
    const { store, scheduler } = this.#ctx;
    this.#retries.at(id, due, () =>
      this.#ctx.event(() => {
        if (store.get(id)?.retryAt == null) return;
        store.update(id, { retryAt: null });
        const change = scheduler.release(id);
        if (change) store.update(id, { state: change.state });
      }));
  }

  /** Cancels the timeouts (the daemon stops; running jobs go on for the next one). */
  clearTimers(): void {
    this.#timeouts.clearAll();
    this.#memory.close();
  }
}
