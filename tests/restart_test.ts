/**
 * End-to-end tests of restarts: `sjq restart` puts a failed job back in the
 * queue with the jobs it aborted and nothing else, keeps the history of its
 * attempts, `--with-dependents` and `--failed`; `--retries` retries a
 * failing job by itself, after `--retry-delay`, across a daemon restart.
 */

import assert from "node:assert/strict";
import type { JobInfo } from "../src/info.ts";
import { TestDaemon, waitFor } from "./harness.ts";

async function ok(d: TestDaemon, args: string[], cwd?: string): Promise<string> {
  const out = await d.cli(args, cwd === undefined ? {} : { cwd });
  assert.equal(out.code, 0, `sjq ${args.join(" ")}: ${out.stderr}`);
  return out.stdout.trim();
}

async function jobs(d: TestDaemon): Promise<Map<number, JobInfo>> {
  const list = JSON.parse(await ok(d, ["status", "--json"])) as JobInfo[];
  return new Map(list.map((j) => [j.id, j]));
}

Deno.test("restart of a failed job revives the jobs it aborted, transitively, and nothing else", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2"] });
  const dir = `${d.home}/work`;
  await Deno.mkdir(dir);
  const submit = async (...args: string[]) => Number(await ok(d, ["submit", ...args], dir));
  const flaky = await submit("--wrap", "[ -e ok ]");
  const child = await submit("--after", String(flaky), "--wrap", "echo child >> ran");
  const grandchild = await submit("--after", String(child), "--wrap", "echo grandchild >> ran");
  const anyway = await submit("--afterany", String(flaky), "--wrap", "echo anyway >> ran");
  const other = await submit("--wrap", "exit 1");
  const otherChild = await submit("--after", String(other), "--wrap", "echo other >> ran");
  for (const id of [grandchild, anyway, otherChild]) await d.cli(["wait", String(id)]);
  let all = await jobs(d);
  assert.deepEqual(
    [flaky, child, grandchild, anyway, other, otherChild].map((id) => all.get(id)!.state),
    [
      "F",
      "A",
      "A",
      "S",
      "F",
      "A",
    ],
  );
  const before = all.get(otherChild)!;

  await Deno.writeTextFile(`${dir}/ok`, "");
  assert.equal(await ok(d, ["restart", String(flaky)]), "3", "the job and the two it aborted");
  assert.equal((await d.cli(["wait", String(grandchild)])).code, 0);
  all = await jobs(d);
  assert.deepEqual([flaky, child, grandchild].map((id) => all.get(id)!.state), ["S", "S", "S"]);
  assert.deepEqual(all.get(otherChild), before, "a job aborted by another failure is untouched");
  assert.equal(all.get(anyway)!.attempts.length, 0, "a dependent that ran is not run again");
  assert.equal((await Deno.readTextFile(`${dir}/ran`)).trim(), "anyway\nchild\ngrandchild");
  const history = all.get(flaky)!.attempts;
  assert.equal(history.length, 1);
  assert.equal(history[0]!.state, "F");
  assert.equal(history[0]!.exit_code, 1);
  assert.ok(history[0]!.started !== null && history[0]!.ended !== null);
  assert.equal(all.get(child)!.attempts[0]!.reason, `dependency ${flaky} ended in F`);

  // --with-dependents runs everything after it again, whatever its end.
  assert.equal(await ok(d, ["restart", "--with-dependents", String(flaky)]), "4");
  for (const id of [grandchild, anyway]) assert.equal((await d.cli(["wait", String(id)])).code, 0);
  all = await jobs(d);
  assert.equal(all.get(anyway)!.attempts.length, 1);
  assert.equal(all.get(flaky)!.attempts.length, 2);

  // --failed: every F and E job (here: `other`, which fails again).
  assert.equal(await ok(d, ["restart", "--failed"]), "2", "other and the job it aborted");
  assert.equal((await d.cli(["wait", String(other)])).code, 1);
  assert.equal((await jobs(d)).get(otherChild)!.attempts.length, 1);

  const running = await submit("--wrap", "sleep 30");
  const refused = await d.cli(["restart", String(running), "999"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`job ${running}: Job ${running} has not ended`));
  assert.match(refused.stderr, /job 999: Unknown job 999/);
  await ok(d, ["kill", String(running)]);
});

Deno.test("--retries runs a failing job again by itself, after --retry-delay, also across a daemon restart", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2"] });
  const dir = `${d.home}/work`;
  await Deno.mkdir(dir);
  // Fails on its first two runs, succeeds on the third.
  const thirdTime = `echo run >> runs; [ "$(wc -l < runs)" -ge 3 ]`;
  const id = Number(
    await ok(d, ["submit", "--retries", "3", "--retry-delay", "0.3", "--wrap", thirdTime], dir),
  );
  // Between two runs it waits in user-hold; a daemon restart keeps the retry due.
  await waitFor(
    async () => (await jobs(d)).get(id)!.attempts.length >= 1,
    "the first failure",
    30_000,
  );
  await d.crash();
  await using again = await TestDaemon.start({ home: d.home, args: ["--maxprocs", "2"] });
  assert.equal((await again.cli(["wait", String(id)])).code, 0);
  const job = (await jobs(again)).get(id)!;
  assert.equal(job.state, "S");
  assert.deepEqual(job.attempts.map((a) => a.state), ["F", "F"]);
  assert.equal(job.retries, 3);

  const hopeless = Number(
    await ok(again, ["submit", "--retries", "1", "--wrap", "echo x >> tries; exit 4"], dir),
  );
  const end = await again.cli(["wait", String(hopeless)]);
  assert.equal(end.code, 1);
  assert.equal(
    (await Deno.readTextFile(`${dir}/tries`)).trim(),
    "x\nx",
    "run twice: once and one retry",
  );
  assert.equal((await jobs(again)).get(hopeless)!.exit_code, 4);
});
