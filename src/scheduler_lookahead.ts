/**
 * The scheduler's lookahead: queued jobs marked R before a slot is free, so
 * that their R can be made durable while the slots are busy; each takes the
 * first slot that frees. Their resources are counted only from then on.
 *
 * @module
 */

import type { MemoryRoom, SchedJob } from "./scheduler.ts";
import type { Resources } from "./scheduler_resources.ts";

/** How many jobs at the head of the queue lookahead looks at. */
const DEPTH = 16;

/**
 * How many jobs may be ahead per running job: with one, a job that ends
 * before the daemon has made the next one durable (a trivial job, on a
 * busy machine) leaves its slot idle until the daemon catches up.
 */
const AHEAD_PER_SLOT = 4;

/** The jobs ahead of their slot, in the order they take the slots that free. */
export class Lookahead {
  #ahead: SchedJob[] = [];
  /** Jobs that left lookahead for a real slot since the last `promoted()`. */
  #promoted: number[] = [];
  /** The scheduler's journal: every change here is undone with the scheduler's. */
  readonly #record: (undo: () => void) => void;

  constructor(record: (undo: () => void) => void) {
    this.#record = record;
  }

  /** How many jobs are ahead. */
  get size(): number {
    return this.#ahead.length;
  }

  /** The job that takes the next slot that frees: the largest ahead. */
  get first(): SchedJob | undefined {
    return this.#ahead[0];
  }

  /**
   * The job to mark ahead, if any: the first queued job (of the first few)
   * that fits into the slot of any running job. At most `AHEAD_PER_SLOT`
   * jobs are ahead per running job.
   */
  choose(
    running: ReadonlySet<SchedJob>,
    queue: readonly number[],
    jobs: ReadonlyMap<number, SchedJob>,
    room: MemoryRoom | null,
    resources: Resources,
  ): SchedJob | undefined {
    const slots = running.size - this.#ahead.length;
    // Per-user limits decide at the moment a slot frees: no lookahead under them.
    if (
      slots * AHEAD_PER_SLOT <= this.#ahead.length ||
      (resources.capacity.userProcs ?? null) !== null
    ) {
      return undefined;
    }
    // Whichever running job ends first hands its slot to the first job ahead, and that
    // one's slot goes to the next: each job ahead is no larger than any running job
    // and than the jobs ahead before it (see `schedule` for the jobs that start meanwhile).
    const last = this.#ahead.at(-1);
    let procs = last?.procs ?? Infinity;
    let mem = last?.mem ?? Infinity;
    for (const job of running) {
      if (job.ahead) continue;
      procs = Math.min(procs, job.procs);
      mem = Math.min(mem, job.mem);
    }
    for (const id of queue.slice(0, DEPTH)) {
      const job = jobs.get(id)!;
      // An array's task counts against its array's limit when it starts, and a GPU job gets
      // its devices when it starts: neither goes ahead of a slot.
      if (job.procs > procs || job.mem > mem || job.array !== undefined || job.gpus) continue;
      // A job of a limited queue counts against its queue's limits when it starts, too.
      if (resources.queueLimits(job) !== undefined) continue;
      if (room !== null && job.mem + room.margin > room.available) continue;
      return job;
    }
    return undefined;
  }

  /** Marks `job` ahead (`ahead: true`), last in line; journaled. */
  mark(job: SchedJob): void {
    const old = this.#ahead;
    job.ahead = true;
    this.#ahead = [...old, job];
    this.#record(() => {
      delete job.ahead;
      this.#ahead = old;
    });
  }

  /** Takes `job` out of line (it got a real slot, or left R); journaled. */
  unmark(job: SchedJob): void {
    const old = this.#ahead;
    delete job.ahead;
    this.#ahead = old.filter((j) => j !== job);
    this.#record(() => {
      job.ahead = true;
      this.#ahead = old;
    });
  }

  /** Notes that job `id` left lookahead for a real slot, for {@linkcode promoted}. */
  notePromoted(id: number): void {
    this.#promoted.push(id);
  }

  /** Jobs that left lookahead for a real slot since the last call (or {@linkcode forgetPromoted}). */
  promoted(): number[] {
    const out = this.#promoted;
    this.#promoted = [];
    return out;
  }

  /** Forgets the jobs promoted since the last `promoted()` (their promotion was rolled back). */
  forgetPromoted(): void {
    this.#promoted = [];
  }
}
