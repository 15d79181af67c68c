/**
 * End-to-end test of priorities: `--priority N` and `--urgent` move jobs
 * ahead of lower ones, in submit order among equals, and a job too big for
 * what is free is still skipped for smaller ones behind it.
 */

import assert from "node:assert/strict";
import type { JobInfo } from "../src/info.ts";
import { TestDaemon } from "./harness.ts";

Deno.test("--priority and --urgent order the queue; skipping still fills free CPUs", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2"] });
  const dir = `${d.home}/work`;
  await Deno.mkdir(dir);
  const submit = async (...args: string[]) => {
    const out = await d.cli(["submit", ...args], { cwd: dir });
    assert.equal(out.code, 0, out.stderr);
    return Number(out.stdout);
  };
  const run = (name: string) => `echo ${name} >> ledger`;
  const blocker = await submit("-p", "2", "--wrap", "while [ ! -e go ]; do sleep 0.02; done");
  const plain = await submit("--wrap", run("plain"));
  const low = await submit("--priority=-1", "--wrap", run("low"));
  const high = await submit("--priority", "5", "--wrap", run("high"));
  const big = await submit("--urgent", "-p", "2", "--wrap", `${run("big")}; sleep 0.3`);
  const alsoPlain = await submit("--wrap", run("alsoPlain"));
  await Deno.writeTextFile(`${dir}/go`, "");
  assert.equal(
    (await d.cli(["wait", ...[blocker, plain, low, high, big, alsoPlain].map(String)])).code,
    0,
  );
  const ledger = (await Deno.readTextFile(`${dir}/ledger`)).trim().split("\n");
  assert.equal(ledger[0], "big", "the urgent job first, although it needs both CPUs");
  // Then two at a time: high with plain, then alsoPlain with low (the pair that starts in
  // one pass writes the ledger in either order).
  const pair = (i: number) => ledger.slice(i, i + 2).sort();
  assert.deepEqual(pair(1), ["high", "plain"]);
  assert.deepEqual(pair(3), ["alsoPlain", "low"]);
  assert.equal(ledger.length, 5);
  const jobs = JSON.parse((await d.cli(["status", "--json"])).stdout) as JobInfo[];
  assert.deepEqual(jobs.map((j) => j.priority), [0, 0, -1, 5, 1000, 0]);
  const bad = await d.cli(["submit", "--priority", "2000", "--wrap", "true"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Bad PRIORITY value "2000"/);
});
