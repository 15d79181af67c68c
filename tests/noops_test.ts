/**
 * End-to-end tests of commands that change nothing: hold of a running or
 * ended job, release of an unknown or unheld one, kill of an ended one say
 * so on stderr (exit 0); the daemon says so in words after OK, which the
 * original client's `line[:2] == "OK"` still reads as success. `sjq clean`
 * says how many jobs it forgot and takes the state words of status.
 */

import assert from "node:assert/strict";
import { Bench } from "./gated_jobs.ts";
import { TestDaemon } from "./harness.ts";

Deno.test("hold, release and kill that change nothing say so; clean says how many", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "1"] });
  await using b = await Bench.open(d);
  const running = await b.gate();
  await b.client.waitState(running, "R");
  const queued = await b.submit("true\n");

  const hold = await d.cli(["hold", String(running), String(queued)]);
  assert.equal(hold.code, 0, hold.stderr);
  assert.equal(
    hold.stderr,
    `sjq: job ${running} is running: only queued or waiting jobs can be held\n`,
  );
  const again = await d.cli(["hold", String(queued)]);
  assert.equal(again.stderr, `sjq: job ${queued} is held already\n`);
  const release = await d.cli(["release", "777", String(running)]);
  assert.equal(release.code, 0);
  assert.equal(
    release.stderr,
    `sjq: job 777: no such job, nothing to release\nsjq: job ${running} is running, not held: nothing to release\n`,
  );
  await b.open(running, 3);
  await b.client.waitState(running, "F");
  const kill = await d.cli(["kill", String(running)]);
  assert.equal(kill.code, 0);
  assert.equal(kill.stderr, `sjq: job ${running} has already ended (failed): nothing to kill\n`);
  // The original client reads the first two bytes.
  const raw = await b.client.request(`KILL ${running}\r\n`);
  assert.equal(raw.slice(0, 2), "OK");

  const bad = await d.cli(["clean", "--state", "running"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bad state "running": clean forgets ended jobs only/);
  const clean = await d.cli(["clean", "--state", "failed,S"]);
  assert.equal(clean.code, 0, clean.stderr);
  assert.equal(clean.stdout, "1\n");
  assert.equal(clean.stderr, "sjq: forgot 1 ended job\n");
});
