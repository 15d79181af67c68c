/**
 * Slurm's job states and what they mean for an sjq job (docs/slurm.md has
 * the table): parsing of `squeue`/`sacct` output and the outcome of a job
 * that Slurm reports as ended. Pure: no processes, no files.
 *
 * @module
 */

import type { Outcome } from "./executor.ts";

/** One job as `squeue`/`sacct` report it. */
export interface SlurmRow {
  slurmId: string;
  name: string;
  /** The base state word, e.g. `RUNNING`, `CANCELLED` (without `by <uid>`, `+`). */
  state: string;
  reason: string;
  /** The wait status (squeue) or `code:signal` (sacct), as printed. */
  exitCode: string;
}

/**
 * Final states in which the job did not end by itself: they override an
 * exit code of 0, with the reason people see.
 */
const ABNORMAL: Readonly<Record<string, string>> = {
  CANCELLED: "cancelled in Slurm",
  TIMEOUT: "Slurm's time limit passed (TIMEOUT)",
  OUT_OF_MEMORY: "out of memory (Slurm OUT_OF_MEMORY)",
  NODE_FAIL: "its node failed (Slurm NODE_FAIL)",
  BOOT_FAIL: "its node failed to boot (Slurm BOOT_FAIL)",
  PREEMPTED: "preempted by Slurm (PREEMPTED)",
  DEADLINE: "Slurm's deadline passed (DEADLINE)",
  REVOKED: "revoked by Slurm (REVOKED)",
  SPECIAL_EXIT: "Slurm SPECIAL_EXIT",
};

/**
 * Whether Slurm has the job in a final state. Every other state (PENDING,
 * RUNNING, COMPLETING, SUSPENDED, REQUEUED, …, and any word this list does
 * not know) keeps it in sjq's R.
 */
export function isFinalState(state: string): boolean {
  return state === "COMPLETED" || state === "FAILED" || state in ABNORMAL;
}

/**
 * Rows of `squeue -h -O 'JobID:|,Name:|,State:|,Reason:|,exit_code:|'`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSqueue } from "./slurm_states.ts";
 *
 * assert.deepEqual(parseSqueue("8|sjq-ab-3|FAILED|NonZeroExitCode|1792|\n"), [
 *   { slurmId: "8", name: "sjq-ab-3", state: "FAILED", reason: "NonZeroExitCode", exitCode: "1792" },
 * ]);
 * ```
 */
export function parseSqueue(text: string): SlurmRow[] {
  const rows: SlurmRow[] = [];
  for (const line of text.split("\n")) {
    const [slurmId = "", name = "", state = "", reason = "", exitCode = ""] = line.split("|");
    if (!/^\d+/.test(slurmId.trim())) continue;
    rows.push({
      slurmId: slurmId.trim(),
      name: name.trim(),
      state: baseState(state),
      reason: reason.trim(),
      exitCode: exitCode.trim(),
    });
  }
  return rows;
}

/**
 * Rows of `sacct -n -P -X -o JobID,JobName,State,Reason,ExitCode`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSacct } from "./slurm_states.ts";
 *
 * assert.equal(parseSacct("12|sjq-ab-3|CANCELLED by 0|None|0:15\n")[0]!.state, "CANCELLED");
 * ```
 */
export function parseSacct(text: string): SlurmRow[] {
  return parseSqueue(text);
}

/** `CANCELLED by 1000` → `CANCELLED`; `COMPLETING+` → `COMPLETING`. */
function baseState(text: string): string {
  return (text.trim().split(/\s+/)[0] ?? "").replace(/\+$/, "").toUpperCase();
}

/** A wait status (squeue's exit_code) or `code:signal` (sacct) as exit code and signal. */
export function parseExitCode(text: string): { code: number; signal: number } | null {
  let m = /^(\d+):(\d+)$/.exec(text);
  if (m) return { code: Number(m[1]), signal: Number(m[2]) };
  m = /^(\d+)$/.exec(text);
  if (!m) return null;
  const status = Number(m[1]);
  return { code: (status >> 8) & 0xff, signal: status & 0x7f };
}

/** What the job's wrapper wrote in its exit file (`exit N`, `error REASON`). */
export type ExitFile = { kind: "exit"; code: number } | { kind: "error"; reason: string };

/** Parses an exit file's text; null when it is not one. */
export function parseExitFile(text: string): ExitFile | null {
  const m = /^(?:exit (\d+)|error (.*))\n$/.exec(text);
  if (m === null) return null;
  return m[1] !== undefined
    ? { kind: "exit", code: Number(m[1]) }
    : { kind: "error", reason: m[2]! };
}

/**
 * How a job Slurm reports in a final state ended. The job's own record (its
 * exit file) gives the exit code; Slurm's exit code stands in without one.
 * CANCELLED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL and the other abnormal ends
 * override a zero.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { slurmOutcome } from "./slurm_states.ts";
 *
 * assert.deepEqual(slurmOutcome("COMPLETED", "0", { kind: "exit", code: 0 }), { kind: "exit", code: 0 });
 * assert.deepEqual(slurmOutcome("OUT_OF_MEMORY", "0:125", { kind: "exit", code: 0 }), {
 *   kind: "failed",
 *   reason: "out of memory (Slurm OUT_OF_MEMORY)",
 * });
 * ```
 */
export function slurmOutcome(state: string, exitCode: string, file: ExitFile | null): Outcome {
  if (file?.kind === "error") return { kind: "error", reason: file.reason };
  const abnormal = ABNORMAL[state];
  const slurm = parseExitCode(exitCode);
  const noFile = "no exit file from the job (is the spool on a filesystem the nodes share?)";
  if (abnormal !== undefined) {
    if (file !== null && file.code !== 0) {
      return { kind: "exit", code: file.code, reason: abnormal };
    }
    return { kind: "failed", reason: abnormal };
  }
  if (file !== null) return { kind: "exit", code: file.code };
  if (slurm !== null && slurm.signal !== 0 && slurm.code === 0) {
    return { kind: "signal", signal: slurm.signal, reason: noFile };
  }
  if (slurm !== null) {
    if (state === "FAILED" && slurm.code === 0) {
      return { kind: "failed", reason: `Slurm FAILED; ${noFile}` };
    }
    return { kind: "exit", code: slurm.code, reason: noFile };
  }
  return state === "COMPLETED"
    ? { kind: "exit", code: 0, reason: noFile }
    : { kind: "failed", reason: `Slurm ${state}; ${noFile}` };
}
