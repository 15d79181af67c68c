/**
 * What a path is, as the shell's `test -e`, `-d` and `-x` say, and whether a
 * `#!` line's interpreter can be exec'd: the checks the daemon, the
 * shepherd and the supervisors make before they run something.
 *
 * @module
 */

/** Whether anything is at `path` (following links). */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether `path` is a directory (following links). */
export function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** Whether `path` is a file with an execute bit set. */
export function isExecutable(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && ((st.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * Why a script whose first line is `firstLine` (`#!` and the rest) cannot be
 * exec'd, its interpreter missing, or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { interpreterProblem } from "./file_tests.ts";
 *
 * assert.equal(interpreterProblem("#!/bin/sh -e"), null);
 * assert.equal(interpreterProblem("#!  "), "empty #! line");
 * ```
 */
export function interpreterProblem(firstLine: string): string | null {
  const interpreter = firstLine.slice(2).trim().split(/\s+/)[0] ?? "";
  if (interpreter === "") return "empty #! line";
  return isExecutable(interpreter)
    ? null
    : `interpreter not found or not executable: ${interpreter}`;
}
