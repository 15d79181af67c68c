/**
 * End-to-end test of notifications: `--notify CMD` runs once per end, after
 * the end is recorded, with the job's id, name, state and exit code in its
 * environment, also for a job aborted by its dependency.
 */

import assert from "node:assert/strict";
import { TestDaemon, waitFor } from "./harness.ts";

Deno.test("--notify runs a command when a job ends, with SJQ_JOB_ID, name, state and exit code", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2"] });
  const dir = `${d.home}/work`;
  await Deno.mkdir(dir);
  const notify =
    `echo "$SJQ_JOB_ID $SJQ_JOB_NAME $SJQ_JOB_STATE $SJQ_JOB_STATE_NAME [$SJQ_JOB_EXIT_CODE]" >> notes`;
  const submit = async (...args: string[]) => {
    const out = await d.cli(["submit", "--notify", notify, ...args], { cwd: dir });
    assert.equal(out.code, 0, out.stderr);
    return Number(out.stdout);
  };
  const good = await submit("-n", "good", "--wrap", "true");
  const bad = await submit("-n", "bad", "--wrap", "exit 3");
  const aborted = await submit("-n", "aborted", "--after", String(bad), "--wrap", "true");
  const expected = [
    `${good} good S success [0]`,
    `${bad} bad F failed [3]`,
    `${aborted} aborted A aborted []`,
  ];
  const lines = await waitFor(async () => {
    const text = await Deno.readTextFile(`${dir}/notes`).catch(() => "");
    const got = text.trim().split("\n").filter((l) => l !== "");
    return got.length >= 3 ? got : undefined;
  }, "three notifications");
  assert.deepEqual(lines.sort(), expected.sort());
  const refused = await d.cli(["submit", "--notify", "", "--wrap", "true"], { cwd: dir });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Bad NOTIFY value/);
});
