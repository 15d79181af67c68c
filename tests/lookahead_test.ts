/**
 * Lookahead (docs/durability.md): with a backlog, jobs marked R ahead of a
 * busy slot are handed to the shepherd, which starts them the moment a job
 * ends, without the daemon: here the daemon (root, as the tests run) is
 * stopped while they start.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TestDaemon, waitFor } from "./harness.ts";
import { Bench, RUN } from "./gated_jobs.ts";

Deno.test("lookahead: the shepherd starts the jobs held ahead as jobs end, while the daemon is stopped", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "1", "--autoshutdown", "F"] });
  await using b = await Bench.open(d);
  const gate = await b.gate();
  await b.waitLedger([gate]);
  const queued: number[] = [];
  for (let i = 0; i < 40; i++) queued.push(await b.submit(RUN));
  // One job runs; four are marked R ahead of its slot (a backlog of 32 or more).
  await waitFor(async () => (await b.counts()).R === 5, "four jobs to be marked ahead");
  // A request answered after that: the starts of the jobs ahead went out before its reply.
  await b.request("PING");
  Deno.kill(d.pid, "SIGSTOP");
  try {
    await b.open(gate);
    await waitFor(async () => (await b.ledger()).length >= 5, "the jobs held ahead to run");
    assert.deepEqual(await b.ledger(), [gate, ...queued.slice(0, 4)], "only those, in order");
  } finally {
    Deno.kill(d.pid, "SIGCONT");
  }
  await waitFor(async () => (await b.counts()).S === 41, "every job to end");
  assert.deepEqual(await b.ledger(), [gate, ...queued], "each job ran once, in order");
  const states = await b.states();
  assert.ok(Object.values(states).every((s) => s === "S"), JSON.stringify(states));
});
