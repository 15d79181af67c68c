/**
 * `sjq clean` end to end: its `--state` and `--older-than` filters, ids that
 * are never given out again, and `sjq.keepdone`, which cleans by itself.
 *
 * @module
 */

import assert from "node:assert";
import { DatabaseSync } from "node:sqlite";
import { type RawClient, TestDaemon, waitFor } from "./harness.ts";
import { info, jobId } from "./inspect.ts";

const ARGS = ["--maxprocs", "2", "--autoshutdown", "F"];

/** The ids STATUS lists. */
async function ids(c: RawClient): Promise<number[]> {
  return (await c.status()).map((row) => Number(row[0]));
}

/** Submits a script and waits for the job to end in `state`; returns its id. */
async function ended(c: RawClient, script: string, state: string): Promise<number> {
  const id = jobId(await c.submit(script));
  assert.equal(await c.waitState(id, "SFAKE"), state);
  return id;
}

/** Moves a job's end `ms` into the past, straight in the database of a daemon using `home`. */
function backdate(home: string, id: number, ms: number): void {
  const db = new DatabaseSync(`${home}/.sjq.db`);
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    db.prepare("UPDATE jobs SET ended = ended - ? WHERE id = ?").run(ms, id);
  } finally {
    db.close();
  }
}

Deno.test("sjq clean: --state and --older-than choose the ended jobs to forget; ids stay unique", async () => {
  await using d = await TestDaemon.start({ args: ARGS });
  using c = await d.connect();
  const ok = await ended(c, "true\n", "S");
  const failed = await ended(c, "exit 1\n", "F");
  const aborted = jobId(await c.submit("true\n", { DEPENDS: String(failed) }));
  const killed = jobId(await c.submit("true\n", { HOLD: "1" }));
  assert.equal(await c.request(`KILL ${killed}\r\n`), "OK\r\n");
  const old = await ended(c, "true\n", "S");
  const held = jobId(await c.submit("true\n", { HOLD: "1" }));
  const last = await ended(c, "exit 2\n", "F");
  assert.deepEqual(
    (await info(c)).map((j) => j.state),
    ["S", "F", "A", "K", "S", "U", "F"],
  );

  assert.deepEqual(await d.cli(["clean", "--state", "F"]), {
    code: 0,
    stdout: "2\n",
    stderr: "sjq: forgot 2 ended jobs\n",
  });
  assert.deepEqual(await ids(c), [ok, aborted, killed, old, held]);

  backdate(d.home, old, 2 * 3600_000);
  assert.equal((await d.cli(["clean", "--older-than", "1h"])).stdout, "1\n");
  assert.deepEqual(await ids(c), [ok, aborted, killed, held]);

  assert.equal((await d.cli(["clean", "--state", "a,K"])).stdout, "2\n");
  assert.deepEqual(await ids(c), [ok, held]);

  const bad = await d.cli(["clean", "--state", "R"]);
  assert.equal(bad.code, 2, "a usage error, in the words of status --state");
  assert.match(bad.stderr, /bad state "running": clean forgets ended jobs only/);
  assert.equal((await d.cli(["clean", "--older-than", "3x"])).code, 2);

  assert.equal((await d.cli(["clean"])).stdout, "1\n");
  assert.deepEqual(await ids(c), [held], "jobs that have not ended are never cleaned");
  const next = jobId(await c.submit("true\n"));
  assert.equal(next, last + 1, "the ids of cleaned jobs are not given out again");
});

Deno.test("sjq.keepdone: ended jobs older than it disappear by themselves", async () => {
  await using d1 = await TestDaemon.start({ args: ARGS });
  using c1 = await d1.connect();
  await ended(c1, "true\n", "S");
  await ended(c1, "exit 3\n", "F");
  const held = jobId(await c1.submit("true\n", { HOLD: "1" }));
  const endedAt = Math.max(
    ...(await info(c1)).flatMap((j) => j.ended ? [Date.parse(j.ended)] : []),
  );
  await d1.crash();
  // The sweep cleans at most once a minute, the first time soon after the start: the jobs
  // must be past sjq.keepdone by then.
  await waitFor(() => Date.now() - endedAt > 1000, "the jobs to be older than a second");

  const args = [...ARGS, "--keepdone", "1s", "--schedtime", "0.2"];
  await using d2 = await TestDaemon.start({ home: d1.home, args });
  using c2 = await d2.connect();
  await waitFor(async () => (await ids(c2)).length === 1, "the ended jobs to be cleaned");
  assert.deepEqual(await ids(c2), [held]);
  assert.equal(jobId(await c2.submit("true\n", { HOLD: "1" })), held + 1);
  assert.match(d2.stderr, /cleaned 2 ended jobs/);
});
