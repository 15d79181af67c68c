/**
 * Job array specifications, as `--array` and the ARRAY option take them
 * (Slurm's syntax): `1-1000`, `0-99:10`, `1,4,7-9`, with an optional `%max`
 * limiting how many tasks run at once: `1-1000%20`.
 *
 * @module
 */

/** One arithmetic run of task ids: `from`, `from + step`, … up to `to`. */
export interface TaskRange {
  from: number;
  to: number;
  step: number;
}

/** A parsed array specification. */
export interface ArraySpec {
  /** Runs of task ids, ascending and not overlapping. */
  ranges: TaskRange[];
  /** How many tasks may run at once, or null for no limit. */
  max: number | null;
}

/** The most tasks one array may have. */
export const MAX_ARRAY_TASKS = 1_000_000;

/** The largest task id. */
const MAX_TASK_ID = 4_000_000_000;

/**
 * Parses an array specification.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseArraySpec } from "./array_spec.ts";
 *
 * assert.deepEqual(parseArraySpec("1-9:4,20%2"), {
 *   ranges: [{ from: 1, to: 9, step: 4 }, { from: 20, to: 20, step: 1 }],
 *   max: 2,
 * });
 * ```
 *
 * @throws {SyntaxError} When the text is not a specification, names no task,
 * has ranges out of order, or more than {@linkcode MAX_ARRAY_TASKS} tasks.
 */
export function parseArraySpec(text: string): ArraySpec {
  const m = /^([^%]*)(?:%(\d+))?$/.exec(text.trim());
  const fail = (why: string) => new SyntaxError(`Cannot parse array "${text}": ${why}`);
  if (m === null) throw fail("expected FROM-TO[:STEP][,…][%MAX]");
  const ranges: TaskRange[] = [];
  let count = 0;
  for (const part of m[1]!.split(",")) {
    const r = /^(\d{1,10})(?:-(\d{1,10})(?::(\d{1,10}))?)?$/.exec(part);
    if (r === null) throw fail(`bad range "${part}": expected N, FROM-TO or FROM-TO:STEP`);
    const from = Number(r[1]);
    const to = r[2] === undefined ? from : Number(r[2]);
    const step = r[3] === undefined ? 1 : Number(r[3]);
    if (to < from) throw fail(`range "${part}" ends before it starts`);
    if (step < 1) throw fail(`range "${part}" has a step below 1`);
    if (to > MAX_TASK_ID) throw fail(`task ids go up to ${MAX_TASK_ID}`);
    const last = ranges.at(-1);
    if (last !== undefined && from <= last.to) {
      throw fail(`range "${part}" does not come after the one before it`);
    }
    const range = { from, to: from + Math.floor((to - from) / step) * step, step };
    ranges.push(range);
    count += sizeOf(range);
    if (count > MAX_ARRAY_TASKS) throw fail(`more than ${MAX_ARRAY_TASKS} tasks`);
  }
  const max = m[2] === undefined ? null : Number(m[2]);
  if (max !== null && max < 1) throw fail("%MAX must be at least 1");
  return { ranges, max };
}

/** The specification as text, the way `parseArraySpec` reads it back. */
export function formatArraySpec(spec: ArraySpec): string {
  const ranges = spec.ranges.map((r) =>
    r.from === r.to
      ? `${r.from}`
      : r.step === 1
      ? `${r.from}-${r.to}`
      : `${r.from}-${r.to}:${r.step}`
  );
  return ranges.join(",") + (spec.max === null ? "" : `%${spec.max}`);
}

/** How many tasks the array has. */
export function taskCount(spec: ArraySpec): number {
  return spec.ranges.reduce((n, r) => n + sizeOf(r), 0);
}

/**
 * The position (from 0) of task id `task` among the array's tasks, or null
 * when the array has no such task.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseArraySpec, taskPosition } from "./array_spec.ts";
 *
 * const spec = parseArraySpec("1-9:4,20");
 * assert.equal(taskPosition(spec, 5), 1);
 * assert.equal(taskPosition(spec, 20), 3);
 * assert.equal(taskPosition(spec, 6), null);
 * ```
 */
export function taskPosition(spec: ArraySpec, task: number): number | null {
  let before = 0;
  for (const r of spec.ranges) {
    if (task >= r.from && task <= r.to) {
      return (task - r.from) % r.step === 0 ? before + (task - r.from) / r.step : null;
    }
    before += sizeOf(r);
  }
  return null;
}

function sizeOf(r: TaskRange): number {
  return (r.to - r.from) / r.step + 1;
}
