/**
 * The per-job breakdown of docs/benchmarks.md: N `true` jobs on 2 slots over
 * one pipelined connection, and what each process spent on them, from
 * /proc (utime + stime): the daemon, the shepherd, and the jobs themselves
 * (the shepherd's reaped children). Beside it, `xargs -P2` running the same
 * N jobs in the same run, and the load average.
 *
 *     deno run -A bench/per_job.ts [N] [--rounds R] [--cpu-prof DIR] [--strace FILE] [--strace-daemon FILE]
 *
 * `--cpu-prof DIR` has the daemon write a V8 CPU profile into DIR when it
 * exits; `--strace FILE` counts the shepherd's own system calls (`strace -c`,
 * attached once it runs; add `--follow` to count the jobs' with them);
 * `--strace-daemon FILE` counts the daemon's (all its threads).
 * `--rounds R` runs the N jobs R times on the same daemon (whose store keeps
 * the ended jobs, as `make bench`'s rounds do), one line each.
 *
 * @module
 */

import { takeFlag } from "./proc.ts";
import { processCpuMs } from "../tests/inspect.ts";
import { encodeSubmit, MAIN, repeat, startRawDaemon, submitPipelined, waitIdle } from "./sjq.ts";

const args = [...Deno.args];
const flag = (name: string) => takeFlag(args, name);
const cpuProf = flag("--cpu-prof");
const straceOut = flag("--strace");
const straceDaemon = flag("--strace-daemon");
const rounds = Number(flag("--rounds") ?? 1);
const follow = args.includes("--follow");
if (follow) args.splice(args.indexOf("--follow"), 1);
const N = Number(args[0] ?? 5000);

function load(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

function shepherdOf(spool: string): number {
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0");
      if (argv[argv.length - 2] === spool && argv.includes("__shepherd")) return Number(e.name);
    } catch { /* gone */ }
  }
  throw new Error("no shepherd");
}

async function xargs(n: number): Promise<number> {
  const t0 = performance.now();
  const p = new Deno.Command("sh", {
    args: ["-c", `seq ${n} | xargs -P2 -n1 sh -c true`],
    stdout: "null",
  }).spawn();
  await p.status;
  return performance.now() - t0;
}

const home = await Deno.makeTempDir({ prefix: "sjq-perjob-" });
const { process: daemon, client: c } = await startRawDaemon({
  main: MAIN,
  home,
  denoFlags: cpuProf ? [`--cpu-prof`, `--cpu-prof-dir=${cpuProf}`] : [],
});
const opts = { CWD: home, STDOUT: "/dev/null", STDERR: "/dev/null" };
// Warm up: the shepherd starts with the first job.
await submitPipelined(c, repeat(encodeSubmit("true\n", opts), 20), 20);
await waitIdle(c, 5);
const shepherd = shepherdOf(`${home}/sjq.db-spool`);
let strace: Deno.ChildProcess | null = null;
if (straceOut) {
  strace = new Deno.Command("strace", {
    args: ["-c", ...(follow ? ["-f"] : []), "-o", straceOut, "-p", String(shepherd)],
    stderr: "null",
  }).spawn();
  await new Promise((r) => setTimeout(r, 500));
}
let straceD: Deno.ChildProcess | null = null;
if (straceDaemon) {
  straceD = new Deno.Command("strace", {
    args: ["-c", "-f", "-o", straceDaemon, "-p", String(daemon.pid)],
    stderr: "null",
  }).spawn();
  await new Promise((r) => setTimeout(r, 500));
}
for (let round = 1; round <= rounds; round++) {
  const loadBefore = load();
  const x = await xargs(N);
  const d0 = processCpuMs(daemon.pid), s0 = processCpuMs(shepherd);
  const t0 = performance.now();
  await submitPipelined(c, repeat(encodeSubmit("true\n", opts), N), N);
  await waitIdle(c, 5);
  const wall = performance.now() - t0;
  const d1 = processCpuMs(daemon.pid), s1 = processCpuMs(shepherd);
  if (strace !== null && round === rounds) {
    Deno.kill(strace.pid, "SIGINT");
    await strace.status;
  }
  if (straceD !== null && round === rounds) {
    Deno.kill(straceD.pid, "SIGINT");
    await straceD.status;
  }
  const per = (ms: number) => (ms / N).toFixed(3);
  console.log(
    `${
      rounds > 1 ? `round ${round} of ${rounds}: ` : ""
    }N=${N} true jobs, 2 slots; load ${loadBefore} → ${load()}\n` +
      `xargs -P2: ${x.toFixed(0)} ms (${(N / x * 1000).toFixed(0)} jobs/s)\n` +
      `sjq:       ${wall.toFixed(0)} ms (${(N / wall * 1000).toFixed(0)} jobs/s), ${
        (wall / x).toFixed(2)
      }× xargs\n` +
      `per job (ms CPU): daemon ${per(d1.self - d0.self)}, shepherd ${
        per(s1.self - s0.self)
      }, the job's processes ${per(s1.children - s0.children)}`,
  );
}
c[Symbol.dispose]();
Deno.kill(daemon.pid, "SIGTERM");
await daemon.status;
Deno.kill(shepherd, "SIGKILL");
await Deno.remove(home, { recursive: true }).catch(() => {});
