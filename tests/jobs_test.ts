/**
 * End-to-end tests of what happens to jobs: every state, scheduling order
 * under CPU and memory limits, dependencies, hold and release, kill, and
 * the environment a job runs in.
 */

import assert from "node:assert/strict";
import { Bench, processGone, RUN } from "./gated_jobs.ts";
import { TestDaemon, waitFor } from "./harness.ts";
import { encodeBase64 } from "../src/protocol.ts";

Deno.test("jobs reach Q, H, U, R and S", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "1"] });
  await using b = await Bench.open(d);
  const running = await b.gate();
  await b.waitLedger([running]);
  const queued = await b.gate();
  const holding = await b.gate({ DEPENDS: String(running) });
  const userHeld = await b.gate({ HOLD: "" });
  await b.expectStates({ [running]: "R", [queued]: "Q", [holding]: "H", [userHeld]: "U" });

  await b.open(running);
  assert.equal(await b.wait(running), "OK S 0");
  await b.expectStates({ [running]: "S", [queued]: "R", [holding]: "Q", [userHeld]: "U" });
  await b.waitLedger([running, queued]);
});

Deno.test("jobs reach F by a non-zero exit, a foreign signal and a TIMEOUT", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "4"] });
  await using b = await Bench.open(d);
  const exit3 = await b.submit(`${RUN}exit 3\n`);
  const signalled = await b.submit(`${RUN}kill -9 $$\n`);
  const timedOut = await b.gate({ TIMEOUT: "0.5" });
  assert.equal(await b.wait(exit3), "OK F 3");
  assert.match(await b.wait(signalled), /^OK F \d+$/);
  assert.match(await b.wait(timedOut), /^OK F /);
  assert.match((await b.info(timedOut)).reason ?? "", /timed out/);
  const ran = (await b.ledger()).sort((x, y) => x - y);
  assert.deepEqual(ran, [exit3, signalled, timedOut].sort((x, y) => x - y));
});

Deno.test("jobs reach E when they cannot start", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "1"] });
  await using b = await Bench.open(d);
  const noInterp = await b.submit("#!/nonexistent/interp\necho never >> ledger\n");
  assert.equal(await b.wait(noInterp), "OK E -");
  assert.match((await b.info(noInterp)).reason ?? "", /\/nonexistent\/interp/);

  const blocker = await b.gate();
  await b.waitLedger([blocker]);
  await Deno.mkdir(`${b.dir}/out`);
  await Deno.mkdir(`${b.dir}/cwd`);
  const noStdout = await b.submit(RUN, { STDOUT: "out/file" });
  const noCwd = await b.submit(RUN, { CWD: `${b.dir}/cwd` });
  await b.expectStates({ [noInterp]: "E", [blocker]: "R", [noStdout]: "Q", [noCwd]: "Q" });
  await Deno.remove(`${b.dir}/out`);
  await Deno.remove(`${b.dir}/cwd`);
  await b.open(blocker);
  assert.equal(await b.wait(noStdout), "OK E -");
  assert.equal(await b.wait(noCwd), "OK E -");
  assert.match((await b.info(noStdout)).reason ?? "", /stdout/);
  assert.match((await b.info(noCwd)).reason ?? "", /working directory/);
  assert.deepEqual(await b.ledger(), [blocker], "no job that ended in E ran");
});

Deno.test("a job that does not fit in the free CPUs is skipped by smaller ones behind it", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2"] });
  await using b = await Bench.open(d);
  const first = await b.gate();
  await b.waitLedger([first]);
  const big = await b.gate({ PROCS: "2" });
  const small = await b.gate();
  await b.waitLedger([first, small]);
  const later = await b.gate();
  await b.expectStates({ [first]: "R", [big]: "Q", [small]: "R", [later]: "Q" });

  await b.open(first);
  await b.waitState(first, "S");
  await b.waitLedger([first, small, later]);
  await b.expectStates({ [first]: "S", [big]: "Q", [small]: "R", [later]: "R" });
  await b.open(small);
  await b.waitState(small, "S");
  assert.equal(await b.client.state(big), "Q", "one CPU is free, the job needs two");
  await b.open(later);
  await b.waitLedger([first, small, later, big]);
});

Deno.test("a job that does not fit in the free memory is skipped by smaller ones behind it", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "8", "--maxmem", "4G"] });
  await using b = await Bench.open(d);
  const m3 = await b.gate({ MEM: "3G" });
  await b.waitLedger([m3]);
  const m2 = await b.gate({ MEM: "2G" });
  const m1 = await b.gate({ MEM: "1G" });
  await b.waitLedger([m3, m1]);
  await b.expectStates({ [m3]: "R", [m2]: "Q", [m1]: "R" });
  await b.open(m1);
  await b.waitState(m1, "S");
  assert.equal(await b.client.state(m2), "Q", "1G is free, the job needs 2G");
  await b.open(m3);
  await b.waitLedger([m3, m1, m2]);
});

Deno.test("a failure aborts every descendant; AFTERANY and AFTERNOTOK dependents run", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "4"] });
  await using b = await Bench.open(d);
  const root = await b.gate();
  const child = await b.gate({ DEPENDS: String(root) });
  const held = await b.gate({ DEPENDS: String(child), HOLD: "" });
  const grandchild = await b.gate({ DEPENDS: String(held) });
  const anyChild = await b.submit(RUN, { AFTERANY: String(child) });
  const onFailure = await b.submit(RUN, { AFTERNOTOK: String(root) });
  const afterOnFailure = await b.submit(RUN, { DEPENDS: String(onFailure) });
  const onAbort = await b.submit(RUN, { AFTERNOTOK: String(held) });
  await b.waitLedger([root]);
  await b.expectStates({
    [root]: "R",
    [child]: "H",
    [held]: "U",
    [grandchild]: "H",
    [anyChild]: "H",
    [onFailure]: "H",
    [afterOnFailure]: "H",
    [onAbort]: "H",
  });

  await b.open(root, 1);
  for (const id of [anyChild, onFailure, afterOnFailure, onAbort]) await b.waitState(id, "S");
  await b.expectStates({
    [root]: "F",
    [child]: "A",
    [held]: "A",
    [grandchild]: "A",
    [anyChild]: "S",
    [onFailure]: "S",
    [afterOnFailure]: "S",
    [onAbort]: "S",
  });
  assert.equal((await b.info(child)).reason, `dependency ${root} ended in F`);
  assert.equal((await b.info(held)).reason, `dependency ${child} ended in A`);
  assert.equal((await b.info(grandchild)).reason, `dependency ${held} ended in A`);
  const ran = (await b.ledger()).sort((x, y) => x - y);
  assert.deepEqual(ran, [root, anyChild, onFailure, afterOnFailure, onAbort]);

  // Dependencies that have already ended are settled at once.
  const onFailed = await b.submit(RUN, { DEPENDS: String(root) });
  const onAborted = await b.submit(RUN, { DEPENDS: String(child) });
  const notOkOnSuccess = await b.submit(RUN, { AFTERNOTOK: String(onFailure) });
  assert.equal(await b.client.state(onFailed), "A");
  assert.equal(await b.client.state(onAborted), "A");
  assert.equal(await b.client.state(notOkOnSuccess), "A");
  assert.equal(await b.wait(onFailed), "OK A -");
  const okOnSuccess = await b.submit(RUN, { DEPENDS: String(onFailure) });
  const notOkOnFailed = await b.submit(RUN, { AFTERNOTOK: String(root) });
  assert.equal(await b.wait(okOnSuccess), "OK S 0");
  assert.equal(await b.wait(notOkOnFailed), "OK S 0");
});

Deno.test("HOLD and RELEASE move jobs between U and Q or H", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "1"] });
  await using b = await Bench.open(d);
  const running = await b.gate();
  await b.waitLedger([running]);
  const released = await b.gate({ HOLD: "" });
  const releasedToH = await b.gate({ HOLD: "", DEPENDS: String(running) });
  const heldLater = await b.gate();
  await b.expectStates({ [running]: "R", [released]: "U", [releasedToH]: "U", [heldLater]: "Q" });

  assert.equal(await b.request(`RELEASE ${released}`), "OK");
  assert.equal(await b.request(`RELEASE ${releasedToH}`), "OK");
  assert.equal(await b.request(`HOLD ${heldLater}`), "OK");
  assert.equal(await b.request(`HOLD ${running}`), "OK noop R", "running: nothing to do, said so");
  assert.equal(await b.request(`RELEASE ${released}`), "OK noop Q", "not in U: nothing to do");
  assert.equal(await b.request("RELEASE 99"), "OK unknown");
  await b.expectStates({ [running]: "R", [released]: "Q", [releasedToH]: "H", [heldLater]: "U" });

  await b.open(running);
  await b.waitLedger([running, released]);
  await b.open(released);
  await b.waitLedger([running, released, releasedToH]);
  await b.open(releasedToH);
  await b.waitState(releasedToH, "S");
  assert.equal(await b.client.state(heldLater), "U", "nothing else runs, still held");
  assert.equal(await b.request(`RELEASE ${heldLater}`), "OK");
  await b.waitLedger([running, released, releasedToH, heldLater]);
});

Deno.test("a job held and released in one instant starts once", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "4"] });
  await using b = await Bench.open(d);
  const running = await b.gate();
  await b.waitLedger([running]);
  const script = new TextEncoder().encode(RUN);
  const next = running + 1;
  // One write: the three requests land in the same scheduling pass.
  await b.client.send(
    `SUBMIT\r\nCWD ${b.dir}\r\nSRC ${script.length}\r\n${RUN}HOLD ${next}\r\nRELEASE ${next}\r\n`,
  );
  assert.equal(await b.client.line(), `OK ${next}\r\n`);
  // Each OK, plain or saying it changed nothing (the job may have started first).
  for (let i = 0; i < 2; i++) assert.match((await b.client.line())!, /^OK( noop [A-Z])?\r\n$/);
  assert.equal(await b.wait(next), "OK S 0");
  await b.open(running);
  await b.waitState(running, "S");
  assert.deepEqual(await b.ledger(), [running, next]);
});

Deno.test("KILL of a running job kills its whole process group", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "1"] });
  await using b = await Bench.open(d);
  const id = await b.submit(
    `${RUN}sleep 300 & echo $! > child.tmp && mv child.tmp child.pid\nwait\n`,
  );
  const child = Number(await waitFor(() => b.read("child.pid"), "the job's background child"));
  assert.equal(processGone(child), false);
  assert.equal(await b.request(`KILL ${id}`), "OK");
  assert.match(await b.wait(id), /^OK K /);
  await waitFor(() => processGone(child), `the job's child ${child} to die`);
});

Deno.test("KILL of queued, holding and user-held jobs ends them in K and aborts their dependents", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "1"] });
  await using b = await Bench.open(d);
  const running = await b.gate();
  await b.waitLedger([running]);
  const queued = await b.gate();
  const holding = await b.gate({ DEPENDS: String(running) });
  const userHeld = await b.gate({ HOLD: "" });
  const onQueued = await b.gate({ DEPENDS: String(queued) });
  const onHolding = await b.gate({ DEPENDS: String(holding) });
  const onUserHeld = await b.gate({ DEPENDS: String(userHeld) });
  const anyQueued = await b.submit(RUN, { AFTERANY: String(queued) });

  for (const id of [queued, holding, userHeld]) assert.equal(await b.request(`KILL ${id}`), "OK");
  await b.expectStates({
    [running]: "R",
    [queued]: "K",
    [holding]: "K",
    [userHeld]: "K",
    [onQueued]: "A",
    [onHolding]: "A",
    [onUserHeld]: "A",
    [anyQueued]: "Q",
  });
  assert.equal(await b.request(`KILL ${queued}`), "OK noop K", "an ended job");
  assert.equal(await b.request("KILL 99"), "OK unknown", "an unknown job");
  assert.equal(await b.request("KILL 0"), "ERROR Bad jobid");
  assert.equal(await b.client.state(queued), "K");

  await b.open(running);
  await b.waitState(anyQueued, "S");
  assert.deepEqual(await b.ledger(), [running, anyQueued]);
});

Deno.test("a running job that ignores SIGTERM is SIGKILLed after killgrace", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "1", "--killgrace", "1"] });
  await using b = await Bench.open(d);
  const id = await b.submit(
    `${RUN}trap 'echo TERM >> signals' TERM\nwhile :; do sleep 0.02; done\n`,
  );
  await b.waitLedger([id]);
  assert.equal(await b.request(`KILL ${id}`), "OK");
  assert.match(await b.wait(id), /^OK K /);
  assert.match(await b.read("signals"), /^TERM\n/, "SIGTERM came first and was ignored");
});

Deno.test("a job killed the moment it starts gets one SIGTERM, not one more when its start is heard", async () => {
  // The KILL races the executor's report of the start: the start must not bring a second SIGTERM.
  const n = 8;
  await using d = await TestDaemon.start({ args: ["--maxprocs", String(n), "--killgrace", "2"] });
  await using b = await Bench.open(d);
  const script = `#!/bin/sh\ntrap 'echo TERM >> terms.$SJQ_JOB_ID' TERM\n` +
    `echo "$SJQ_JOB_ID" >> ledger\nwhile :; do sleep 0.02; done\n`;
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(await b.submit(script));
  const killed = new Set<number>();
  const deadline = Date.now() + 20_000;
  while (killed.size < n) {
    assert.ok(Date.now() < deadline, "every job starts");
    for (const id of await b.ledger()) {
      if (killed.has(id)) continue;
      assert.equal(await b.request(`KILL ${id}`), "OK");
      killed.add(id);
    }
    await new Promise((r) => setTimeout(r, 1)); // polled closely: the KILL must come right after the start
  }
  for (const id of ids) {
    assert.match(await b.wait(id), /^OK K /);
    assert.equal(await b.read(`terms.${id}`), "TERM\n", `job ${id}: one SIGTERM in its grace time`);
  }
});

/** The passwd entry of the user tests run as: [name, shell]. */
async function ownAccount(): Promise<[string, string]> {
  const uid = String(Deno.uid());
  for (const line of (await Deno.readTextFile("/etc/passwd")).split("\n")) {
    const f = line.split(":");
    if (f[2] === uid) return [f[0]!, f[6] || "/bin/sh"];
  }
  throw new Error(`No passwd entry for uid ${uid}`);
}

/** Fields of /proc/PID/stat after the command name: [state, ppid, pgrp, session]. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ").slice(0, 4);
}

Deno.test("a job gets a minimal environment, /dev/null stdin, its own session and no socket", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "1"], env: { LEAK_ME: "1" } });
  await using b = await Bench.open(d);
  const script = `#!/bin/sh
env > env.txt
cat /proc/$$/stat > stat.txt
readlink /proc/$$/fd/0 > stdin.txt
for f in /proc/$$/fd/*; do readlink "$f" || :; done > fds.txt
`;
  const env = `FOO=${encodeBase64("bar baz;x=ü")};SJQ_JOB_ID=${encodeBase64("999")}`;
  const id = await b.submit(script, { NAME: "env check", PROCS: "1", MEM: "100M", ENV: env });
  assert.equal(await b.wait(id), "OK S 0");

  const vars = new Map<string, string>();
  for (const line of (await b.read("env.txt")).split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) vars.set(line.slice(0, eq), line.slice(eq + 1));
  }
  for (const shellMade of ["PWD", "OLDPWD", "SHLVL", "_"]) vars.delete(shellMade);
  // What a Slurm script expects (src/slurm_env.ts, tests/sbatch_test.ts).
  assert.equal(vars.get("SLURM_JOB_ID"), String(id));
  for (const name of vars.keys()) if (/^SLURMD?_/.test(name)) vars.delete(name);
  // The shepherd's containment mark: this spool's tag and the job id (src/shepherd.ts).
  assert.match(vars.get("SJQ_JOB_TAG") ?? "", new RegExp(`^[0-9a-f]+\\.${id}$`));
  vars.delete("SJQ_JOB_TAG");
  const [user, shell] = await ownAccount();
  assert.deepEqual(Object.fromEntries(vars), {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: d.home,
    USER: user,
    LOGNAME: user,
    SHELL: shell,
    FOO: "bar baz;x=ü",
    SJQ_JOB_ID: String(id),
    SJQ_JOB_NAME: "env check",
    SJQ_PROCS: "1",
    SJQ_MEM: String(100 * 1024 * 1024),
    JOB_ID: String(id),
  });

  assert.equal(await b.read("stdin.txt"), "/dev/null\n");
  const [, , pgrp, session] = statFields(await b.read("stat.txt"));
  const [, , daemonPgrp, daemonSession] = statFields(
    await Deno.readTextFile(`/proc/${d.pid}/stat`),
  );
  assert.equal(pgrp, session, "the job's group leads its session");
  assert.notEqual(session, daemonSession);
  assert.notEqual(pgrp, daemonPgrp);
  assert.notEqual(session, String(d.pid));
  const fds = (await b.read("fds.txt")).split("\n").filter((l) => l !== "");
  assert.ok(fds.length >= 3, `fds: ${fds}`);
  assert.deepEqual(fds.filter((l) => l.startsWith("socket:")), [], `inherited: ${fds}`);
});

Deno.test("output goes to <CWD>/<id>.stdout and .stderr, CWD defaulting to HOME", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2"] });
  await using b = await Bench.open(d);
  const script = "#!/bin/sh\necho out\necho err >&2\n";
  const inCwd = await b.submit(script);
  const inHome = Number((await b.client.submit(script)).replace(/^OK /, ""));
  await Deno.mkdir(`${b.dir}/logs`);
  const inDir = await b.submit(script, { STDOUT: "logs", STDERR: "logs" });
  for (const id of [inCwd, inHome, inDir]) assert.equal(await b.wait(id), "OK S 0");

  for (const [id, dir] of [[inCwd, b.dir], [inHome, d.home], [inDir, `${b.dir}/logs`]] as const) {
    assert.equal(await Deno.readTextFile(`${dir}/${id}.stdout`), "out\n");
    assert.equal(await Deno.readTextFile(`${dir}/${id}.stderr`), "err\n");
  }
  assert.equal((await b.info(inHome)).cwd, d.home);
});
