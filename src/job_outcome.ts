/**
 * What a running job's end means: the state it ends in, its exit code and
 * the reason shown to people, from its executor's outcome and why (if at
 * all) the daemon was stopping it. Pure.
 *
 * @module
 */

import type { Outcome } from "./executor.ts";
import type { FinalState, StopCause } from "./job.ts";

/** A job's recorded end. */
export interface Ending {
  state: FinalState;
  /** The exit code (128 + the signal for a job a signal ended), or null. */
  exitCode: number | null;
  reason: string | null;
}

const SIGNAL_NAMES: Readonly<Record<number, string>> = {
  1: "SIGHUP",
  2: "SIGINT",
  3: "SIGQUIT",
  6: "SIGABRT",
  9: "SIGKILL",
  11: "SIGSEGV",
  13: "SIGPIPE",
  14: "SIGALRM",
  15: "SIGTERM",
};

/**
 * The end of a job that ran: a job the daemon was stopping ends as it meant
 * (K, or F for a timeout) whatever the signal did to it; otherwise exit 0 is
 * S, an `error` outcome E, anything else F.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { endingOf } from "./job_outcome.ts";
 *
 * assert.deepEqual(endingOf({ kind: "signal", signal: 9 }, null, null), {
 *   state: "F",
 *   exitCode: 137,
 *   reason: "ended by signal 9 (SIGKILL)",
 * });
 * assert.equal(endingOf({ kind: "signal", signal: 15 }, "kill", null).state, "K");
 * ```
 */
export function endingOf(
  outcome: Outcome,
  stopping: StopCause | null,
  timeout: number | null,
): Ending {
  // A signal's end is recorded as a shell reports it (128 + the signal), as it always was.
  const exitCode = outcome.kind === "exit"
    ? outcome.code
    : outcome.kind === "signal"
    ? 128 + outcome.signal
    : null;
  if (stopping === "timeout") {
    return { state: "F", exitCode, reason: `timed out after ${timeout} s` };
  }
  if (stopping !== null) {
    return {
      state: "K",
      exitCode,
      reason: stopping === "shutdown" ? "killed at shutdown" : "killed",
    };
  }
  switch (outcome.kind) {
    case "exit":
      return { state: outcome.code === 0 ? "S" : "F", exitCode, reason: outcome.reason ?? null };
    case "signal": {
      const name = SIGNAL_NAMES[outcome.signal];
      const reason = outcome.reason ??
        `ended by signal ${outcome.signal}${name === undefined ? "" : ` (${name})`}`;
      return { state: "F", exitCode, reason };
    }
    case "failed":
      return { state: "F", exitCode, reason: outcome.reason };
    case "error":
      return { state: "E", exitCode, reason: outcome.reason };
  }
}
