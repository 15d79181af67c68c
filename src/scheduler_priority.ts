/**
 * Priorities and the order of the scheduler's queue they give: queued jobs
 * in the order of {@linkcode rankOf}, then of their ids.
 *
 * @module
 */

/** Priorities jobs may have: from -PRIORITY_MAX to PRIORITY_MAX (`--urgent`). */
export const PRIORITY_MAX = 1000;

/**
 * How many later-submitted jobs one point of priority lets a job pass: the
 * queue is ordered by {@linkcode rankOf}, `id - PRIORITY_STEP * priority`.
 */
export const PRIORITY_STEP = 1000;

/**
 * A job's place in the queue (lower first; equal ranks in id order). A job
 * of priority p is placed as if it had been submitted PRIORITY_STEP × p jobs
 * earlier: it passes at most that many jobs of priority 0 submitted before
 * it, and a job is never passed by more than PRIORITY_STEP × (PRIORITY_MAX −
 * its priority) later jobs. That bound is the aging that keeps low
 * priorities from starving: a job grows older with every job submitted
 * after it, and no newer job, however urgent, can keep passing it.
 */
export function rankOf(job: { readonly id: number; readonly priority?: number }): number {
  return job.id - PRIORITY_STEP * (job.priority ?? 0);
}

/** The ids of the queued jobs, in queue order (by rank, then id). */
export class RankedQueue {
  readonly #ids: number[] = [];
  /** Queued jobs with a priority other than 0. */
  #prioritized = 0;
  /** The jobs the ids name; an id not there ranks as a job of priority 0. */
  readonly #jobs: ReadonlyMap<number, { readonly id: number; readonly priority?: number }>;

  constructor(jobs: ReadonlyMap<number, { readonly id: number; readonly priority?: number }>) {
    this.#jobs = jobs;
  }

  /** The queued ids, in queue order. */
  get ids(): readonly number[] {
    return this.#ids;
  }

  /** Whether any queued job has a priority other than 0 (then ids and queue order differ). */
  get prioritized(): boolean {
    return this.#prioritized !== 0;
  }

  /** Puts a job in its place. */
  insert(job: { readonly id: number; readonly priority?: number }): void {
    this.#ids.splice(this.indexOf(rankOf(job), job.id), 0, job.id);
    if (job.priority) this.#prioritized++;
  }

  /** Takes a job out. */
  delete(job: { readonly id: number; readonly priority?: number }): void {
    const i = this.indexOf(rankOf(job), job.id);
    if (this.#ids[i] === job.id) this.#ids.splice(i, 1);
    if (job.priority) this.#prioritized--;
  }

  /** Where the job of `rank` and `id` is, or would be inserted (by rank, then id). */
  indexOf(rank: number, id: number): number {
    const q = this.#ids;
    const before = (other: number) => {
      const r = this.#rank(other);
      return r < rank || (r === rank && other < id);
    };
    if (q.length === 0 || before(q[q.length - 1]!)) return q.length;
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(q[mid]!)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Queue order of two job ids. */
  compare(a: number, b: number): number {
    return this.#rank(a) - this.#rank(b) || a - b;
  }

  #rank(id: number): number {
    const job = this.#jobs.get(id);
    return job === undefined ? id : rankOf(job);
  }
}
