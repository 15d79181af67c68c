import assert from "node:assert/strict";
import {
  isFinalState,
  parseExitCode,
  parseExitFile,
  parseSacct,
  parseSqueue,
  slurmOutcome,
} from "./slurm_states.ts";

Deno.test("parseSqueue: rows of squeue -O, headers and blank lines skipped, states normalized", () => {
  const text =
    "JOBID|NAME|STATE|REASON|EXIT_CODE|\n7|sjq-ab-1|RUNNING|None|0|\n\n8|sjq-ab-2|completing+|None|0|\n";
  assert.deepEqual(parseSqueue(text).map((r) => [r.slurmId, r.name, r.state]), [
    ["7", "sjq-ab-1", "RUNNING"],
    ["8", "sjq-ab-2", "COMPLETING"],
  ]);
  assert.equal(parseSacct("9|sjq-ab-3|CANCELLED by 1000|None|0:15\n")[0]!.state, "CANCELLED");
});

Deno.test("parseExitCode: squeue's wait status and sacct's code:signal", () => {
  assert.deepEqual(parseExitCode("1792"), { code: 7, signal: 0 });
  assert.deepEqual(parseExitCode("9"), { code: 0, signal: 9 });
  assert.deepEqual(parseExitCode("2:0"), { code: 2, signal: 0 });
  assert.equal(parseExitCode(""), null);
});

Deno.test("parseExitFile: exit and error lines; anything else is not one yet", () => {
  assert.deepEqual(parseExitFile("exit 3\n"), { kind: "exit", code: 3 });
  assert.deepEqual(parseExitFile("error cannot enter x\n"), {
    kind: "error",
    reason: "cannot enter x",
  });
  assert.equal(parseExitFile("exit 3"), null);
});

Deno.test("isFinalState: final states end the job; every other word keeps it running", () => {
  for (
    const s of [
      "COMPLETED",
      "FAILED",
      "CANCELLED",
      "TIMEOUT",
      "OUT_OF_MEMORY",
      "NODE_FAIL",
      "PREEMPTED",
    ]
  ) {
    assert.ok(isFinalState(s), s);
  }
  for (const s of ["PENDING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "SOMETHING_NEW"]) {
    assert.ok(!isFinalState(s), s);
  }
});

Deno.test("slurmOutcome: the exit file's code; abnormal ends override a zero", () => {
  const exit = (code: number) => ({ kind: "exit" as const, code });
  assert.deepEqual(slurmOutcome("COMPLETED", "0", exit(0)), { kind: "exit", code: 0 });
  assert.deepEqual(slurmOutcome("FAILED", "1280", exit(5)), { kind: "exit", code: 5 });
  assert.deepEqual(slurmOutcome("TIMEOUT", "0", exit(0)), {
    kind: "failed",
    reason: "Slurm's time limit passed (TIMEOUT)",
  });
  assert.deepEqual(slurmOutcome("OUT_OF_MEMORY", "0:125", null).kind, "failed");
  assert.deepEqual(slurmOutcome("NODE_FAIL", "0", null).kind, "failed");
  assert.deepEqual(slurmOutcome("CANCELLED", "15", exit(143)), {
    kind: "exit",
    code: 143,
    reason: "cancelled in Slurm",
  });
  assert.deepEqual(slurmOutcome("FAILED", "0", { kind: "error", reason: "no cwd" }), {
    kind: "error",
    reason: "no cwd",
  });
});

Deno.test("slurmOutcome without an exit file: Slurm's code, with a hint about the shared spool", () => {
  const noFile = slurmOutcome("FAILED", "32512", null);
  assert.equal(noFile.kind, "exit");
  assert.equal(noFile.kind === "exit" && noFile.code, 127);
  assert.match(noFile.kind === "exit" ? noFile.reason ?? "" : "", /shared|share/);
  assert.deepEqual(slurmOutcome("FAILED", "9", null).kind, "signal");
  assert.equal(slurmOutcome("FAILED", "0", null).kind, "failed");
  assert.equal(slurmOutcome("COMPLETED", "", null).kind, "exit");
});
