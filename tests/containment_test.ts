/**
 * Containment (sjq.contain): processes a job started that left its process
 * group or session (`setsid`, a double fork, `sleep &`) end with the job,
 * and KILL reaches them while it runs; with sjq.contain off they are left.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TestDaemon, waitFor } from "./harness.ts";
import { alive, jobId } from "./inspect.ts";

const ENDS_MS = 30_000;

/** A job that starts three escapees (their pids in `<dir>/<tag>.pids`), then waits for `<dir>/<tag>.go`. */
function escaping(dir: string, tag: string): string {
  return `sleep 300 &\necho $! >> ${dir}/${tag}.pids\n` +
    `setsid sh -c 'echo $$ >> ${dir}/${tag}.pids; exec sleep 300' &\n` +
    `sh -c 'sleep 300 & echo $! >> ${dir}/${tag}.pids' &\n` +
    `while [ "$(wc -l < ${dir}/${tag}.pids)" -lt 3 ]; do sleep 0.02; done\n` +
    `while [ ! -e ${dir}/${tag}.go ]; do sleep 0.02; done\n`;
}

async function pidsOf(dir: string, tag: string): Promise<number[]> {
  return await waitFor(async () => {
    const text = await Deno.readTextFile(`${dir}/${tag}.pids`).catch(() => "");
    const pids = text.split("\n").filter((l) => l !== "").map(Number);
    return pids.length >= 3 ? pids : undefined;
  }, `job ${tag}'s escapees`);
}

Deno.test("containment: what escaped a job's group or session ends when the job ends", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2"] });
  const dir = d.home;
  using c = await d.connect();
  const id = jobId(await c.submit(escaping(dir, "ends"), { CWD: dir }));
  const pids = await pidsOf(dir, "ends");
  assert.ok(pids.every(alive), "the escapees run");
  await Deno.writeTextFile(`${dir}/ends.go`, "");
  assert.equal(await c.waitState(id, "SFAKE", ENDS_MS), "S");
  await waitFor(() => pids.every((p) => !alive(p)), "every escapee to end with the job");
});

Deno.test("containment: KILL reaches what left the job's group or session", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2", "--killgrace", "1"] });
  const dir = d.home;
  using c = await d.connect();
  const id = jobId(await c.submit(escaping(dir, "kill"), { CWD: dir }));
  const pids = await pidsOf(dir, "kill");
  assert.equal(await c.request(`KILL ${id}\r\n`), "OK\r\n");
  assert.equal(await c.waitState(id, "SFAKE", ENDS_MS), "K");
  await waitFor(() => pids.every((p) => !alive(p)), "every escapee to be killed");
});

Deno.test("containment: with sjq.contain off escapees are left running", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2", "--contain", "F"] });
  const dir = d.home;
  using c = await d.connect();
  const id = jobId(await c.submit(escaping(dir, "off"), { CWD: dir }));
  const pids = await pidsOf(dir, "off");
  await Deno.writeTextFile(`${dir}/off.go`, "");
  assert.equal(await c.waitState(id, "SFAKE", ENDS_MS), "S");
  // The job's end is recorded; give a containment that should not happen its chance to.
  const later = Date.now() + 1500;
  await waitFor(() => Date.now() > later || !pids.every(alive), "a moment");
  assert.ok(pids.every(alive), "nothing was ended");
  for (const p of pids) Deno.kill(p, "SIGKILL");
});

Deno.test("containment: KILL of job 1 never touches another daemon's job 1", async () => {
  await using mine = await TestDaemon.start({ args: ["--killgrace", "1"] });
  await using other = await TestDaemon.start();
  using c = await mine.connect();
  using o = await other.connect();
  const dir = other.home;
  const theirs = jobId(await o.submit(escaping(dir, "theirs"), { CWD: dir }));
  const pids = await pidsOf(dir, "theirs");
  const id = jobId(await c.submit("#!/bin/sh\nsleep 300\n", { CWD: mine.home }));
  assert.equal(id, theirs, "both daemons gave out the same id");
  await c.waitState(id, "R", ENDS_MS);
  assert.equal(await c.request(`KILL ${id}\r\n`), "OK\r\n");
  assert.equal(await c.waitState(id, "SFAKE", ENDS_MS), "K");
  assert.equal(await o.state(theirs), "R", "the other daemon's job still runs");
  assert.ok(pids.every(alive), "the other daemon's job and its escapees still run");
  await Deno.writeTextFile(`${dir}/theirs.go`, "");
  assert.equal(await o.waitState(theirs, "SFAKE", ENDS_MS), "S");
});
