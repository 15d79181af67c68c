/**
 * Progress for the person running the benchmark, on stderr, each line
 * stamped with the seconds since the benchmark started.
 *
 * @module
 */

const T0 = performance.now();

/** Writes one progress line to stderr. */
export function log(message: string): void {
  const s = ((performance.now() - T0) / 1000).toFixed(1).padStart(6);
  console.error(`[bench ${s}s] ${message}`);
}
