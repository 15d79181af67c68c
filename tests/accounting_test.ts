/**
 * End-to-end tests of accounting (docs/accounting.md): a job's CPU time,
 * the peak memory of all its processes together, wall time and signal, as
 * `sjq status`, `sjq show` and `--json` show them, the warning for a peak
 * above the declared memory, and `sjq acct`'s sums.
 */

import assert from "node:assert/strict";
import type { JobInfo } from "../src/info.ts";
import type { AcctRow } from "../src/cli/acct.ts";
import { cgroupProblem } from "../src/memory_cgroup.ts";
import { TestDaemon, waitFor } from "./harness.ts";

const MiB = 1024 ** 2;
const PERL = ["/usr/bin/perl", "/bin/perl"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
/** Why the memory tests cannot run here, for their names; "" when they can. */
const NO_PERL = PERL === undefined ? " (ignored: no perl here to hold memory)" : "";

/** A perl one-liner that holds `mib` MiB (written, so resident), says so in file `mark`, waits for `wait` files, then 1 s. */
function holder(mib: number, mark: string, wait: string[]): string {
  const until = wait.map((f) => `-e "${f}"`).join(" && ") || "1";
  return `${PERL} -e 'my $x = "a"; $x x= ${mib} * 1024 * 1024; open my $f, ">", "${mark}"; ` +
    `close $f; select(undef, undef, undef, 0.02) until ${until}; sleep 1'`;
}

async function ok(d: TestDaemon, args: string[], cwd?: string): Promise<string> {
  const out = await d.cli(args, cwd === undefined ? {} : { cwd });
  assert.equal(out.code, 0, `sjq ${args.join(" ")}: ${out.stderr}`);
  return out.stdout;
}

async function info(d: TestDaemon, id: number): Promise<JobInfo> {
  return (JSON.parse(await ok(d, ["status", "--json", String(id)])) as JobInfo[])[0]!;
}

function within(actual: number, expected: number, share: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= expected * share,
    `${what}: ${(actual / MiB).toFixed(1)} MiB is not within ${share * 100}% of ${
      (expected / MiB).toFixed(1)
    } MiB`,
  );
}

Deno.test({
  name: `a job's peak memory is its processes' together, within 10%; CPU, wall, signal${NO_PERL}`,
  ignore: NO_PERL !== "",
  async fn() {
    await using d = await TestDaemon.start({ args: ["--maxprocs", "2"] });
    const dir = `${d.home}/work`;
    await Deno.mkdir(dir);
    const submit = async (...args: string[]) => Number(await ok(d, ["submit", ...args], dir));
    // 200 MiB in one process, declared as 100M: its peak is over what it declared.
    const one = await submit("-n", "one", "-m", "100M", "--wrap", holder(200, "one", []));
    // Two processes of 100 MiB each, both alive at once: the job's peak is their sum.
    const two = await submit(
      "-n",
      "two",
      "-m",
      "1G",
      "--wrap",
      `${holder(100, "a", ["a", "b"])} &\n${holder(100, "b", ["a", "b"])}\nwait`,
    );
    // 100 MiB in a process that left the job (a new session, its parent gone: the shepherd's now).
    const gone = await submit(
      "-n",
      "gone",
      "-m",
      "1G",
      "--wrap",
      `(setsid ${holder(100, "gone", [])} &)\nwhile [ ! -e gone ]; do sleep 0.02; done\nsleep 1.5`,
    );
    for (const id of [one, two, gone]) assert.equal((await d.cli(["wait", String(id)])).code, 0);
    const single = await info(d, one);
    const pair = await info(d, two);
    within((await info(d, gone)).usage.max_rss!, 100 * MiB, 0.1, "a process that left the job");
    within(single.usage.max_rss!, 200 * MiB, 0.1, "one process of 200 MiB");
    within(pair.usage.max_rss!, 200 * MiB, 0.1, "two processes of 100 MiB");
    assert.ok(single.usage.wall! >= 1, `wall time ${single.usage.wall} s of a job that slept 1 s`);
    assert.ok(single.usage.cpu_user! + single.usage.cpu_system! > 0, "writing 200 MiB takes CPU");
    assert.equal(single.usage.signal, null);

    // Its peak over its declared 100M: a warning in the daemon's log and in sjq show.
    await waitFor(() => d.stderr.includes(`job ${one}: warning: its peak memory`), "the warning");
    const show = await ok(d, ["show", String(one)]);
    assert.match(show, /^ {2}warning +its peak memory 2\d\d(\.\d)?M exceeded its declared 100M$/m);
    assert.match(show, /^ {2}peak mem +2\d\d(\.\d)?M$/m);
    assert.match(show, /^ {2}cpu +\d+\.\d{3} s user, \d+\.\d{3} s system$/m);
    assert.match(show, /^ {2}wall +\d+\.\d{3} s$/m);
    assert.doesNotMatch(await ok(d, ["show", String(two)]), /warning/);

    // A busy loop: CPU time above 0, and no more than its wall time (one process) and a margin.
    const busy = await submit("--wrap", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done");
    await ok(d, ["wait", String(busy)]);
    const loop = (await info(d, busy)).usage;
    const cpu = loop.cpu_user! + loop.cpu_system!;
    assert.ok(cpu > 0.01, `CPU time of a busy loop: ${cpu} s`);
    assert.ok(cpu <= loop.wall! + 0.1, `CPU ${cpu} s within wall ${loop.wall} s`);

    // A job a signal ended: the signal is kept beside the exit code.
    const sleeper = await submit("--wrap", "exec sleep 60");
    await waitFor(async () => (await info(d, sleeper)).state === "R", "the sleeper to run");
    await ok(d, ["kill", String(sleeper)]);
    await d.cli(["wait", String(sleeper)]);
    const killed = await info(d, sleeper);
    assert.deepEqual([killed.state, killed.exit_code, killed.usage.signal], ["K", 143, 15]);
    assert.match(await ok(d, ["show", String(sleeper)]), /^ {2}signal +15$/m);

    // The status table's PEAK column.
    const table = (await ok(d, ["status"])).trimEnd().split("\n");
    const peakAt = table[0]!.indexOf("PEAK") + "PEAK".length;
    const oneRow = table.find((l) => l.trimStart().startsWith(`${one} `))!;
    assert.match(oneRow.slice(0, peakAt), /2\d\d(\.\d)?M$/);
  },
});

Deno.test("sjq acct sums ended jobs per name, state and day; filters; --json", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2"] });
  const dir = `${d.home}/work`;
  await Deno.mkdir(dir);
  const submit = async (...args: string[]) => Number(await ok(d, ["submit", ...args], dir));
  const loop = "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done";
  const ids = [
    await submit("-n", "align", "--wrap", loop),
    await submit("-n", "align", "--wrap", loop),
    await submit("-n", "merge", "--wrap", `${loop}; exit 3`),
  ];
  const waiting = await submit("-n", "later", "--hold", "--wrap", "true");
  // Retried once: its first attempt keeps its own usage and counts as a run.
  const flaky = await submit("-n", "flaky", "--retries", "1", "--wrap", `${loop}; exit 1`);
  for (const id of [...ids, flaky]) await d.cli(["wait", String(id)]);
  const retried = await info(d, flaky);
  assert.equal(retried.attempts.length, 1);
  assert.ok(retried.attempts[0]!.usage.cpu_user! > 0, "the first attempt's CPU time is kept");
  assert.ok(retried.attempts[0]!.usage.wall! > 0);
  const jobs = await Promise.all(ids.map((id) => info(d, id)));
  const acct = async (...args: string[]) =>
    JSON.parse(await ok(d, ["acct", "--json", ...args])) as AcctRow[];
  const close = (a: number, b: number) => Math.abs(a - b) < 0.002;

  const byName = await acct();
  assert.deepEqual(byName.map((r) => [r.group, r.runs]), [
    ["align", 2],
    ["flaky", 2],
    ["merge", 1],
    ["total", 5],
  ]);
  const flakyRow = byName[1]!;
  assert.deepEqual(flakyRow.states, { F: 2 });
  assert.ok(
    close(flakyRow.cpu_user, retried.usage.cpu_user! + retried.attempts[0]!.usage.cpu_user!),
    "both runs' CPU time",
  );
  const align = byName[0]!;
  const [a, b] = [jobs[0]!.usage, jobs[1]!.usage];
  assert.ok(close(align.cpu_user, a.cpu_user! + b.cpu_user!), "CPU user time summed");
  assert.ok(close(align.cpu_system, a.cpu_system! + b.cpu_system!), "CPU system time summed");
  assert.ok(close(align.wall, a.wall! + b.wall!), "wall time summed");
  assert.equal(align.max_rss, Math.max(a.max_rss ?? 0, b.max_rss ?? 0) || null, "largest peak");
  assert.deepEqual(align.states, { S: 2 });
  assert.ok(byName[3]!.cpu_user > 0, "the total has the CPU time");
  assert.equal(byName.find((r) => r.group === "later"), undefined, "a job that has not ended");

  assert.deepEqual((await acct("--by", "state")).map((r) => [r.group, r.runs]), [
    ["success", 2],
    ["failed", 3],
    ["total", 5],
  ]);
  const days = await acct("--by", "day");
  assert.equal(days.length, 2);
  assert.match(days[0]!.group, /^\d{4}-\d\d-\d\d$/);
  assert.deepEqual((await acct("--state", "F")).map((r) => r.group), ["flaky", "merge", "total"]);
  assert.deepEqual((await acct("--name", "al*")).map((r) => r.group), ["align", "total"]);
  assert.deepEqual((await acct("--since", "1h")).at(-1)!.runs, 5);
  assert.deepEqual((await acct("--since", "2999-01-01")).map((r) => r.runs), [0]);

  const table = (await ok(d, ["acct"])).trimEnd().split("\n");
  assert.match(table[0]!, /^NAME +RUNS +WALL +CPU-USER +CPU-SYS +PEAK$/);
  assert.match(table[1]!, /^align +2 +\d+:\d\d\.\d{3} +\d+:\d\d\.\d{3} +\d+:\d\d\.\d{3} +(\S+|-)$/);
  assert.match(table.at(-1)!, /^total +5 /);

  const bad = await d.cli(["acct", "--by", "colour"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /error: bad --by "colour"\nhint: give one of name, state, day, user/);
  assert.equal((await d.cli(["acct", "--since", "yesterday"])).code, 2);
  await ok(d, ["kill", String(waiting)]);
});

Deno.test("a job waits while MemAvailable is short of its memory, and starts once no other job runs", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2", "--maxmem", "1T"] });
  const dir = `${d.home}/work`;
  await Deno.mkdir(dir);
  const submit = async (...args: string[]) => Number(await ok(d, ["submit", ...args], dir));
  const gate = await submit("-m", "64M", "--wrap", "while [ ! -e go ]; do sleep 0.02; done");
  await waitFor(async () => (await info(d, gate)).state === "R", "the gate to run");
  // Far more than the machine has free, well within sjq.maxmem.
  const available = Number(
    /^MemAvailable:\s+(\d+) kB$/m.exec(
      await Deno.readTextFile("/proc/meminfo"),
    )![1],
  ) * 1024;
  const big = `${Math.ceil(available / 1024 ** 3) + 16}G`;
  const hungry = await submit("-n", "hungry", "-m", big, "--wrap", "true");
  const reason = new RegExp(
    `^ {2}reason +waiting for memory: MemAvailable \\d+(\\.\\d)?[MG] < ${big} \\+ 256M margin$`,
    "m",
  );
  await waitFor(async () => reason.test(await ok(d, ["show", String(hungry)])), "the reason");
  const waiting = await info(d, hungry);
  assert.equal(waiting.state, "Q");
  assert.ok(waiting.mem_available! > 0 && waiting.mem_available! < waiting.mem);
  assert.match(d.stderr, new RegExp(`job ${hungry} waits for memory: MemAvailable`));
  // A small job is not kept back by it (skipping, as for CPUs).
  const small = await submit("-m", "64M", "--wrap", "true");
  assert.equal((await d.cli(["wait", String(small)])).code, 0);
  assert.equal((await info(d, hungry)).state, "Q", "still waiting while the gate runs");
  assert.equal((await info(d, gate)).mem_available, null, "only a waiting job has one");

  // Once nothing else runs, waiting would free nothing: it starts, and the log says why.
  await Deno.writeTextFile(`${dir}/go`, "");
  assert.equal((await d.cli(["wait", String(hungry)])).code, 0);
  assert.match(d.stderr, new RegExp(`job ${hungry} starts although MemAvailable is short`));
  assert.equal((await ok(d, ["config", "sjq.memmargin"])).trim(), "256M");
});

/** Why cgroup v2 memory limits cannot be used on this machine, or null (a probe cgroup is made and removed). */
const CGROUP_PROBLEM = (() => {
  const problem = cgroupProblem("probe");
  if (problem === null) {
    const mount = Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
      .find((l) => l.split(" - ")[1]?.startsWith("cgroup2 "))!.split(" ")[4];
    Deno.removeSync(`${mount}/sjq-probe`);
  }
  return problem;
})();

Deno.test({
  name: `sjq.enforce = memory: the kernel ends a job that takes more than it declared${
    CGROUP_PROBLEM === null ? "" : ` (ignored: ${CGROUP_PROBLEM})`
  }`,
  ignore: CGROUP_PROBLEM !== null || NO_PERL !== "",
  async fn() {
    await using d = await TestDaemon.start({ args: ["--enforce", "memory"] });
    const dir = `${d.home}/work`;
    await Deno.mkdir(dir);
    const submit = async (...args: string[]) => Number(await ok(d, ["submit", ...args], dir));
    const over = await submit("-m", "64M", "--wrap", holder(200, "over", []));
    const fits = await submit("-m", "400M", "--wrap", holder(200, "fits", []));
    await d.cli(["wait", String(over), String(fits)]);
    const [a, b] = [await info(d, over), await info(d, fits)];
    assert.equal(a.state, "F");
    assert.match(a.reason ?? "", /out of memory: it took more than it declared/);
    assert.ok(a.usage.max_rss! <= 64 * MiB * 1.1, "held to its limit");
    assert.equal(b.state, "S");
    within(b.usage.max_rss!, 200 * MiB, 0.1, "memory.peak of a job within its limit");
  },
});

Deno.test({
  name:
    "sjq.enforce = memory: a daemon refuses to start where cgroup v2 memory limits cannot be used",
  ignore: CGROUP_PROBLEM === null,
  async fn() {
    await using d = await TestDaemon.start({ args: ["--enforce", "memory"], noWait: true });
    const status = await d.exited();
    assert.notEqual(status.code, 0);
    assert.match(d.stderr, /sjq\.enforce = memory cannot be used here: .+/);
    const bad = await TestDaemon.start({ args: ["--enforce", "cpu"], noWait: true });
    await using _ = bad;
    assert.notEqual((await bad.exited()).code, 0);
    assert.match(
      bad.stderr,
      /Invalid value "cpu" for sjq\.enforce in --enforce: expected none or memory/,
    );
  },
});
