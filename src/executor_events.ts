/**
 * The executor's events (started / ended / lost / unstarted,
 * src/executor.ts) applied to the store and the scheduler. An event is
 * kept until a committed tick has applied it: a tick that rolls back puts
 * its events back in front, for the next tick.
 *
 * @module
 */

import type { ExecutorEvent } from "./executor.ts";
import type { DaemonContext } from "./daemon_context.ts";
import type { RunningJobs } from "./running_jobs.ts";

/** The executor events heard and not yet applied in a committed tick. */
export class ExecutorEvents {
  readonly #ctx: DaemonContext;
  readonly #jobs: RunningJobs;
  /** Events not yet applied in a committed tick, in the order they came. */
  #pending: ExecutorEvent[] = [];
  /** Events applied in the open tick: put back in front of `#pending` if it rolls back. */
  #applying: ExecutorEvent[] = [];

  constructor(ctx: DaemonContext, jobs: RunningJobs) {
    this.#ctx = ctx;
    this.#jobs = jobs;
  }

  /** Whether events wait for a tick. */
  get pending(): boolean {
    return this.#pending.length > 0;
  }

  /** An event from the executor: kept, and a tick asked for. */
  heard(event: ExecutorEvent): void {
    this.#pending.push(event);
    this.#ctx.event(() => {});
  }

  /** Applies the events heard since the last tick (before its scheduling pass). */
  apply(): void {
    if (this.#pending.length === 0) return;
    const events = this.#pending;
    this.#pending = [];
    this.#applying.push(...events);
    for (const event of events) this.#applyEvent(event);
  }

  /** The open tick is committed: its events are applied for good. */
  committed(): void {
    this.#applying = [];
  }

  /** The open tick rolled back: its events are applied again by the next one. */
  rolledBack(): void {
    this.#pending = [...this.#applying, ...this.#pending];
    this.#applying = [];
  }

  #applyEvent(event: ExecutorEvent): void {
    const { scheduler } = this.#ctx;
    const jobs = this.#jobs;
    const { id } = event;
    if (scheduler.get(id)?.state !== "R") return;
    switch (event.kind) {
      case "started": {
        jobs.update(id, { handle: event.handle, pid: event.pid ?? null, started: event.at });
        const job = jobs.recordOf(id);
        // A stop recorded before the job was (re)started is carried out now.
        if (job.stopping !== null) this.#ctx.afterCommit(() => jobs.signal(id));
        else if (job.timeout !== null) jobs.armTimeout(id, event.at + job.timeout * 1000);
        return;
      }
      case "ended":
        return jobs.settle(id, event.outcome, event.at, event.usage);
      case "lost":
        return jobs.settle(id, { kind: "failed", reason: event.reason }, event.at);
      case "unstarted":
        if (jobs.recordOf(id).stopping !== null) {
          return jobs.settle(
            id,
            { kind: "failed", reason: "killed before it started" },
            Date.now(),
          );
        }
        scheduler.requeue(id);
        jobs.promote();
        jobs.update(id, { state: "Q", started: null, pid: null, handle: null });
        this.#ctx.afterCommit(() => {
          this.#ctx.log.info(`job ${id} had not started: queued again`);
          jobs.forget(id);
        });
    }
  }
}
