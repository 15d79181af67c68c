/**
 * End-to-end test of priorities: `--priority N` and `--urgent` move jobs
 * ahead of lower ones, in submit order among equals, and a job too big for
 * what is free is still skipped for smaller ones behind it.
 *
 * Each job records its start in a ledger and then waits for its own gate
 * file, so the jobs that may start at each step are exactly those the
 * scheduler gives the CPUs the test frees: the ledger's order is the
 * scheduler's, not the order in which the shells happen to get the CPU.
 */

import assert from "node:assert/strict";
import type { JobInfo } from "../src/info.ts";
import { TestDaemon, waitFor } from "./harness.ts";

Deno.test("--priority and --urgent order the queue; skipping still fills free CPUs", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2"] });
  const dir = `${d.home}/work`;
  await Deno.mkdir(dir);
  const submit = async (...args: string[]) => {
    const out = await d.cli(["submit", ...args], { cwd: dir });
    assert.equal(out.code, 0, out.stderr);
    return Number(out.stdout);
  };
  /** A job that records `name` in the ledger, then waits for the file `go.<name>`. */
  const run = (name: string) =>
    `echo ${name} >> ledger; while [ ! -e go.${name} ]; do sleep 0.02; done`;
  const open = (name: string) => Deno.writeTextFile(`${dir}/go.${name}`, "");
  const ledger = async () =>
    (await Deno.readTextFile(`${dir}/ledger`).catch(() => "")).split("\n").filter((l) => l !== "");
  /** Waits for `n` starts in all, then returns the ledger. */
  const started = async (n: number) => {
    await waitFor(async () => (await ledger()).length >= n, `${n} jobs to start`);
    return await ledger();
  };
  const blocker = await submit("-p", "2", "--wrap", run("blocker"));
  await started(1);
  const plain = await submit("--wrap", run("plain"));
  const low = await submit("--priority=-1", "--wrap", run("low"));
  const high = await submit("--priority", "5", "--wrap", run("high"));
  const big = await submit("--urgent", "-p", "2", "--wrap", run("big"));
  const alsoPlain = await submit("--wrap", run("alsoPlain"));
  await open("blocker");
  assert.deepEqual(
    await started(2),
    ["blocker", "big"],
    "the urgent job first, although it needs both CPUs",
  );
  await open("big");
  // Then two at a time: high with plain (they start in one pass, and write the ledger in either order)...
  const third = await started(4);
  assert.deepEqual(third.slice(2).sort(), ["high", "plain"]);
  // ...then one CPU free at a time: wide, first in the queue, needs both and is skipped for
  // alsoPlain (ahead of low), then for low; it starts when both are free.
  const wide = await submit("--priority", "10", "-p", "2", "--wrap", run("wide"));
  await open("high");
  assert.deepEqual((await started(5)).slice(4), ["alsoPlain"]);
  await open("plain");
  assert.deepEqual((await started(6)).slice(5), ["low"]);
  await open("alsoPlain");
  await open("low");
  assert.deepEqual((await started(7)).slice(6), ["wide"]);
  await open("wide");
  const all = [blocker, plain, low, high, big, alsoPlain, wide];
  assert.equal((await d.cli(["wait", ...all.map(String)])).code, 0);
  assert.equal((await ledger()).length, 7, "each job ran once");
  const jobs = JSON.parse((await d.cli(["status", "--json"])).stdout) as JobInfo[];
  assert.deepEqual(jobs.map((j) => j.priority), [0, 0, -1, 5, 1000, 0, 10]);
  const bad = await d.cli(["submit", "--priority", "2000", "--wrap", "true"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Bad PRIORITY value "2000"/);
});
