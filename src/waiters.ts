/**
 * Pending WAITs: each waits for one job's end to be durable.
 *
 * @module
 */

/** One pending WAIT. */
interface Waiter<R> {
  resolve: (reply: R) => void;
  /** Removes the WAIT's abort listener. */
  forget: () => void;
}

/** Answers of pending WAITs, by job id. */
export class Waiters<R> {
  readonly #waiting = new Map<number, Set<Waiter<R>>>();
  readonly #dropped: R;

  /** `dropped` answers a WAIT whose asker has gone (nobody reads it). */
  constructor(dropped: R) {
    this.#dropped = dropped;
  }

  /**
   * A promise of the answer to a WAIT on job `id`. Once `gone` is aborted
   * the WAIT is dropped (answered with `dropped`): a job that never ends
   * must not keep an asker who has left.
   */
  wait(id: number, gone?: AbortSignal): Promise<R> {
    if (gone?.aborted) return Promise.resolve(this.#dropped);
    return new Promise((resolve) => {
      let set = this.#waiting.get(id);
      if (set === undefined) this.#waiting.set(id, set = new Set());
      const drop = () => {
        set.delete(waiter);
        if (set.size === 0 && this.#waiting.get(id) === set) this.#waiting.delete(id);
        resolve(this.#dropped);
      };
      const waiter: Waiter<R> = {
        resolve,
        forget: () => gone?.removeEventListener("abort", drop),
      };
      set.add(waiter);
      gone?.addEventListener("abort", drop, { once: true });
    });
  }

  /** Whether anyone waits for job `id`. */
  has(id: number): boolean {
    return this.#waiting.has(id);
  }

  /** Answers everyone waiting for job `id`. */
  answer(id: number, reply: R): void {
    const set = this.#waiting.get(id);
    if (set === undefined) return;
    this.#waiting.delete(id);
    for (const waiter of set) {
      waiter.forget();
      waiter.resolve(reply);
    }
  }

  /** Answers every pending WAIT with `reply(id)` (the daemon stops). */
  answerAll(reply: (id: number) => R): void {
    for (const id of [...this.#waiting.keys()]) this.answer(id, reply(id));
  }
}
