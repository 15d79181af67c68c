/**
 * `sjq shutdown` says what becomes of running jobs: a plain shutdown leaves
 * them to the next daemon, `--kill` kills them, `--drain` waits for them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TestDaemon, waitFor } from "./harness.ts";
import { alive, infoOf, jobId } from "./inspect.ts";

const ARGS = ["--maxprocs", "2", "--autoshutdown", "F"];

/** A job that writes its pid to `<dir>/<tag>.pid` and runs until killed. */
function forever(dir: string, tag: string): string {
  return `echo $$ > ${dir}/${tag}.pid\nwhile :; do sleep 0.05; done\n`;
}

async function pidOf(dir: string, tag: string): Promise<number> {
  return Number(
    await waitFor(
      () => Deno.readTextFile(`${dir}/${tag}.pid`).then((t) => t.trim()),
      `job ${tag}'s pid`,
    ),
  );
}

Deno.test("sjq shutdown leaves running jobs running and says so", async () => {
  await using d1 = await TestDaemon.start({ args: ARGS });
  const dir = d1.home;
  using c1 = await d1.connect();
  const id = jobId(await c1.submit(forever(dir, "job")));
  const pid = await pidOf(dir, "job");
  const out = await d1.cli(["shutdown"]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stderr, /1 running job goes on \(the next daemon adopts it\)/);
  await d1.exited();
  assert.ok(alive(pid), "the job survives a plain shutdown");
  await using d2 = await TestDaemon.start({ home: dir, args: ARGS });
  using c2 = await d2.connect();
  assert.equal(await c2.state(id), "R");
  assert.equal((await infoOf(c2, id)).pid !== null, true);
});

Deno.test("sjq shutdown --kill kills running jobs (K) and says so", async () => {
  await using d1 = await TestDaemon.start({ args: ARGS });
  const dir = d1.home;
  using c1 = await d1.connect();
  const id = jobId(await c1.submit(forever(dir, "job")));
  const pid = await pidOf(dir, "job");
  const out = await d1.cli(["shutdown", "--kill"]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stderr, /killing 1 running job \(ending in K\)/);
  await d1.exited();
  assert.ok(!alive(pid), "the job was killed");
  await using d2 = await TestDaemon.start({ home: dir, args: ARGS });
  using c2 = await d2.connect();
  const job = await infoOf(c2, id);
  assert.equal(job.state, "K");
  assert.equal(job.reason, "killed at shutdown");
});

Deno.test("sjq shutdown: --kill and --drain exclude each other; nothing stops", async () => {
  await using d = await TestDaemon.start({ args: ARGS });
  const out = await d.cli(["shutdown", "--kill", "--drain"]);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /^error: --kill and --drain exclude each other/);
  using c = await d.connect();
  assert.match(await c.request("PING\r\n"), /^OK/);
});
