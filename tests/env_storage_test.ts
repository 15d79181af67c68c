/**
 * Environments are stored once each (the `envs` migration of src/store.ts):
 * jobs with the same one share its row, jobs stored before the migration
 * keep their own copy, and both kinds run with their own environment after
 * restarts. CLEAN forgets an environment no job names any more.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { type RawClient, TestDaemon } from "./harness.ts";
import { jobId } from "./inspect.ts";

const ARGS = ["--maxprocs", "4", "--autoshutdown", "F"];

/** Runs `fn` on the database of a stopped daemon using `home`. */
function withDb<T>(home: string, fn: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(`${home}/.sjq.db`);
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    return fn(db);
  } finally {
    db.close();
  }
}

/** A held job that writes its `$X` to `<dir>/<tag>.out`, submitted with `X` set to `x`. */
async function held(c: RawClient, dir: string, tag: string, x: string): Promise<number> {
  return jobId(
    await c.submit(`printf %s "$X" > ${dir}/${tag}.out\n`, { HOLD: "1", ENV: `X=${btoa(x)}` }),
  );
}

Deno.test("envs: jobs share one stored environment, old rows keep theirs, both run right after restarts", async () => {
  await using d1 = await TestDaemon.start({ args: ARGS });
  const dir = d1.home;
  using c1 = await d1.connect();
  const old = await held(c1, dir, "old", "from before");
  await d1.crash();
  // The database as a daemon from before the migration left it: the environment in the job's row.
  withDb(
    dir,
    (db) =>
      db.exec(`UPDATE jobs SET env = (SELECT json FROM envs WHERE envs.id = jobs.env_id);
      ALTER TABLE jobs DROP COLUMN env_id; DROP TABLE envs;
      DELETE FROM migrations WHERE name = 'envs';`),
  );

  await using d2 = await TestDaemon.start({ home: dir, args: ARGS });
  using c2 = await d2.connect();
  const same1 = await held(c2, dir, "same1", "shared");
  const other = await held(c2, dir, "other", "its own");
  const same2 = await held(c2, dir, "same2", "shared");
  await d2.crash();
  const rows = withDb(dir, (db) => ({
    envs: Number(db.prepare("SELECT count(*) AS n FROM envs").get()!.n),
    ids: db.prepare("SELECT id, env, env_id FROM jobs ORDER BY id").all()
      .map((r) => [Number(r.id), r.env_id === null ? String(r.env) : Number(r.env_id)]),
  }));
  assert.equal(rows.envs, 2, "one row for each distinct environment");
  const of = new Map(rows.ids.map(([id, e]) => [id, e]));
  assert.equal(of.get(old), JSON.stringify({ X: "from before" }), "the old row keeps its copy");
  assert.equal(of.get(same1), of.get(same2), "the same environment is shared");
  assert.notEqual(of.get(same1), of.get(other));

  await using d3 = await TestDaemon.start({ home: dir, args: ARGS });
  using c3 = await d3.connect();
  const want: [number, string, string][] = [
    [old, "old", "from before"],
    [same1, "same1", "shared"],
    [other, "other", "its own"],
    [same2, "same2", "shared"],
  ];
  for (const [id] of want) assert.equal(await c3.request(`RELEASE ${id}\r\n`), "OK\r\n");
  for (const [id, tag, x] of want) {
    assert.equal(await c3.waitState(id, "SFAKE", 30_000), "S");
    assert.equal(await Deno.readTextFile(`${dir}/${tag}.out`), x, `job ${tag}'s $X`);
  }
  assert.equal(await c3.request("CLEAN 0\r\n"), "OK 4\r\n");
  await d3.crash();
  const left = withDb(dir, (db) => Number(db.prepare("SELECT count(*) AS n FROM envs").get()!.n));
  assert.equal(left, 0, "CLEAN forgets environments no job names");
});
