/**
 * Pending WAITs: each waits for one job's end to be durable.
 *
 * @module
 */

/** Answers of pending WAITs, by job id. */
export class Waiters<R> {
  readonly #waiting = new Map<number, ((reply: R) => void)[]>();

  /** A promise of the answer to a WAIT on job `id`. */
  wait(id: number): Promise<R> {
    return new Promise((resolve) => {
      const list = this.#waiting.get(id);
      if (list === undefined) this.#waiting.set(id, [resolve]);
      else list.push(resolve);
    });
  }

  /** Whether anyone waits for job `id`. */
  has(id: number): boolean {
    return this.#waiting.has(id);
  }

  /** Answers everyone waiting for job `id`. */
  answer(id: number, reply: R): void {
    const list = this.#waiting.get(id);
    if (list === undefined) return;
    this.#waiting.delete(id);
    for (const resolve of list) resolve(reply);
  }

  /** Answers every pending WAIT with `reply(id)` (the daemon stops). */
  answerAll(reply: (id: number) => R): void {
    for (const id of [...this.#waiting.keys()]) this.answer(id, reply(id));
  }
}
