/**
 * Durations past 2³¹−1 ms (about 24.8 days): `setTimeout` fires them at
 * once, so every configurable duration must go through src/long_timer.ts
 * (issue 8, item 6). Each test checks that nothing happens early: it watches
 * for a short while (there is no event to wait for when the point is that
 * none comes).
 *
 * @module
 */

import assert from "node:assert/strict";
import { tempDir, TestDaemon, waitFor } from "./harness.ts";
import { processCpuMs } from "./inspect.ts";

const THIRTY_DAYS = String(30 * 86400);

/** Watches `ms` for `happened` to become true; returns whether it did. */
async function happensWithin(ms: number, happened: () => boolean | Promise<boolean>) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await happened()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return await happened();
}

Deno.test("long durations: a job with a 30-day TIMEOUT runs to its end", async () => {
  await using d = await TestDaemon.start();
  await using tmp = await tempDir();
  using c = await d.connect();
  const id = /^OK (\d+)/.exec(
    await c.submit("#!/bin/sh\nsleep 1\nexit 0\n", { TIMEOUT: THIRTY_DAYS, CWD: tmp.path }),
  )?.[1];
  assert.ok(id);
  assert.equal(await c.waitState(Number(id), "SFAKE"), "S", "not killed as timed out");
});

Deno.test("long durations: --waittime 30d does not make an idle daemon exit at once", async () => {
  await using d = await TestDaemon.start({ args: ["--waittime", "30d"] });
  assert.equal(await happensWithin(1500, () => d.exitedCode !== undefined), false, d.stderr);
  using c = await d.connect();
  assert.equal(await c.request("PING\r\n"), "OK \r\n");
});

Deno.test("long durations: --killgrace 30d sends one SIGTERM, not one every millisecond", async () => {
  await using d = await TestDaemon.start({ args: ["--killgrace", "30d"] });
  await using tmp = await tempDir();
  using c = await d.connect();
  const terms = `${tmp.path}/terms`;
  // Counts the SIGTERMs it gets and ignores them; SIGKILL would come after the grace.
  const script = `#!/bin/sh\ntrap 'echo TERM >> ${terms}' TERM\n: > ${tmp.path}/ready\n` +
    `while :; do sleep 0.05; done\n`;
  const id = Number(/^OK (\d+)/.exec(await c.submit(script, { CWD: tmp.path }))?.[1]);
  await waitFor(() => Deno.stat(`${tmp.path}/ready`).then(() => true), "the job to start");
  assert.equal(await c.request(`KILL ${id}\r\n`), "OK\r\n");
  await waitFor(() => Deno.stat(terms).then(() => true), "the first SIGTERM");
  const count = async () => (await Deno.readTextFile(terms)).split("\n").filter(Boolean).length;
  assert.equal(await happensWithin(1500, async () => await count() > 1), false, "one SIGTERM");
  assert.equal(await c.state(id), "R", "still in its grace time");
});

Deno.test("long durations: --schedtime 30d does not run the safety-net sweep every millisecond", async () => {
  await using d = await TestDaemon.start({
    args: ["--autoshutdown", "F"],
    rc: "sjq.schedtime = 30d\n",
  });
  using c = await d.connect();
  for (const when of ["at start", "after a reload"]) {
    if (when === "after a reload") {
      // A reload sets the interval again (from 10 s to 30 days here).
      for (const schedtime of ["10s", "30d"]) {
        await Deno.writeTextFile(`${d.home}/.sjqrc`, `sjq.schedtime = ${schedtime}\n`);
        const head = await c.request("RELOAD\r\n");
        const text = new TextDecoder().decode(await c.bytes(Number(/^OK (\d+)/.exec(head)![1])));
        assert.match(text, new RegExp(`sjq.schedtime = ${schedtime}`), text);
      }
    }
    const before = processCpuMs(d.pid).self / 1000;
    await new Promise((r) => setTimeout(r, 4000));
    const used = processCpuMs(d.pid).self / 1000 - before;
    // An idle daemon uses no CPU to speak of (0.00 s measured); a sweep every millisecond, 0.12 s.
    assert.ok(used < 0.05, `${when}: the idle daemon used ${used.toFixed(2)} s of CPU in 4 s`);
  }
});

Deno.test("long durations: sjq wait --timeout 30d waits", async () => {
  await using d = await TestDaemon.start();
  await using tmp = await tempDir();
  using c = await d.connect();
  const id = /^OK (\d+)/.exec(await c.submit("#!/bin/sh\nsleep 1\n", { CWD: tmp.path }))?.[1];
  const r = await d.cli(["wait", "--timeout", THIRTY_DAYS, id!]);
  assert.equal(r.code, 0, r.stderr);
});
