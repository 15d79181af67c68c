import assert from "node:assert/strict";
import { endingOf } from "./job_outcome.ts";

Deno.test("endingOf: exit codes, signals, start errors and lost jobs", () => {
  assert.deepEqual(endingOf({ kind: "exit", code: 0 }, null, null), {
    state: "S",
    exitCode: 0,
    reason: null,
  });
  assert.deepEqual(endingOf({ kind: "exit", code: 3 }, null, null).state, "F");
  assert.deepEqual(endingOf({ kind: "signal", signal: 9 }, null, null), {
    state: "F",
    exitCode: 137,
    reason: "ended by signal 9 (SIGKILL)",
  });
  assert.deepEqual(endingOf({ kind: "error", reason: "cannot start: x" }, null, null), {
    state: "E",
    exitCode: null,
    reason: "cannot start: x",
  });
  assert.equal(endingOf({ kind: "failed", reason: "lost: y" }, null, null).state, "F");
});

Deno.test("endingOf: a job the daemon was stopping ends as it meant", () => {
  const term = { kind: "signal", signal: 15 } as const;
  assert.deepEqual(endingOf(term, "kill", null), { state: "K", exitCode: 143, reason: "killed" });
  assert.equal(endingOf(term, "shutdown", null).reason, "killed at shutdown");
  assert.deepEqual(endingOf({ kind: "exit", code: 0 }, "timeout", 5), {
    state: "F",
    exitCode: 0,
    reason: "timed out after 5 s",
  });
});
