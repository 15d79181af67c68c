/**
 * End-to-end tests of job arrays: one submit for many tasks, %max, task
 * variables and output names, addressing a whole array or one task (kill,
 * hold, release, wait, status), dependencies on either, and an array that
 * survives a daemon crash.
 */

import assert from "node:assert/strict";
import type { JobInfo } from "../src/info.ts";
import { TestDaemon, waitFor } from "./harness.ts";

/** Runs the CLI and checks that it exited 0; returns stdout. */
async function ok(d: TestDaemon, args: string[], cwd?: string): Promise<string> {
  const out = await d.cli(args, cwd === undefined ? {} : { cwd });
  assert.equal(out.code, 0, `sjq ${args.join(" ")}: ${out.stderr}`);
  return out.stdout;
}

async function info(d: TestDaemon, ref: string): Promise<JobInfo[]> {
  return JSON.parse(await ok(d, ["status", "--json", ref])) as JobInfo[];
}

async function workDir(d: TestDaemon): Promise<string> {
  const dir = `${d.home}/work`;
  await Deno.mkdir(`${dir}/logs`, { recursive: true });
  return dir;
}

Deno.test("an array of 1,000 tasks with %2 never runs more than 2 at once; every task gets its id and file", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "8"] });
  const dir = await workDir(d);
  // Each task marks its start and end in one ledger (O_APPEND lines are atomic). Task 1 waits
  // (up to 30 s) for task 2 to start, so that two tasks provably run together.
  await Deno.writeTextFile(
    `${dir}/task.sh`,
    `#!/bin/sh\n#SJQ --name sweep\necho "+ $SJQ_ARRAY_TASK_ID" >> ledger\n` +
      `if [ "$SJQ_ARRAY_TASK_ID" = 1 ]; then n=0; until grep -qx '+ 2' ledger || [ $n -ge 1500 ]; ` +
      `do sleep 0.02; n=$((n + 1)); done; fi\n` +
      `echo "task $SJQ_ARRAY_TASK_ID of $SJQ_ARRAY_JOB_ID slurm $SLURM_ARRAY_TASK_ID job $SJQ_JOB_ID"\n` +
      // The first two start in one pass; long enough that they surely overlap.
      `[ "$SJQ_ARRAY_TASK_ID" -gt 2 ] || sleep 1\n` +
      `echo "- $SJQ_ARRAY_TASK_ID" >> ledger\n`,
  );
  const array = Number(
    await ok(d, ["submit", "--array", "1-1000%2", "-o", "logs/%x-%A_%a.out", "task.sh"], dir),
  );
  assert.equal((await d.cli(["wait", String(array)])).code, 0, "the whole array succeeded");

  const ledger = (await Deno.readTextFile(`${dir}/ledger`)).trim().split("\n");
  let running = 0;
  let most = 0;
  for (const line of ledger) {
    running += line.startsWith("+") ? 1 : -1;
    most = Math.max(most, running);
  }
  assert.equal(ledger.length, 2000);
  assert.equal(most, 2, "at most 2 at once, and 2 did run together");
  const jobs = await info(d, String(array));
  assert.equal(jobs.length, 1001, "the head and its tasks");
  const [head, ...tasks] = jobs;
  assert.equal(head!.array, "1-1000%2");
  assert.equal(head!.state, "S");
  assert.equal(head!.reason, "tasks: 1000 S");
  for (const [i, task] of tasks.entries()) {
    assert.equal(task.array_id, array);
    assert.equal(task.array_task, i + 1);
    assert.equal(task.id, array + 1 + i, "tasks have consecutive ids after the head");
    assert.equal(task.name, "sweep", "tasks share the head's directives");
    assert.equal(task.stdout, `${dir}/logs/sweep-${array}_${i + 1}.out`);
  }
  const t7 = tasks[6]!;
  assert.equal(
    await Deno.readTextFile(t7.stdout),
    `task 7 of ${array} slurm 7 job ${t7.id}\n`,
  );
});

Deno.test("arrays are addressed whole (A) or by task (A_T): status, kill, hold, release, wait, dependencies", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2"] });
  const dir = await workDir(d);
  // Task 3 fails; the others wait for their own go file.
  await Deno.writeTextFile(
    `${dir}/gated.sh`,
    `#!/bin/sh\n[ "$SJQ_ARRAY_TASK_ID" = 3 ] && exit 3\n` +
      `while [ ! -e go-$SJQ_ARRAY_TASK_ID ]; do sleep 0.02; done\n`,
  );
  const a = Number(await ok(d, ["submit", "--array", "0-8:2,20", "--hold", "gated.sh"], dir));
  const states = async (ref: string) => (await info(d, ref)).map((j) => j.state).join("");
  assert.equal(await states(String(a)), "HUUUUUU", "the head holds, every task is user-held");
  assert.equal((await info(d, `${a}_20`))[0]!.id, a + 6);
  assert.equal((await d.cli(["status", `${a}_3`])).code, 1, "no task 3 in 0-8:2,20");

  const afterTask = Number(await ok(d, ["submit", "--after", `${a}_4`, "--wrap", "true"], dir));
  const afterAll = Number(await ok(d, ["submit", "--afterany", String(a), "--wrap", "true"], dir));
  const afterOk = Number(await ok(d, ["submit", "--after", String(a), "--wrap", "true"], dir));
  assert.deepEqual(
    (await info(d, String(afterTask)))[0]!.depends,
    [a + 3],
    "A_T is that task's job",
  );

  await ok(d, ["release", `${a}_4`]);
  await waitFor(async () => (await states(`${a}_4`)) === "R", "task 4 running");
  await ok(d, ["release", String(a)]);
  await waitFor(
    async () => (await states(String(a))).split("R").length - 1 === 2,
    "two tasks running",
  );
  await ok(d, ["hold", String(a)]);
  assert.equal((await states(String(a))).replace(/R/g, ""), "HUUUU", "queued tasks held again");

  await Deno.writeTextFile(`${dir}/go-4`, "");
  assert.equal((await d.cli(["wait", `${a}_4`])).code, 0);
  assert.equal((await d.cli(["wait", String(afterTask)])).code, 0, "the task's dependent ran");

  await ok(d, ["kill", `${a}_8`]);
  assert.equal((await info(d, `${a}_8`))[0]!.state, "K");
  await ok(d, ["kill", String(a)]);
  const end = await d.cli(["wait", String(a)]);
  assert.equal(end.code, 1);
  const [head, ...tasks] = await info(d, String(a));
  assert.equal(head!.state, "K", "every task that did not succeed was killed");
  assert.match(head!.reason!, /^tasks: 1 S, 5 K$/);
  assert.equal(tasks.map((t) => t.state).join(""), "KKSKKK");
  assert.equal((await d.cli(["wait", String(afterAll)])).code, 0, "afterany ran");
  assert.equal((await info(d, String(afterOk)))[0]!.state, "A", "afterok aborted");
  const table = await ok(d, ["status", String(a)]);
  assert.match(table, new RegExp(`^\\s*${a}_\\[0-8:2,20\\] `, "m"));
  assert.match(table, new RegExp(`^\\s*${a}_20 `, "m"));
});

Deno.test("an array goes on after a daemon crash: the head waits for the tasks left, %max still holds", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "4"] });
  const dir = await workDir(d);
  await Deno.writeTextFile(
    `${dir}/gated.sh`,
    `#!/bin/sh\necho "$SJQ_ARRAY_TASK_ID" >> started\nwhile [ ! -e go ]; do sleep 0.02; done\n` +
      `[ "$SJQ_ARRAY_TASK_ID" != 2 ]\n`,
  );
  const a = Number(await ok(d, ["submit", "--array", "1-6%2", "gated.sh"], dir));
  await waitFor(
    async () =>
      (await Deno.readTextFile(`${dir}/started`).catch(() => "")).split("\n").length === 3,
    "two tasks started",
  );
  await d.crash();
  await using again = await TestDaemon.start({ home: d.home, args: ["--maxprocs", "4"] });
  await Deno.writeTextFile(`${dir}/go`, "");
  assert.equal((await again.cli(["wait", String(a)])).code, 1, "task 2 failed");
  const [head] = await info(again, String(a));
  assert.equal(head!.state, "F");
  assert.equal(head!.reason, "tasks: 5 S, 1 F");
  const started = (await Deno.readTextFile(`${dir}/started`)).trim().split("\n").map(Number);
  assert.deepEqual(started.sort(), [1, 2, 3, 4, 5, 6]);
});

Deno.test("ARRAY on the wire: bad specifications are an ERROR; the reply is the array's id", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  const script = "true\n";
  const submit = async (spec: string) =>
    (await c.request(
      `SUBMIT\r\nCWD ${d.home}\r\nARRAY ${spec}\r\nSRC ${script.length}\r\n${script}`,
    ))
      .trimEnd();
  assert.match(
    await submit("5-1"),
    /^ERROR Bad ARRAY value "5-1": Cannot parse array "5-1": range "5-1" ends before it starts$/,
  );
  assert.match(await submit("1-3%0"), /^ERROR Bad ARRAY value/);
  const reply = await submit("1-3");
  assert.match(reply, /^OK \d+$/);
  const id = Number(reply.slice(3));
  const lines = (await c.status(id)).map((l) => l.slice(0, 3).join(" "));
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, new RegExp(`^${id} job [HS]$`));
  assert.equal((await c.request(`WAIT ${id}_2\r\n`)).trimEnd(), "OK S 0");
  assert.equal((await c.request(`WAIT ${id}_9\r\n`)).trimEnd(), `ERROR Unknown job ${id}_9`);
  assert.equal((await c.request(`WAIT ${id}\r\n`)).trimEnd(), "OK S -");
});

Deno.test("restart of array tasks: A_T alone, A for its unsuccessful tasks, --failed; the head and its dependents come back", async () => {
  await using d = await TestDaemon.start({
    rc: "[sjq]\nmaxprocs = 4\n[sjq.queue.one]\nmaxprocs = 1\n",
  });
  const dir = await workDir(d);
  // Odd tasks fail until the file "fixed" exists; every run is counted in "runs".
  await Deno.writeTextFile(
    `${dir}/task.sh`,
    `#!/bin/sh\necho "$SJQ_ARRAY_TASK_ID" >> runs\n` +
      `[ -e fixed ] && exit 0\nexit $((SJQ_ARRAY_TASK_ID % 2))\n`,
  );
  const array = (await ok(d, ["submit", "-q", "one", "--array", "1-4", "task.sh"], dir)).trim();
  const after = (await ok(d, ["submit", "--after", array, "--wrap", "true"], dir)).trim();
  await d.cli(["wait", array]);
  const states = async () =>
    Object.fromEntries(
      (await info(d, array)).map((j) => [j.array_task === null ? "head" : j.array_task, j.state]),
    );
  assert.deepEqual(await states(), { head: "F", 1: "F", 2: "S", 3: "F", 4: "S" });
  assert.equal((await info(d, after))[0]!.state, "A");

  await Deno.writeTextFile(`${dir}/fixed`, "");
  // Task 1 alone: its array waits again, and so does the job the array aborted.
  assert.equal(await ok(d, ["restart", `${array}_1`]), "2\n", "task 1 and the aborted job");
  await d.cli(["wait", array]);
  assert.deepEqual(await states(), { head: "F", 1: "S", 2: "S", 3: "F", 4: "S" });
  const [head, task1] = await info(d, array);
  assert.equal(head!.attempts.length, 1, "the head's first end is kept");
  assert.deepEqual([task1!.attempts.length, task1!.queue], [1, "one"]);
  assert.equal((await info(d, after))[0]!.state, "A", "task 3 still failed: aborted again");

  // The whole array: only its task that did not succeed runs again.
  assert.equal(await ok(d, ["restart", array]), "2\n", "task 3 and the aborted job");
  await d.cli(["wait", after]);
  assert.deepEqual(await states(), { head: "S", 1: "S", 2: "S", 3: "S", 4: "S" });
  assert.equal((await info(d, after))[0]!.state, "S");
  const runs = (await Deno.readTextFile(`${dir}/runs`)).trim().split("\n").map(Number);
  assert.deepEqual(runs.slice(4), [1, 3], "tasks 2 and 4 were not run again");

  // --failed takes a failed array whole, and is refused nothing.
  await Deno.remove(`${dir}/fixed`);
  const second = (await ok(d, ["submit", "--array", "1-2", "task.sh"], dir)).trim();
  await d.cli(["wait", second]);
  await Deno.writeTextFile(`${dir}/fixed`, "");
  assert.equal(await ok(d, ["restart", "--failed"]), "1\n");
  await d.cli(["wait", second]);
  assert.equal((await info(d, second))[0]!.state, "S");

  // A task the array does not have.
  const bad = await d.cli(["restart", `${second}_9`]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, new RegExp(`Unknown job ${second}_9`));
});

Deno.test("a task restarted while its array runs goes back into it; the array survives a daemon crash", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "4"] });
  const dir = await workDir(d);
  // Task 1 fails at once; task 2 waits for the file "go".
  await Deno.writeTextFile(
    `${dir}/task.sh`,
    `#!/bin/sh\n[ "$SJQ_ARRAY_TASK_ID" = 1 ] && [ ! -e fixed ] && exit 1\n` +
      `while [ ! -e go ]; do sleep 0.02; done\n`,
  );
  const array = (await ok(d, ["submit", "--array", "1-2", "task.sh"], dir)).trim();
  await waitFor(async () => (await info(d, `${array}_1`))[0]!.state === "F", "task 1 to fail");
  const early = await d.cli(["restart", String(Number(array) + 2)]);
  assert.equal(early.code, 1, "task 2 runs: it has not ended");
  assert.match(early.stderr, /has not ended/);
  await Deno.writeTextFile(`${dir}/fixed`, "");
  assert.equal(await ok(d, ["restart", array]), "1\n", "the running array's failed task");
  await waitFor(async () => (await info(d, `${array}_1`))[0]!.state === "R", "task 1 to run");
  assert.equal((await info(d, array))[0]!.state, "H");

  await d.crash();
  await using again = await TestDaemon.start({ args: ["--maxprocs", "4"], home: d.home });
  await Deno.writeTextFile(`${dir}/go`, "");
  const out = await again.cli(["wait", array]);
  assert.equal(out.code, 0, out.stderr);
  const [head, t1, t2] = await info(again, array);
  assert.deepEqual([head!.state, t1!.state, t2!.state], ["S", "S", "S"]);
  assert.equal(t1!.attempts.length, 1);
});

Deno.test("restarting the job an array waited for brings the aborted array back whole", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "4"] });
  const dir = await workDir(d);
  await Deno.writeTextFile(`${dir}/first.sh`, "#!/bin/sh\n[ -e fixed ]\n");
  const first = (await ok(d, ["submit", "first.sh"], dir)).trim();
  await d.cli(["wait", first]);
  const array = (await ok(d, ["submit", "--after", first, "--array", "1-2", "--wrap", "true"], dir))
    .trim();
  assert.deepEqual((await info(d, array)).map((j) => j.state), ["A", "A", "A"]);
  await Deno.writeTextFile(`${dir}/fixed`, "");
  assert.equal(await ok(d, ["restart", first]), "3\n", "the job and both tasks");
  const out = await d.cli(["wait", array]);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual((await info(d, array)).map((j) => j.state), ["S", "S", "S"]);
});
