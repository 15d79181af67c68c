/**
 * Summaries of repeated measurements: the median with its min and max for a
 * few runs, and percentiles for latency samples.
 *
 * @module
 */

/** The median of several runs, with the spread around it and the runs themselves. */
export interface Figure {
  median: number;
  min: number;
  max: number;
  /** Every run, in the order measured. */
  runs: number[];
}

/** A latency distribution in milliseconds. */
export interface Distribution {
  p50: number;
  p99: number;
  max: number;
  min: number;
  samples: number;
}

function _sorted(xs: readonly number[]): number[] {
  if (xs.length === 0) throw new RangeError("Cannot summarize no values");
  return [...xs].sort((a, b) => a - b);
}

/**
 * The value at quantile `q` (0–1) of ascending `sorted`, by the nearest-rank
 * method: always one of the samples, never an interpolation.
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 0.5); // 2
 * ```
 */
export function percentile(sorted: readonly number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * Median, min and max of `runs` (the median of an even count is the mean of
 * the middle two).
 *
 * @example
 * ```ts
 * figure([3, 1, 2]).median; // 2
 * ```
 */
export function figure(runs: readonly number[]): Figure {
  const s = _sorted(runs);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, runs: [...runs] };
}

/**
 * p50, p99 and max of latency samples.
 *
 * @example
 * ```ts
 * distribution([5, 1, 9]).max; // 9
 * ```
 */
export function distribution(samples: readonly number[]): Distribution {
  const s = _sorted(samples);
  return {
    p50: percentile(s, 0.5),
    p99: percentile(s, 0.99),
    max: s[s.length - 1]!,
    min: s[0]!,
    samples: s.length,
  };
}
