/**
 * Jobs outlive their daemon: a restarted daemon re-adopts running jobs,
 * settles those that ended meanwhile, requeues those that never started and
 * marks the rest lost; a plain SHUTDOWN leaves running jobs to the next
 * daemon, SHUTDOWN KILL kills them; both keep waiting ones.
 *
 * @module
 */

import assert from "node:assert";
import { TestDaemon, waitFor } from "./harness.ts";
import { alive, infoOf, jobId, parentOf, shepherdPid, spoolOf } from "./inspect.ts";

const ARGS = ["--maxprocs", "2", "--autoshutdown", "F"];
/** Generous: the machine is shared, and only a hang should ever reach it. */
const ENDS_MS = 30_000;

/**
 * A job script that appends its pid to `<dir>/<tag>.starts` (one line per
 * start) and exits `code` once the file `<dir>/<gate>` exists.
 */
function gated(dir: string, tag: string, code: number, gate = "go"): string {
  return `echo $$ >> ${dir}/${tag}.starts\n` +
    `while [ ! -e ${dir}/${gate} ]; do sleep 0.05; done\nexit ${code}\n`;
}

/** The pids a gated job recorded, once it has recorded at least one. */
async function starts(dir: string, tag: string): Promise<number[]> {
  return await waitFor(async () => {
    const text = await Deno.readTextFile(`${dir}/${tag}.starts`).catch(() => "");
    const pids = text.split("\n").filter((l) => l !== "").map(Number);
    return pids.length > 0 ? pids : undefined;
  }, `job ${tag} to start`);
}

/** Opens the gate of gated jobs. */
function open(dir: string, gate = "go"): Promise<void> {
  return Deno.writeTextFile(`${dir}/${gate}`, "");
}

/** The shepherd of the daemon using `home`, found by its command line. */
function shepherdOf(home: string): number {
  const pid = shepherdPid(spoolOf(home));
  if (pid === null) throw new Error(`No shepherd runs for ${home}`);
  return pid;
}

/** Kills the shepherd of `home` and job process group `job`, behind the daemon's back. */
async function killShepherdAndJob(home: string, job: number): Promise<void> {
  const shepherd = shepherdOf(home);
  Deno.kill(shepherd, "SIGKILL");
  Deno.kill(-job, "SIGKILL");
  await waitFor(() => !alive(shepherd) && !alive(job), "the shepherd and the job to die");
}

/** The shepherd's journal lines about job `id`. */
async function journalOf(home: string, id: number): Promise<string[]> {
  const text = await Deno.readTextFile(`${spoolOf(home)}/journal`).catch(() => "");
  return text.split("\n").filter((l) => l.includes(`"id":${id},`) || l.endsWith(`"id":${id}}`));
}

Deno.test("adopt: jobs running across a daemon SIGKILL end with their real exit codes", async () => {
  await using d1 = await TestDaemon.start({ args: ARGS });
  const dir = d1.home;
  using c1 = await d1.connect();
  const ok = jobId(await c1.submit(gated(dir, "ok", 0)));
  const seven = jobId(await c1.submit(gated(dir, "seven", 7)));
  const pids = [...await starts(dir, "ok"), ...await starts(dir, "seven")];
  await d1.crash();
  assert.ok(pids.every(alive), "jobs outlive their daemon");

  await using d2 = await TestDaemon.start({ home: dir, args: ARGS });
  using c2 = await d2.connect();
  assert.equal(await c2.state(ok), "R");
  assert.equal(await c2.state(seven), "R");
  await open(dir);
  assert.equal(await c2.waitState(ok, "SFAKE", ENDS_MS), "S");
  assert.equal(await c2.waitState(seven, "SFAKE", ENDS_MS), "F");
  const [okInfo, sevenInfo] = [await infoOf(c2, ok), await infoOf(c2, seven)];
  assert.equal(okInfo.exit_code, 0);
  assert.equal(sevenInfo.exit_code, 7);
  assert.equal(sevenInfo.reason, null);
  assert.deepEqual(await starts(dir, "ok"), pids.slice(0, 1), "adopted, not started again");
  assert.deepEqual(await starts(dir, "seven"), pids.slice(1), "adopted, not started again");
});

Deno.test("adopt: a job that ended while no daemon ran is settled with its exit code and end time", async () => {
  await using d1 = await TestDaemon.start({ args: ARGS });
  const dir = d1.home;
  using c1 = await d1.connect();
  const id = jobId(await c1.submit(gated(dir, "job", 5)));
  await starts(dir, "job");
  await d1.crash();
  const opened = Date.now();
  await open(dir);
  await waitFor(
    async () => (await journalOf(dir, id)).some((l) => l.startsWith('{"t":"E"')),
    "the shepherd to record the end",
  );
  const recorded = Date.now();

  await using d2 = await TestDaemon.start({ home: dir, args: ARGS });
  using c2 = await d2.connect();
  const job = await infoOf(c2, id);
  assert.equal(job.state, "F");
  assert.equal(job.exit_code, 5);
  const ended = Date.parse(job.ended!);
  // File times come from a coarse clock that may lag Date.now() by a tick.
  assert.ok(ended >= opened - 100 && ended <= recorded, `ended ${job.ended} while no daemon ran`);
  assert.ok(Date.parse(job.started!) <= ended);
});

Deno.test("adopt: KILL of a re-adopted job kills its whole process group", async () => {
  await using d1 = await TestDaemon.start({ args: ARGS });
  const dir = d1.home;
  using c1 = await d1.connect();
  const id = jobId(
    await c1.submit(`sleep 1000 &\necho $! > ${dir}/child.pid\n${gated(dir, "job", 0)}`),
  );
  const [main] = await starts(dir, "job");
  const child = Number(await Deno.readTextFile(`${dir}/child.pid`));
  await d1.crash();

  await using d2 = await TestDaemon.start({ home: dir, args: ARGS });
  using c2 = await d2.connect();
  assert.equal(await c2.state(id), "R");
  assert.equal(await c2.request(`KILL ${id}\r\n`), "OK\r\n");
  assert.equal(await c2.waitState(id, "SFAKE", ENDS_MS), "K");
  await waitFor(() => !alive(main!) && !alive(child), "the job and its background child to die");
});

Deno.test("adopt: a job keeps running when its daemon gets SIGTERM and is adopted", async () => {
  await using d1 = await TestDaemon.start({ args: ARGS });
  const dir = d1.home;
  using c1 = await d1.connect();
  const id = jobId(await c1.submit(gated(dir, "job", 0)));
  const [pid] = await starts(dir, "job");
  d1.kill("SIGTERM");
  assert.equal((await d1.exited()).code, 0);
  assert.ok(alive(pid!), "the job survives its daemon's SIGTERM");

  await using d2 = await TestDaemon.start({ home: dir, args: ARGS });
  using c2 = await d2.connect();
  assert.equal(await c2.state(id), "R");
  await open(dir);
  assert.equal(await c2.waitState(id, "SFAKE", ENDS_MS), "S");
  assert.equal((await infoOf(c2, id)).exit_code, 0);
  assert.deepEqual(await starts(dir, "job"), [pid]);
});

for (const kill of [false, true]) {
  const what = kill ? "SHUTDOWN KILL kills running jobs" : "SHUTDOWN leaves running jobs running";
  Deno.test(`adopt: ${what} and keeps queued and held ones`, async () => {
    const args = ["--maxprocs", "1", "--autoshutdown", "F"];
    await using d1 = await TestDaemon.start({ args });
    const dir = d1.home;
    using c1 = await d1.connect();
    const running = jobId(await c1.submit(gated(dir, "running", 0)));
    const queued = jobId(await c1.submit(gated(dir, "queued", 0, "go2")));
    const holding = jobId(await c1.submit("true\n", { DEPENDS: String(queued) }));
    const held = jobId(await c1.submit("true\n", { HOLD: "1" }));
    const [pid] = await starts(dir, "running");
    assert.deepEqual(
      [
        await c1.state(running),
        await c1.state(queued),
        await c1.state(holding),
        await c1.state(held),
      ],
      ["R", "Q", "H", "U"],
    );
    assert.equal(await c1.request(kill ? "SHUTDOWN KILL\r\n" : "SHUTDOWN\r\n"), "OK\r\n");
    assert.equal((await d1.exited()).code, 0);
    if (kill) assert.ok(!alive(pid!), "SHUTDOWN KILL waits for running jobs to be killed");
    else assert.ok(alive(pid!), "a plain SHUTDOWN leaves the running job running");

    await using d2 = await TestDaemon.start({ home: dir, args });
    using c2 = await d2.connect();
    if (kill) {
      const killed = await infoOf(c2, running);
      assert.equal(killed.state, "K");
      assert.match(killed.reason ?? "", /shutdown/);
    } else assert.equal(await c2.state(running), "R", "re-adopted by the next daemon");
    // Once the killed job has ended its slot is free: the queued one may have started.
    assert.match((await c2.state(queued))!, kill ? /^[QR]$/ : /^Q$/);
    assert.equal(await c2.state(holding), "H");
    assert.equal(await c2.state(held), "U");
    await open(dir);
    await open(dir, "go2");
    assert.equal(await c2.request(`RELEASE ${held}\r\n`), "OK\r\n");
    for (const id of [queued, holding, held]) {
      assert.equal(await c2.waitState(id, "SFAKE", ENDS_MS), "S");
    }
    if (!kill) {
      assert.equal(await c2.waitState(running, "SFAKE", ENDS_MS), "S");
      assert.deepEqual(await starts(dir, "running"), [pid], "adopted, not run again");
    }
  });
}

Deno.test("adopt: a running job whose shepherd and processes vanished with no daemon ends F as lost", async () => {
  await using d1 = await TestDaemon.start({ args: ARGS });
  const dir = d1.home;
  using c1 = await d1.connect();
  const id = jobId(await c1.submit(gated(dir, "job", 0)));
  const [pid] = await starts(dir, "job");
  await d1.crash();
  await killShepherdAndJob(dir, pid!);

  await using d2 = await TestDaemon.start({ home: dir, args: ARGS });
  using c2 = await d2.connect();
  const job = await infoOf(c2, id);
  assert.equal(job.state, "F");
  assert.equal(job.exit_code, null);
  assert.match(job.reason ?? "", /lost/);
});

Deno.test("adopt: a job marked running that never started is queued again and runs", async () => {
  await using d1 = await TestDaemon.start({ args: ARGS });
  const dir = d1.home;
  using c1 = await d1.connect();
  const id = jobId(await c1.submit(gated(dir, "job", 0)));
  const [pid] = await starts(dir, "job");
  await d1.crash();
  await killShepherdAndJob(dir, pid!);
  // Without a line in the shepherd's journal the job looks as if the daemon died before
  // handing it over (the journal has every job before it is spawned).
  const journal = `${spoolOf(dir)}/journal`;
  const others = (await Deno.readTextFile(journal)).split("\n")
    .filter((l) => !(l.includes(`"id":${id},`) || l.endsWith(`"id":${id}}`)));
  await Deno.writeTextFile(journal, others.join("\n"));

  await using d2 = await TestDaemon.start({ home: dir, args: ARGS });
  using c2 = await d2.connect();
  await open(dir);
  assert.equal(await c2.waitState(id, "SFAKE", ENDS_MS), "S");
  assert.equal((await starts(dir, "job")).length, 2);
});

Deno.test("adopt: when the shepherd is killed under the daemon that started it, its jobs keep their exit codes", async () => {
  await using d = await TestDaemon.start({ args: ARGS });
  const dir = d.home;
  using c = await d.connect();
  const ok = jobId(await c.submit(gated(dir, "ok", 0)));
  const failing = jobId(await c.submit(gated(dir, "failing", 3)));
  await starts(dir, "ok");
  await starts(dir, "failing");
  const shepherd = shepherdOf(dir);
  assert.equal(parentOf(shepherd), d.pid, "the daemon started this shepherd");
  Deno.kill(shepherd, "SIGKILL");
  await waitFor(() => !alive(shepherd), "the shepherd to die");
  assert.equal(await c.state(ok), "R", "the orphaned job still runs");
  await open(dir);
  // Reparented to the daemon (a child subreaper), which reaps them.
  assert.equal(await c.waitState(ok, "SFAKE", ENDS_MS), "S");
  assert.equal(await c.waitState(failing, "SFAKE", ENDS_MS), "F");
  assert.equal((await infoOf(c, ok)).exit_code, 0);
  assert.equal((await infoOf(c, failing)).exit_code, 3);
  assert.equal((await starts(dir, "ok")).length, 1, "never run twice");
  // A new shepherd runs new jobs.
  const after = jobId(await c.submit("true\n"));
  assert.equal(await c.waitState(after, "SFAKE", ENDS_MS), "S");
  // The new shepherd journaled the ends the daemon reaped.
  await waitFor(
    async () => (await journalOf(dir, ok)).some((l) => l.includes('"t":"E"')),
    "the end the daemon reaped in the new shepherd's journal",
  );
});

Deno.test("adopt: when the shepherd of an earlier daemon is killed, its running job ends F as lost", async () => {
  await using d1 = await TestDaemon.start({ args: ARGS });
  const dir = d1.home;
  using c1 = await d1.connect();
  const running = jobId(await c1.submit(gated(dir, "running", 0)));
  await starts(dir, "running");
  await d1.crash();
  await using d2 = await TestDaemon.start({ home: dir, args: ARGS });
  using c2 = await d2.connect();
  assert.equal(await c2.state(running), "R");
  // Its parent is no daemon now: the job goes to init, and its exit code with it.
  Deno.kill(shepherdOf(dir), "SIGKILL");
  const after = jobId(await c2.submit("true\n"));
  assert.equal(await c2.waitState(after, "SFAKE", ENDS_MS), "S");
  await open(dir);
  assert.equal(await c2.waitState(running, "SFAKE", ENDS_MS), "F");
  const job = await infoOf(c2, running);
  assert.equal(job.exit_code, null);
  assert.match(job.reason ?? "", /lost: its shepherd died while it ran/);
  assert.equal((await starts(dir, "running")).length, 1, "never run twice");
});

Deno.test("adopt: when the daemon and its shepherd are killed together, a running job ends F as lost, once", async () => {
  await using d1 = await TestDaemon.start({ args: ARGS });
  const dir = d1.home;
  using c1 = await d1.connect();
  const running = jobId(await c1.submit(gated(dir, "running", 0)));
  const queued = jobId(await c1.submit("true\n", { PROCS: "2" }));
  await starts(dir, "running");
  const shepherd = shepherdOf(dir);
  Deno.kill(shepherd, "SIGKILL");
  await d1.crash();
  await using d2 = await TestDaemon.start({ home: dir, args: ARGS });
  using c2 = await d2.connect();
  await open(dir);
  assert.equal(await c2.waitState(running, "SFAKE", ENDS_MS), "F");
  const job = await infoOf(c2, running);
  assert.equal(job.exit_code, null);
  assert.match(job.reason ?? "", /lost: its shepherd died/);
  assert.equal((await starts(dir, "running")).length, 1, "never run twice");
  assert.equal(await c2.waitState(queued, "SFAKE", ENDS_MS), "S", "a waiting job still runs");
});
