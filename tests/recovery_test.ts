/**
 * Recovery settles job by job: a restarted daemon finds each of its earlier
 * jobs damaged in a different way, and every one of them is settled (or
 * goes on) without keeping the others from being recovered. Nothing stays
 * R, H or U with nothing behind it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { type RawClient, TestDaemon, waitFor } from "./harness.ts";
import { alive, info, infoOf, jobId } from "./inspect.ts";
import { groupOf } from "../src/processes.ts";

const ARGS = ["--maxprocs", "8", "--autoshutdown", "F"];
const ENDS_MS = 30_000;

/** A job that writes its pid to `<dir>/<tag>.pid`, waits for `<dir>/<tag>.go`, then exits `code`. */
function gated(dir: string, tag: string, code: number): string {
  return `echo $$ > ${dir}/${tag}.pid\n` +
    `while [ ! -e ${dir}/${tag}.go ]; do sleep 0.05; done\nexit ${code}\n`;
}

async function pidOf(dir: string, tag: string): Promise<number> {
  const text = await waitFor(
    () => Deno.readTextFile(`${dir}/${tag}.pid`).then((t) => t.trim()).catch(() => ""),
    `job ${tag} to start`,
  );
  return Number(text);
}

/** Runs SQL on the database of a stopped daemon using `home`. */
function sql(home: string, text: string): void {
  const db = new DatabaseSync(`${home}/.sjq.db`);
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec(text);
  } finally {
    db.close();
  }
}

/** Every process of this machine whose process group is `pgid`. */
function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    if (groupOf(Number(e.name)) === pgid) pids.push(Number(e.name));
  }
  return pids;
}

async function ended(c: RawClient, id: number): Promise<string> {
  return await c.waitState(id, "SFAKE", ENDS_MS);
}

Deno.test("recovery: each restored job has a different fault; each is settled on its own", async () => {
  await using d1 = await TestDaemon.start({ args: ARGS });
  const dir = d1.home;
  using c1 = await d1.connect();
  // A dependency that ends in S and is then forgotten by CLEAN.
  const cleaned = jobId(await c1.submit("true\n"));
  assert.equal(await ended(c1, cleaned), "S");
  const afterCleaned = jobId(await c1.submit("true\n", { DEPENDS: String(cleaned), HOLD: "1" }));
  const afterLost = jobId(await c1.submit("true\n", { DEPENDS: String(cleaned), HOLD: "1" }));
  await waitFor(
    async () => (await c1.request("CLEAN 0 S\r\n")) === "OK 1\r\n",
    "CLEAN to forget the dependency",
  );
  const endsMeanwhile = jobId(await c1.submit(gated(dir, "meanwhile", 5)));
  const goesOn = jobId(await c1.submit(gated(dir, "on", 0)));
  const vanishes = jobId(await c1.submit(gated(dir, "vanish", 0)));
  const killPending = jobId(await c1.submit(gated(dir, "kill", 0)));
  const badHandle = jobId(await c1.submit(gated(dir, "handle", 0)));
  const damaged = jobId(await c1.submit("true\n", { HOLD: "1" }));
  const afterDamaged = jobId(await c1.submit("true\n", { DEPENDS: String(damaged) }));
  for (const tag of ["meanwhile", "on", "vanish", "kill", "handle"]) await pidOf(dir, tag);
  const vanishJob = (await infoOf(c1, vanishes)).pid!;
  await d1.crash();

  // The faults, all while no daemon runs.
  await Deno.writeTextFile(`${dir}/meanwhile.go`, "");
  await waitFor(() => !alive(Number(Deno.readTextFileSync(`${dir}/meanwhile.pid`))), "job ends");
  const members = groupMembers(vanishJob);
  Deno.kill(-vanishJob, "SIGKILL");
  await waitFor(() => members.every((pid) => !alive(pid)), "the vanishing job's processes to die");
  sql(
    dir,
    `UPDATE jobs SET deps = '[[999999, "afterok"]]' WHERE id = ${afterLost};
     UPDATE jobs SET stopping = 'kill' WHERE id = ${killPending};
     UPDATE jobs SET handle = 'not a handle', pid = NULL WHERE id = ${badHandle};
     UPDATE jobs SET deps = '{not json' WHERE id = ${damaged};`,
  );

  await using d2 = await TestDaemon.start({ home: dir, args: ARGS });
  using c2 = await d2.connect();
  const meanwhile = await infoOf(c2, endsMeanwhile);
  assert.deepEqual([meanwhile.state, meanwhile.exit_code], ["F", 5], "real exit code kept");
  assert.equal(await c2.state(goesOn), "R", "a job still running is re-adopted");
  // Killed behind the daemon's back while no daemon ran: the shepherd saw the signal.
  const lost = await infoOf(c2, vanishes);
  assert.equal(lost.state, "F");
  assert.equal(lost.exit_code, 137);
  assert.match(lost.reason ?? "", /signal 9/);
  assert.equal(
    await ended(c2, killPending),
    "K",
    "a kill recorded before the crash is carried out",
  );
  const bad = await infoOf(c2, damaged);
  assert.equal(bad.state, "E");
  assert.match(bad.reason ?? "", /cannot be read/);
  const orphan = await infoOf(c2, afterLost);
  assert.equal(orphan.state, "A");
  assert.match(orphan.reason ?? "", /dependency 999999 is unknown/);
  assert.equal(await c2.state(afterDamaged), "A", "a dependent of a damaged job is aborted");

  // A dependency forgotten by CLEAN resolves by the state it ended in.
  assert.equal(await c2.request(`RELEASE ${afterCleaned}\r\n`), "OK\r\n");
  assert.equal(await ended(c2, afterCleaned), "S");
  const late = jobId(await c2.submit("true\n", { DEPENDS: String(cleaned) }));
  assert.equal(await ended(c2, late), "S", "a new job may depend on a forgotten one");

  for (const tag of ["on", "handle"]) await Deno.writeTextFile(`${dir}/${tag}.go`, "");
  assert.equal(await ended(c2, goesOn), "S");
  assert.match(await ended(c2, badHandle), /^[SF]$/, "a job with a bad handle is settled");
  await waitFor(
    async () => {
      const jobs = await info(c2);
      return jobs.every((j) => !"RQHU".includes(j.state));
    },
    "no job left in R, Q, H or U",
    ENDS_MS,
  );
});

Deno.test("recovery: the same restart twice in a row finds nothing more to do", async () => {
  await using d1 = await TestDaemon.start({ args: ARGS });
  const dir = d1.home;
  using c1 = await d1.connect();
  const dep = jobId(await c1.submit("true\n"));
  assert.equal(await ended(c1, dep), "S");
  const held = jobId(await c1.submit("true\n", { DEPENDS: String(dep), HOLD: "1" }));
  await waitFor(async () => (await c1.request("CLEAN 0 S\r\n")) === "OK 1\r\n", "CLEAN");
  await d1.crash();
  for (let i = 0; i < 2; i++) {
    await using d = await TestDaemon.start({ home: dir, args: ARGS });
    using c = await d.connect();
    assert.equal(await c.state(held), "U");
    assert.doesNotMatch(d.stderr, /Unknown dependency|Storage failure/);
    await d.crash();
  }
});
