/**
 * A job's accounting as the store keeps it: what its executor measured
 * (src/executor.ts `Usage`) and the signal that ended it, and the warning
 * for a job whose measured peak exceeds its declared memory. Pure.
 *
 * @module
 */

import type { Outcome, Usage } from "./executor.ts";
import { formatSize } from "./size.ts";

/** The accounting columns of an ended job (src/store.ts). */
export interface UsageColumns {
  cpuUser: number | null;
  cpuSystem: number | null;
  maxRss: number | null;
  signal: number | null;
}

/**
 * The accounting of a job that ended with `outcome` after using `usage`:
 * CPU in seconds, memory in bytes, null where nothing was measured.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { usageColumns } from "./job_usage.ts";
 *
 * assert.deepEqual(
 *   usageColumns({ kind: "signal", signal: 9 }, { userMs: 1500, systemMs: 20, maxRss: 4096 }),
 *   { cpuUser: 1.5, cpuSystem: 0.02, maxRss: 4096, signal: 9 },
 * );
 * ```
 */
export function usageColumns(outcome: Outcome, usage: Usage | null): UsageColumns {
  return {
    cpuUser: usage === null ? null : usage.userMs / 1000,
    cpuSystem: usage === null ? null : usage.systemMs / 1000,
    maxRss: usage?.maxRss ?? null,
    signal: outcome.kind === "signal" ? outcome.signal : null,
  };
}

/**
 * The warning for a job whose measured peak memory exceeds what it
 * declared, or null when it stayed within it (or was not measured).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryWarning } from "./job_usage.ts";
 *
 * assert.equal(
 *   memoryWarning(1024 ** 3, 1.5 * 1024 ** 3),
 *   "its peak memory 1.5G exceeded its declared 1G",
 * );
 * assert.equal(memoryWarning(1024 ** 3, 1024), null);
 * ```
 */
export function memoryWarning(declared: number, peak: number | null | undefined): string | null {
  if (peak === null || peak === undefined || peak <= declared) return null;
  return `its peak memory ${formatSize(peak)} exceeded its declared ${formatSize(declared)}`;
}
