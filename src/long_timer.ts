/**
 * Timers for any duration. `setTimeout` takes at most 2³¹−1 ms (about 24.8
 * days) and fires at once for anything longer; a 30-day TIMEOUT, waittime or
 * kill grace must not. A long timer waits in steps of at most a day.
 *
 * @module
 */

/** The longest delay one `setTimeout` call honours. */
const MAX_DELAY_MS = 2 ** 31 - 1;
const STEP_MS = 24 * 3600 * 1000;

/** A pending long timer; pass it to {@linkcode clearLongTimeout}. */
export interface LongTimer {
  handle: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Calls `fn` once, `ms` milliseconds from now (at once for `ms` ≤ 0 or
 * NaN), however long that is.
 *
 * @example
 * ```ts
 * const t = setLongTimeout(() => console.log("a month later"), 30 * 86_400_000);
 * clearLongTimeout(t);
 * ```
 */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  const timer: LongTimer = { handle: undefined };
  const due = Date.now() + (ms > 0 ? ms : 0);
  const arm = () => {
    const left = due - Date.now();
    if (left > MAX_DELAY_MS) timer.handle = setTimeout(arm, STEP_MS);
    else timer.handle = setTimeout(fn, Math.max(0, left));
  };
  arm();
  return timer;
}

/** Cancels a long timer; `undefined` is ignored. */
export function clearLongTimeout(timer: LongTimer | undefined): void {
  if (timer !== undefined) clearTimeout(timer.handle);
}

/**
 * The interval for `setInterval` from a configured period, clamped to what
 * timers honour (a period past 24.8 days runs every 24.8 days).
 */
export function timerInterval(ms: number): number {
  return Math.min(Math.max(ms, 1), MAX_DELAY_MS);
}
