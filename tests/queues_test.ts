/**
 * End-to-end tests of named queues (`--queue`, QUEUE, `[sjq.queue.NAME]`):
 * each queue's running jobs stay within its limits while the jobs of other
 * queues go on; unknown queues and jobs too large for their queue are
 * refused; directives, filters, reasons and restarts keep the queue.
 */

import assert from "node:assert/strict";
import type { JobInfo } from "../src/info.ts";
import { Bench } from "./gated_jobs.ts";
import { TestDaemon, waitFor } from "./harness.ts";

const RC = `[sjq]
maxprocs = 8
[sjq.queue.one]
maxprocs = 1
[sjq.queue.two]
maxprocs = 2
`;

/** Records its start (+id) and end (-id) in `events`, waits for `go.<id>` in between. */
const EVENTS = `#!/bin/sh
echo "+$SJQ_JOB_ID" >> events
while [ ! -e "go.$SJQ_JOB_ID" ]; do sleep 0.02; done
echo "-$SJQ_JOB_ID" >> events
exit "$(cat "go.$SJQ_JOB_ID")"
`;

/** The most jobs of `ids` that ran at once, from the events file. */
function mostAtOnce(events: string[], ids: ReadonlySet<number>): number {
  let now = 0;
  let most = 0;
  for (const e of events) {
    if (!ids.has(Math.abs(Number(e)))) continue;
    now += e.startsWith("+") ? 1 : -1;
    most = Math.max(most, now);
  }
  return most;
}

Deno.test("two queues with limits 1 and 2 never exceed them; a full queue does not block the others", async () => {
  await using d = await TestDaemon.start({ rc: RC });
  await using b = await Bench.open(d);
  const one: number[] = [];
  const two: number[] = [];
  for (let i = 0; i < 4; i++) one.push(await b.submit(EVENTS, { QUEUE: "one" }));
  for (let i = 0; i < 5; i++) two.push(await b.submit(EVENTS, { QUEUE: "two" }));
  // The original client's SUBMIT, without QUEUE: the default queue, not limited but by the machine.
  const plain = await b.submit(EVENTS);
  const events = async () =>
    (await b.read("events").catch(() => "")).split("\n").filter((l) => l !== "");
  await waitFor(async () => (await events()).length >= 4, "four jobs to start");
  await b.waitState(plain, "R");
  const states = await b.states();
  assert.deepEqual(
    [...one, ...two].map((id) => states[id]),
    ["R", "Q", "Q", "Q", "R", "R", "Q", "Q", "Q"],
    "the first of 'one', the first two of 'two'; later jobs of 'two' were not blocked by 'one'",
  );
  assert.equal((await b.info(plain)).queue, "default");
  assert.equal((await b.info(one[0]!)).queue, "one");

  const table = await d.cli(["status"]);
  assert.match(table.stdout, /^ *ID +NAME +STATE +PROCS +MEM .*QUEUE +DEPS /);
  const row = table.stdout.split("\n").find((l) => l.trimStart().startsWith(`${one[1]} `));
  assert.match(row ?? "", / one +- .*queue one is full \(1 of 1 CPUs in use\)$/);
  const alone = await d.cli(["status", String(one[1])]);
  assert.match(alone.stdout, /waiting for 1 CPU and 2G in queue one/);
  const listed = await d.cli(["status", "--queue", "two", "--json"]);
  assert.deepEqual((JSON.parse(listed.stdout) as JobInfo[]).map((j) => j.id), two);

  // Let every job go, a few at a time, as the scheduler starts them.
  await b.open(plain);
  const all = [...one, ...two];
  await waitFor(
    async () => {
      const now = await b.states();
      for (const id of all) {
        if (now[id] === "R") await Deno.stat(`${b.dir}/go.${id}`).catch(() => b.open(id));
      }
      return all.every((id) => now[id] === "S");
    },
    "every job to succeed",
    30_000,
  );
  const log = await events();
  assert.equal(mostAtOnce(log, new Set(one)), 1, "queue one ran one job at a time");
  assert.equal(mostAtOnce(log, new Set(two)), 2, "queue two ran two at a time, never more");
});

Deno.test("unknown queues and jobs larger than their queue are refused; names are checked", async () => {
  await using d = await TestDaemon.start({
    rc: `${RC}[sjq.queue.small]\nmaxmem = 1G\n`,
  });
  await using b = await Bench.open(d);
  const unknown = await d.cli(["submit", "--queue", "nope", "--wrap", "true"], { cwd: b.dir });
  assert.equal(unknown.code, 1);
  assert.match(
    unknown.stderr,
    /Unknown queue "nope" \(queues: default, one, small, two\); a queue is configured by a \[sjq\.queue\.nope\] section/,
  );
  assert.match(
    await b.client.submit("true\n", { CWD: b.dir, QUEUE: "one", PROCS: "2" }),
    /^ERROR PROCS 2 is more than sjq\.queue\.one\.maxprocs \(1\)$/,
  );
  assert.match(
    await b.client.submit("true\n", { CWD: b.dir, QUEUE: "small", MEM: "2G" }),
    /^ERROR MEM 2G is more than sjq\.queue\.small\.maxmem \(1G\)$/,
  );
  assert.match(
    await b.client.submit("true\n", { CWD: b.dir, QUEUE: "no/such" }),
    /^ERROR Bad QUEUE value "no\/such": expected a queue name/,
  );
  // Queue names are case-insensitive, as the rc file's section names are.
  const id = await b.submit("true\n", { QUEUE: "ONE" });
  assert.equal((await b.info(id)).queue, "one");
  assert.equal(await b.wait(id), "OK S 0");
  const config = await d.cli(["config", "sjq.queue.small.maxmem"]);
  assert.equal(config.stdout, "1G\n");
});

Deno.test("#SJQ --queue and #SBATCH -p name the queue; sjq show and --json give it", async () => {
  await using d = await TestDaemon.start({ rc: RC });
  await using b = await Bench.open(d);
  await Deno.writeTextFile(`${b.dir}/sj.sh`, "#!/bin/sh\n#SJQ --queue one\ntrue\n");
  await Deno.writeTextFile(`${b.dir}/sb.sh`, "#!/bin/sh\n#SBATCH -p two -c 1\ntrue\n");
  await Deno.writeTextFile(`${b.dir}/bad.sh`, "#!/bin/sh\n#SBATCH --partition=debug\ntrue\n");
  const ids: number[] = [];
  for (const script of ["sj.sh", "sb.sh"]) {
    const out = await d.cli(["submit", "--wait", script], { cwd: b.dir });
    assert.equal(out.code, 0, out.stderr);
    ids.push(Number(out.stdout));
  }
  assert.deepEqual([(await b.info(ids[0]!)).queue, (await b.info(ids[1]!)).queue], ["one", "two"]);
  const flag = await d.cli(["submit", "-q", "two", "--wait", "sj.sh"], { cwd: b.dir });
  assert.equal((await b.info(Number(flag.stdout))).queue, "two", "the command line wins");
  const bad = await d.cli(["submit", "bad.sh"], { cwd: b.dir });
  assert.equal(bad.code, 1, "a partition this daemon has no queue for is refused, not ignored");
  assert.match(bad.stderr, /Unknown queue "debug"/);
  const show = await d.cli(["show", String(ids[0])]);
  assert.match(show.stdout, /^ *queue +one$/m);
});

Deno.test("a restarted job keeps its queue; sjq reload changes a queue's limits at once", async () => {
  await using d = await TestDaemon.start({ rc: RC });
  await using b = await Bench.open(d);
  const failed = await b.submit("#!/bin/sh\nexit 3\n", { QUEUE: "one" });
  assert.equal(await b.wait(failed), "OK F 3");
  const gate = await b.gate({ QUEUE: "one" });
  await b.waitState(gate, "R");
  const restart = await d.cli(["restart", String(failed)]);
  assert.equal(restart.code, 0, restart.stderr);
  const again = await b.info(failed);
  assert.deepEqual([again.queue, again.state], ["one", "Q"], "it waits for its queue's one slot");

  await Deno.writeTextFile(`${d.home}/.sjqrc`, RC.replace("maxprocs = 1", "maxprocs = 2"));
  const reload = await d.cli(["reload"]);
  assert.equal(reload.code, 0, reload.stderr);
  assert.match(reload.stdout + reload.stderr, /queues: one, two/);
  assert.equal(await b.wait(failed), "OK F 3", "the raised limit let it run beside the gate");
  await b.open(gate);
  assert.equal(await b.wait(gate), "OK S 0");
});
