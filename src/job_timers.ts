/**
 * One timer per running job (its TIMEOUT), of any length (src/long_timer.ts).
 *
 * @module
 */

import { clearLongTimeout, type LongTimer, setLongTimeout } from "./long_timer.ts";

/** Timers keyed by job id; arming one replaces the job's earlier one. */
export class JobTimers {
  readonly #timers = new Map<number, LongTimer>();

  /** Calls `fn` at `due` (ms since the epoch), replacing job `id`'s pending timer. */
  at(id: number, due: number, fn: () => void): void {
    this.clear(id);
    this.#timers.set(
      id,
      setLongTimeout(() => {
        this.#timers.delete(id);
        fn();
      }, due - Date.now()),
    );
  }

  /** Cancels job `id`'s timer, if any. */
  clear(id: number): void {
    const timer = this.#timers.get(id);
    if (timer === undefined) return;
    clearLongTimeout(timer);
    this.#timers.delete(id);
  }

  /** Cancels every timer. */
  clearAll(): void {
    for (const timer of this.#timers.values()) clearLongTimeout(timer);
    this.#timers.clear();
  }
}
