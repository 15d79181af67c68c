/**
 * End-to-end tests of the command line as people and scripts use it: every
 * submit form, directives, the environment, status (table, --json, --raw),
 * wait and its exit codes, log --follow, bulk control, drain, help and
 * usage errors, `sjq config`, and the error an original daemon earns.
 */

import assert from "node:assert/strict";
import type { JobInfo } from "../src/info.ts";
import { CONFIG_KEYS } from "../src/config.ts";
import { baseEnv, type Output, sjq, tempDir, TestDaemon, waitFor } from "./harness.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Options for {@linkcode run}. */
interface RunOptions {
  stdin?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** The expected exit code (default 0). */
  code?: number;
}

/** Runs `sjq ARGS…` against `d` and checks its exit code. */
async function run(d: TestDaemon, args: string[], opts: RunOptions = {}): Promise<Output> {
  const { code = 0, ...rest } = opts;
  const out = await d.cli(args, rest);
  assert.equal(out.code, code, `sjq ${args.join(" ")} exited ${out.code}; stderr:\n${out.stderr}`);
  return out;
}

/** Runs `sjq submit ARGS…`; checks that stdout is the id alone and returns it. */
async function submit(d: TestDaemon, args: string[], opts: RunOptions = {}): Promise<number> {
  const out = await run(d, ["submit", ...args], opts);
  assert.match(out.stdout, /^\d+\n$/, "submit prints the id alone");
  return Number(out.stdout);
}

/** Shell text that waits for the file `go-NAME` in the job's directory. */
function gate(name: string): string {
  return `while [ ! -e go-${name} ]; do sleep 0.02; done`;
}

/** Lets the {@linkcode gate} `name` in `dir` go on. */
async function openGate(dir: string, name: string): Promise<void> {
  await Deno.writeTextFile(`${dir}/go-${name}`, "");
}

/** The jobs as `sjq status --json` prints them. */
async function jobs(d: TestDaemon, ids: string[] = []): Promise<JobInfo[]> {
  return JSON.parse((await run(d, ["status", "--json", ...ids])).stdout) as JobInfo[];
}

/** Files in `dir` other than Deno's cache: a started daemon would leave its socket, database and log. */
function sjqFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((name) => name !== ".cache");
}

/** Waits until job `id` is in one of `states` (letters), asking over the raw protocol. */
async function waitState(d: TestDaemon, id: number, states: string): Promise<void> {
  using c = await d.connect();
  await c.waitState(id, states);
}

/** A directory for job files inside the daemon's HOME. */
async function workDir(d: TestDaemon): Promise<string> {
  const dir = `${d.home}/work`;
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}

/** A CLI process whose output is read while it runs. */
class Running implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #done: Promise<Output>;
  #stdout = "";
  #stderr = "";

  constructor(env: Record<string, string>, args: string[], cwd?: string) {
    const child = this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", MAIN, ...args],
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      ...(cwd ? { cwd } : {}),
    }).spawn();
    const read = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
      const dec = new TextDecoder();
      for await (const chunk of stream) add(dec.decode(chunk, { stream: true }));
    };
    const reading = Promise.all([
      read(child.stdout, (s) => this.#stdout += s),
      read(child.stderr, (s) => this.#stderr += s),
    ]);
    this.#done = (async () => {
      const { code } = await child.status;
      await reading;
      return { code, stdout: this.#stdout, stderr: this.#stderr };
    })();
  }

  /** What it printed on stdout so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** Waits until its stdout matches `pattern`; fails if it exits first. */
  async waitOutput(pattern: RegExp, what: string): Promise<RegExpMatchArray> {
    let exited = false;
    this.#done.then(() => exited = true);
    return await waitFor(() => {
      const m = this.#stdout.match(pattern);
      if (!m && exited) {
        throw new Error(`exited first; stdout ${this.#stdout}; stderr ${this.#stderr}`);
      }
      return m;
    }, what);
  }

  /** Waits for it to exit. */
  finished(): Promise<Output> {
    return this.#done;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* exited */ }
    await this.#done;
  }
}

Deno.test("submit: a file, '-', piped stdin, -- CMD ARG (quoted safely) and --wrap; the id alone on stdout", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "4"] });
  const dir = await workDir(d);
  await Deno.writeTextFile(`${dir}/file.sh`, "#!/bin/sh\necho from-file\n");
  const ids = {
    file: await submit(d, ["file.sh"], { cwd: dir }),
    dash: await submit(d, ["-"], { cwd: dir, stdin: "echo from-dash\n" }),
    piped: await submit(d, [], { cwd: dir, stdin: "echo from-pipe\n" }),
    command: await submit(d, ["--", "printf", "%s|", "a b", "it's", "$HOME", "`x`", "*"], {
      cwd: dir,
    }),
    wrap: await submit(d, ["--wrap", "echo from-wrap; echo two"], { cwd: dir }),
  };
  assert.equal(new Set(Object.values(ids)).size, 5, "distinct ids");
  assert.equal((await run(d, ["wait", ...Object.values(ids).map(String)])).stdout, "");
  const output = async (id: number) => await Deno.readTextFile(`${dir}/${id}.stdout`);
  assert.equal(await output(ids.file), "from-file\n");
  assert.equal(await output(ids.dash), "from-dash\n");
  assert.equal(await output(ids.piped), "from-pipe\n");
  assert.equal(await output(ids.command), "a b|it's|$HOME|`x`|*|");
  assert.equal(await output(ids.wrap), "from-wrap\ntwo\n");
  const names = Object.fromEntries((await jobs(d)).map((j) => [j.id, j.name]));
  assert.deepEqual(
    [ids.file, ids.dash, ids.piped, ids.command, ids.wrap].map((id) => names[id]),
    ["file.sh", "stdin", "stdin", "printf", "wrap"],
  );
});

Deno.test("directives: #SJQ lines at the top set job options, command-line flags win, list flags add up", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "4"] });
  const dir = await workDir(d);
  const first = await submit(d, ["--wrap", "true"], { cwd: dir });
  const second = await submit(d, ["--wrap", "true"], { cwd: dir });
  await run(d, ["wait", String(first), String(second)]);
  await Deno.writeTextFile(
    `${dir}/job.sh`,
    `#!/bin/sh
#SJQ -p 2 --mem 1G --name 'from directive'   # a comment
# an ordinary comment

#SJQ --after ${first} --env A=directive --env B=directive -o out.txt
echo "$A $B" > env.txt
#SJQ -p 3 --name "after the first command: ignored"
`,
  );
  const byDirective = await submit(d, ["job.sh"], { cwd: dir });
  const overridden = await submit(d, [
    "-p",
    "1",
    "-n",
    "flag",
    "--after",
    String(second),
    "--env",
    "B=flag",
    "job.sh",
  ], {
    cwd: dir,
  });
  await run(d, ["wait", String(byDirective), String(overridden)]);
  const [a, b] = await jobs(d, [String(byDirective), String(overridden)]);
  assert.deepEqual([a!.name, a!.procs, a!.mem, a!.depends], ["from directive", 2, 1024 ** 3, [
    first,
  ]]);
  assert.deepEqual([b!.name, b!.procs, b!.mem, b!.depends], ["flag", 1, 1024 ** 3, [
    first,
    second,
  ]]);
  assert.equal(a!.stdout, `${dir}/out.txt`);
  assert.equal(await Deno.readTextFile(`${dir}/env.txt`), "directive flag\n", "the flag's B wins");

  await Deno.writeTextFile(`${dir}/bad.sh`, "#!/bin/sh\n#SJQ -p 2\n#SJQ --prcs 4\necho never\n");
  const bad = await run(d, ["submit", "bad.sh"], { cwd: dir, code: 2 });
  assert.match(bad.stderr, /^error: bad\.sh:3: bad #SJQ directive: Unknown option '--prcs'/);
  assert.match(bad.stderr, /did you mean '--procs'/);
  await Deno.writeTextFile(`${dir}/quote.sh`, "#SJQ --name 'open\necho never\n");
  assert.match(
    (await run(d, ["submit", "quote.sh"], { cwd: dir, code: 2 })).stderr,
    /quote\.sh: .*line 1: .*quote/,
  );
  assert.equal((await jobs(d)).length, 4, "bad directives submit nothing");
});

Deno.test("environment: the submitter's by default; --no-env, --env NAME and --env NAME=VALUE refine it", async () => {
  await using d = await TestDaemon.start();
  const dir = await workDir(d);
  const env = { MINE: "from the shell", OTHER: "other; value=with = signs" };
  const script = `--wrap=echo "MINE=\${MINE-unset} OTHER=\${OTHER-unset} SET=\${SET-unset}"`;
  const all = await submit(d, [script], { cwd: dir, env });
  const none = await submit(d, ["--no-env", script], { cwd: dir, env });
  const some = await submit(d, ["--no-env", "--env", "OTHER", "--env", "SET=x=y", script], {
    cwd: dir,
    env,
  });
  await run(d, ["wait", String(all), String(none), String(some)]);
  const output = async (id: number) => await Deno.readTextFile(`${dir}/${id}.stdout`);
  assert.equal(
    await output(all),
    "MINE=from the shell OTHER=other; value=with = signs SET=unset\n",
  );
  assert.equal(await output(none), "MINE=unset OTHER=unset SET=unset\n");
  assert.equal(await output(some), "MINE=unset OTHER=other; value=with = signs SET=x=y\n");
  const missing = await run(d, ["submit", "--env", "NOT_SET_ANYWHERE", script], {
    cwd: dir,
    code: 2,
  });
  assert.match(missing.stderr, /--env NOT_SET_ANYWHERE: no such variable/);
});

Deno.test("submit --wait and wait: exit codes for S, F, K and A", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "4"] });
  const dir = await workDir(d);
  const waitSubmit = (args: string[], code: number) =>
    run(d, ["submit", "--wait", ...args], { cwd: dir, code });
  const ok = Number((await waitSubmit(["--wrap", "exit 0"], 0)).stdout);
  const failed = await waitSubmit(["--wrap", "exit 3"], 3);
  assert.match(failed.stderr, /job \d+: failed \(exit code 3\)/);
  const fail = Number(failed.stdout);
  const aborted = await waitSubmit(["--after", String(fail), "--wrap", "true"], 1);
  assert.match(aborted.stderr, /job \d+: aborted/);

  await using killedWait = new Running(d.env, ["submit", "--wait", "--wrap", "sleep 600"], dir);
  const killed = Number((await killedWait.waitOutput(/^(\d+)\n/, "the id of the job to kill"))[1]);
  await waitState(d, killed, "R");
  await run(d, ["kill", String(killed)]);
  const k = await killedWait.finished();
  assert.equal(k.code, 1);
  assert.match(k.stderr, /killed/);

  assert.equal((await run(d, ["wait", String(ok)])).code, 0);
  for (const id of [fail, killed, Number(aborted.stdout)]) {
    await run(d, ["wait", String(id)], { code: 1 });
  }
  const mixed = await run(d, ["wait", String(ok), String(fail), "999"], { code: 1 });
  assert.match(mixed.stderr, new RegExp(`job ${fail}: failed \\(exit code 3\\)`));
  assert.match(mixed.stderr, /job 999: unknown job 999/);
});

Deno.test("wait blocks until the job ends and exits 124 on --timeout", async () => {
  await using d = await TestDaemon.start();
  const dir = await workDir(d);
  const held = await submit(d, ["--hold", "--wrap", "true"], { cwd: dir });
  const late = await run(d, ["wait", "--timeout", "0.3", String(held)], { code: 124 });
  assert.match(late.stderr, /timed out after 0\.3 s/);

  const gated = await submit(d, ["--wrap", gate("a")], { cwd: dir });
  await using waiting = new Running(d.env, ["wait", String(gated)]);
  await waitState(d, gated, "R");
  let exited = false;
  waiting.finished().then(() => exited = true);
  await run(d, ["status", String(gated)]);
  assert.equal(exited, false, "wait returned while the job still ran");
  await openGate(dir, "a");
  assert.equal((await waiting.finished()).code, 0);
});

Deno.test("wait goes on with a new daemon when the one it asked stops while the job runs", async () => {
  await using d = await TestDaemon.start();
  const dir = await workDir(d);
  const id = await submit(d, ["--wrap", `${gate("s")}; exit 7`], { cwd: dir });
  await waitState(d, id, "R");
  await using waiting = new Running(d.env, ["wait", String(id)]);
  await waitFor(async () => (await run(d, ["ping"])).stdout.includes("R:1"), "the job to run");
  d.kill("SIGTERM");
  assert.equal((await d.exited()).code, 0);
  await waitFor(
    async () => (await d.cli(["ping"])).code === 0,
    "a new daemon started by wait",
    30_000,
  );
  await openGate(dir, "s");
  const out = await waiting.finished();
  assert.equal(out.code, 1);
  assert.match(out.stderr, new RegExp(`job ${id}: failed \\(exit code 7\\)`));
});

Deno.test("status: an aligned table, --state filter, --raw payload, no colour without a terminal", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "1"] });
  const dir = await workDir(d);
  const running = await submit(d, ["-n", "runner", "--wrap", gate("r")], { cwd: dir });
  await waitState(d, running, "R");
  const queued = await submit(d, ["-n", "a much longer name", "-m", "512M", "--wrap", "exit 4"], {
    cwd: dir,
  });
  const dependent = await submit(d, [
    "--after",
    `${running}`,
    "--afterany",
    `${queued}`,
    "--wrap",
    "true",
  ], {
    cwd: dir,
  });

  const table = (await run(d, ["status"])).stdout;
  assert.ok(!table.includes("\x1b["), "no escape codes when stdout is not a terminal");
  const rows = tableRows(table);
  assert.deepEqual(rows.map((r) => [r.ID, r.NAME, r.STATE, r.PROCS, r.MEM, r.DEPS, r.EXIT]), [
    [`${running}`, "runner", "running", "1", "2G", "-", "-"],
    [`${queued}`, "a much longer name", "queued", "1", "512M", "-", "-"],
    [`${dependent}`, "wrap", "holding", "1", "2G", `${running},any:${queued}`, "-"],
  ]);
  assert.match(rows[0]!.STARTED!, /^\d\d:\d\d:\d\d$|^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  assert.match(rows[0]!.ELAPSED!, /^\d+:\d\d:\d\d$/);
  assert.equal(rows[1]!.ELAPSED, "-", "not started: no elapsed time");
  assert.equal(rows[1]!.STARTED, "-");
  assert.deepEqual(rows.map((r) => r.REASON), [
    "-",
    rows[1]!.REASON,
    `waiting for jobs ${running}, ${queued}`,
  ]);

  const filtered = (await run(d, ["status", "--state", "R,holding"])).stdout.trimEnd().split("\n");
  assert.deepEqual(filtered.slice(1).map((l) => Number(l.trim().split(" ")[0])), [
    running,
    dependent,
  ]);
  const raw = (await run(d, ["status", "--raw"])).stdout;
  assert.equal(
    raw,
    `${running}\trunner\tR\t\r\n${queued}\ta much longer name\tQ\t\r\n${dependent}\twrap\tH\t${running}:${queued}\r\n`,
  );
  assert.equal(
    (await run(d, ["status", "--raw", "--state", "Q"])).stdout,
    `${queued}\ta much longer name\tQ\t\r\n`,
  );
  const unknown = await run(d, ["status", String(queued), "77"], { code: 1 });
  assert.equal(unknown.stdout.trimEnd().split("\n").length, 2);
  assert.match(unknown.stderr, /unknown job 77/);

  await openGate(dir, "r");
  await run(d, ["wait", String(dependent)]);
  const [ended] = tableRows((await run(d, ["status", String(queued)])).stdout);
  assert.deepEqual([ended!.STATE, ended!.EXIT], ["failed", "4"]);
  assert.match(ended!.ELAPSED!, /^0:00:\d\d$/);
  assert.equal(ended!.REASON, "exit 4");
});

/** Columns of the status table aligned to the right (numbers). */
const RIGHT_ALIGNED = new Set(["ID", "PROCS", "MEM", "PEAK", "ELAPSED", "EXIT"]);

/**
 * The rows of a status table by column name, checking that every cell lines
 * up with its header: numbers end where their header ends, text starts where
 * its header starts. Cells are separated by two spaces or more.
 */
function tableRows(table: string): Record<string, string>[] {
  const [header, ...lines] = table.trimEnd().split("\n");
  const columns = [...header!.matchAll(/\S+/g)].map((m) => ({
    name: m[0],
    start: m.index,
    end: m.index + m[0].length,
  }));
  return lines.map((line) => {
    const cells = [...line.matchAll(/\S+(?: \S+)*/g)];
    assert.equal(cells.length, columns.length, `a cell per column: ${line}`);
    return Object.fromEntries(cells.map((cell, i) => {
      const { name, start, end } = columns[i]!;
      const aligned = RIGHT_ALIGNED.has(name)
        ? cell.index + cell[0].length === end
        : cell.index === start;
      assert.ok(aligned, `column ${name} is aligned in:\n${header}\n${line}`);
      return [name, cell[0]];
    }));
  });
}

/** The `--json` fields, as docs/cli.md documents them. */
const JSON_FIELDS = [
  "id",
  "name",
  "state",
  "state_name",
  "procs",
  "mem",
  "depends",
  "dependencies",
  "cwd",
  "stdout",
  "stderr",
  "timeout",
  "submitted",
  "started",
  "ended",
  "exit_code",
  "reason",
  "pid",
  "args",
  "array",
  "array_id",
  "array_task",
  "uid",
  "attempts",
  "retries",
  "retry_delay",
  "slurm_id",
  "priority",
  "gpus",
  "gpu_ids",
  "queue",
  "usage",
  "mem_available",
];

Deno.test("status --json: every field of every job, checked field by field", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "4"] });
  const dir = await workDir(d);
  const before = Date.now();
  const first = await submit(d, ["--wrap", "true"], { cwd: dir });
  const second = await submit(d, ["--wrap", "exit 2"], { cwd: dir });
  await run(d, ["wait", String(first), String(second)], { code: 1 });
  const id = await submit(d, [
    ...[
      "-n",
      "json job",
      "-p",
      "2",
      "-m",
      "1536M",
      "--after",
      String(first),
      "--afterany",
      String(second),
    ],
    ...[
      "-o",
      "out.txt",
      "-t",
      "60",
      "--no-env",
      "--env",
      "FOO=bar",
      "--env",
      "ZED=1",
      "--wrap",
      "echo hi",
    ],
  ], { cwd: dir });
  await run(d, ["wait", String(id)]);
  const after = Date.now();
  const all = await jobs(d);
  assert.deepEqual(all.map((j) => j.id), [first, second, id]);
  for (const j of all) assert.deepEqual(Object.keys(j), JSON_FIELDS);
  const job = all[2]!;
  assert.equal(job.id, id);
  assert.equal(job.name, "json job");
  assert.equal(job.state, "S");
  assert.equal(job.state_name, "success");
  assert.equal(job.uid, Deno.uid());
  assert.equal(job.procs, 2);
  assert.equal(job.mem, 1536 * 1024 ** 2);
  assert.deepEqual(job.depends, [first, second]);
  assert.deepEqual(job.dependencies, [{ id: first, kind: "afterok" }, {
    id: second,
    kind: "afterany",
  }]);
  assert.equal(job.cwd, dir);
  assert.equal(job.stdout, `${dir}/out.txt`);
  assert.equal(job.stderr, `${dir}/${id}.stderr`);
  assert.equal(job.timeout, 60);
  const times = [job.submitted, job.started!, job.ended!].map(Date.parse);
  for (const t of times) {
    assert.ok(t >= before - 1000 && t <= after + 1000, `a time near now: ${t}`);
  }
  assert.ok(times[0]! <= times[1]! && times[1]! <= times[2]!, "submitted ≤ started ≤ ended");
  assert.equal(job.submitted, new Date(times[0]!).toISOString());
  assert.equal(job.exit_code, 0);
  assert.equal(job.reason, null);
  assert.equal(job.pid, null);
  assert.equal(job.gpus, 0);
  assert.deepEqual(job.gpu_ids, []);
  assert.deepEqual(Object.keys(job.usage), ["cpu_user", "cpu_system", "max_rss", "wall", "signal"]);
  assert.ok(job.usage.cpu_user! >= 0 && job.usage.cpu_system! >= 0, "CPU times measured");
  assert.equal(job.usage.wall, (times[2]! - times[1]!) / 1000, "wall time from start to end");
  assert.equal(job.usage.signal, null);
  const failed = all[1]!;
  assert.deepEqual([failed.state, failed.state_name, failed.exit_code], ["F", "failed", 2]);
  assert.deepEqual(await jobs(d, ["--state", "F"]), [failed]);
});

Deno.test("log prints a job's output and --stderr; --follow sees lines appear until the job ends", async () => {
  await using d = await TestDaemon.start();
  const dir = await workDir(d);
  const done = await submit(d, ["--wrap", "echo out; echo err >&2"], { cwd: dir });
  await run(d, ["wait", String(done)]);
  assert.equal((await run(d, ["log", String(done)])).stdout, "out\n");
  assert.equal((await run(d, ["log", "--stderr", String(done)])).stdout, "err\n");
  assert.match((await run(d, ["log", "99"], { code: 1 })).stderr, /unknown job 99/);

  const slow = await submit(d, [
    "--wrap",
    `echo first; ${gate("one")}; echo second; ${gate("two")}; echo third`,
  ], {
    cwd: dir,
  });
  await using follow = new Running(d.env, ["log", "--follow", String(slow)]);
  await follow.waitOutput(/^first\n$/, "the first line");
  await openGate(dir, "one");
  await follow.waitOutput(/^first\nsecond\n$/, "the second line");
  await openGate(dir, "two");
  const out = await follow.finished();
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, "first\nsecond\nthird\n");
});

Deno.test("kill, hold and release take several ids and ranges", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "1"] });
  const dir = await workDir(d);
  const blocker = await submit(d, ["--wrap", gate("b")], { cwd: dir });
  await waitState(d, blocker, "R");
  const ids: number[] = [];
  for (let i = 0; i < 6; i++) ids.push(await submit(d, ["--wrap", "true"], { cwd: dir }));
  const [a, b, c, e, f, g] = ids as [number, number, number, number, number, number];
  const states = async () => Object.fromEntries((await jobs(d)).map((j) => [j.id, j.state]));

  await run(d, ["hold", `${a}-${c}`, String(f)]);
  assert.deepEqual(await states(), {
    [blocker]: "R",
    [a]: "U",
    [b]: "U",
    [c]: "U",
    [e]: "Q",
    [f]: "U",
    [g]: "Q",
  });
  await run(d, ["release", `${b}-${c}`]);
  assert.deepEqual(await states(), {
    [blocker]: "R",
    [a]: "U",
    [b]: "Q",
    [c]: "Q",
    [e]: "Q",
    [f]: "U",
    [g]: "Q",
  });
  await run(d, ["kill", String(a), `${e}-${g}`, "500-502"]);
  assert.deepEqual(await states(), {
    [blocker]: "R",
    [a]: "K",
    [b]: "Q",
    [c]: "Q",
    [e]: "K",
    [f]: "K",
    [g]: "K",
  });
  await run(d, ["kill", String(blocker)]);
  await run(d, ["wait", `${b}-${c}`]);
  assert.equal((await states())[blocker], "K");
});

Deno.test("shutdown --drain starts nothing new and exits once the running jobs have ended", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "1", "--autoshutdown", "F"] });
  const dir = await workDir(d);
  const running = await submit(d, ["--wrap", gate("d")], { cwd: dir });
  await waitState(d, running, "R");
  const queued = await submit(d, ["--wrap", "echo ran"], { cwd: dir });
  await run(d, ["shutdown", "--drain"]);
  const refused = await run(d, ["submit", "--no-autostart", "--wrap", "true"], {
    cwd: dir,
    code: 1,
  });
  assert.match(refused.stderr, /no sjq daemon at|shutting down/);
  assert.equal(d.exitedCode, undefined, "the daemon waits for its running job");
  await openGate(dir, "d");
  assert.equal((await d.exited()).code, 0);
  await assert.rejects(
    Deno.stat(`${dir}/${queued}.stdout`),
    Deno.errors.NotFound,
    "the queued job never ran",
  );

  await using again = await TestDaemon.start({ home: d.home, args: ["--maxprocs", "1"] });
  const [r, q] = await jobs(again, [String(running), String(queued)]);
  assert.equal(r!.state, "S");
  assert.ok(
    q!.started === null || q!.started > r!.ended!,
    "the queued job starts only with the next daemon",
  );
});

Deno.test("usage errors exit 2 with 'error:' and a hint", async () => {
  await using home = await tempDir();
  const env = baseEnv(home.path, `${home.path}/sjq.sock`);
  const cases: [string[], RegExp][] = [
    [
      ["submit", "--prcs", "2", "x.sh"],
      /error: Unknown option '--prcs'\nhint: did you mean '--procs'\? see 'sjq submit --help'/,
    ],
    [["sbumit"], /error: unknown command "sbumit"\nhint: did you mean 'submit'\? see 'sjq --help'/],
    [["--frobnicate"], /error: unknown option "--frobnicate"/],
    [["kill", "7-3"], /error: bad job id or range "7-3"/],
    [["wait"], /error: no job id given/],
    [["submit", "--wrap", "true", "a.sh"], /give one of SCRIPT, -- CMD ARG\.\.\. and --wrap/],
    [["status", "--json", "--raw"], /give --json or --raw/],
    [["status", "--state", "Z"], /bad state "Z"/],
    [["wait", "--timeout", "soon", "1"], /bad --timeout "soon"/],
    [["log", "1", "2"], /give exactly one job id/],
    [["ping", "extra"], /unexpected argument "extra"/],
    [["completions", "tcsh"], /unknown shell "tcsh"/],
    [["config", "sjq.nonsense"], /unknown configuration key "sjq.nonsense"/],
    [["help", "nonsense"], /unknown command "nonsense"/],
  ];
  for (const [args, pattern] of cases) {
    const out = await sjq(args, { env });
    assert.equal(out.code, 2, `sjq ${args.join(" ")}: ${out.stderr}`);
    assert.equal(out.stdout, "", "nothing on stdout");
    assert.match(out.stderr, pattern);
    assert.match(out.stderr, /^error: .*\nhint: .*see 'sjq/);
  }
  assert.deepEqual(sjqFiles(home.path), [], "no daemon was started");
});

Deno.test("help: sjq --help, sjq help CMD and CMD --help with examples; --version", async () => {
  await using home = await tempDir();
  const env = baseEnv(home.path, `${home.path}/sjq.sock`);
  const main = await sjq(["--help"], { env });
  assert.equal(main.code, 0);
  const commands = [
    "submit",
    "status",
    "wait",
    "log",
    "kill",
    "hold",
    "release",
    "daemon",
    "ping",
    "shutdown",
    "config",
  ];
  for (const c of [...commands, "completions"]) {
    assert.match(main.stdout, new RegExp(`^  ${c} `, "m"));
  }
  for (const c of commands) {
    const help = await sjq(["help", c], { env });
    const flag = await sjq([c, "--help"], { env });
    assert.equal(help.code, 0);
    assert.equal(help.stdout, flag.stdout, `sjq help ${c} = sjq ${c} --help`);
    assert.match(help.stdout, new RegExp(`^sjq ${c}: .*\n\nUsage: sjq ${c}`));
    assert.match(help.stdout, /\nExamples:\n {2}sjq /);
  }
  assert.match((await sjq(["--version"], { env })).stdout, /^sjq \d+\.\d+\.\d+\n$/);
});

Deno.test("completions: bash completes commands and each command's flags", async () => {
  await using home = await tempDir();
  const env = baseEnv(home.path, `${home.path}/sjq.sock`);
  const bash = await sjq(["completions", "bash"], { env });
  assert.equal(bash.code, 0);
  await Deno.writeTextFile(`${home.path}/sjq.bash`, bash.stdout);
  const complete = async (...words: string[]) => {
    const script =
      `source ${home.path}/sjq.bash; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); ` +
      `COMP_CWORD=${words.length - 1}; _sjq; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const out = await new Deno.Command("bash", { args: ["-c", script], stdout: "piped" }).output();
    return new TextDecoder().decode(out.stdout).trim().split("\n");
  };
  assert.deepEqual(await complete("sjq", "su"), ["submit"]);
  assert.deepEqual(await complete("sjq", "submit", "--pro"), ["--procs"]);
  assert.deepEqual((await complete("sjq", "wait", "--")).sort(), [
    "--help",
    "--no-autostart",
    "--socket",
    "--timeout",
  ]);
  for (const shell of ["zsh", "fish"]) {
    const out = await sjq(["completions", shell], { env });
    assert.equal(out.code, 0);
    assert.match(out.stdout, shell === "zsh" ? /^#compdef sjq\n/ : /complete -c sjq .*-l procs/);
  }
});

Deno.test("config prints every effective value and where it came from", async () => {
  await using home = await tempDir();
  await Deno.writeTextFile(`${home.path}/.sjqrc`, "[sjq]\nwaittime = 5m\nmaxmem = 8G\n");
  const env = { ...baseEnv(home.path, `${home.path}/sjq.sock`), SJQ_MAXPROCS: "3" };
  const out = await sjq(["config"], { env });
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.trimEnd().split("\n");
  assert.equal(lines.length, CONFIG_KEYS.length);
  const entry = (key: string) => {
    const m = new RegExp(`^${key.replaceAll(".", "\\.")} += (.*?) +# (.*)$`, "m").exec(out.stdout);
    assert.ok(m, `a line for ${key}`);
    return [m[1], m[2]];
  };
  assert.deepEqual(entry("sjq.maxprocs"), ["3", "env SJQ_MAXPROCS"]);
  assert.deepEqual(entry("sjq.waittime"), ["5m00s", `${home.path}/.sjqrc:2`]);
  assert.deepEqual(entry("sjq.maxmem"), ["8G", `${home.path}/.sjqrc:3`]);
  assert.deepEqual(entry("sjq.socket"), [`${home.path}/sjq.sock`, "env SJQ_SOCKET"]);
  assert.deepEqual(entry("sjq.defaults.mem"), ["2G", "default"]);
  const one = await sjq(["config", "sjq.waittime", "--socket", "/tmp/elsewhere.sock"], { env });
  assert.equal(one.stdout, "5m00s\n");
  assert.equal(
    (await sjq(["config", "sjq.socket", "--socket", "/tmp/x.sock"], { env })).stdout,
    "/tmp/x.sock\n",
  );
});

/** A stand-in for an original SJQ daemon: PING works, anything else is an unknown command. */
async function originalDaemon(socket: string, serve: () => Promise<void>): Promise<void> {
  const listener = Deno.listen({ transport: "unix", path: socket });
  const conns: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.push((async () => {
        const buf = new Uint8Array(4096);
        let text = "";
        for (let n = await conn.read(buf); n !== null; n = await conn.read(buf).catch(() => null)) {
          text += new TextDecoder().decode(buf.subarray(0, n));
          for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n")) {
            const word = text.slice(0, i).trim().split(" ")[0]!;
            text = text.slice(i + 1);
            const reply = word === "PING" ? "OK \r\n" : `ERROR Unknown command: ${word}\r\n`;
            const bytes = new TextEncoder().encode(reply);
            for (let off = 0; off < bytes.length;) {
              off += await conn.write(bytes.subarray(off)).catch(() => bytes.length);
            }
          }
        }
        conn.close();
      })());
    }
  })();
  try {
    await serve();
  } finally {
    listener.close();
    await accepting;
    await Promise.all(conns);
  }
}

Deno.test("an original daemon that does not know WAIT, INFO or HOLD gets a clear error, not a hang", async () => {
  await using home = await tempDir();
  const socket = `${home.path}/sjq.sock`;
  const env = baseEnv(home.path, socket);
  await originalDaemon(socket, async () => {
    for (
      const [args, word] of [[["wait", "1"], "WAIT"], [["status"], "INFO"], [
        ["hold", "1"],
        "HOLD",
      ]] as const
    ) {
      const out = await sjq([...args], { env });
      assert.equal(out.code, 1);
      assert.equal(
        out.stderr,
        `error: the daemon does not support ${word} (an original SJQ daemon?)\n`,
      );
    }
  });
});

Deno.test("with auto-start off, a command that needs a daemon names the socket and how to start one", async () => {
  await using home = await tempDir();
  const socket = `${home.path}/sjq.sock`;
  const env = baseEnv(home.path, socket);
  const flag = await sjq(["status", "--no-autostart"], { env });
  assert.equal(flag.code, 1);
  assert.equal(
    flag.stderr,
    `error: no sjq daemon at ${socket}\nhint: start one with 'sjq daemon --detach'\n`,
  );
  const other = `${home.path}/other.sock`;
  const config = await sjq(["submit", "--socket", other, "--wrap", "true"], {
    env: { ...env, SJQ_AUTOSTART: "F" },
  });
  assert.equal(config.code, 1);
  assert.match(
    config.stderr,
    new RegExp(
      `no sjq daemon at ${other}\nhint: start one with 'sjq daemon --detach --socket ${other}'`,
    ),
  );
  assert.deepEqual(sjqFiles(home.path), [], "no daemon was started");
});
