/**
 * What a pipelined SUBMIT costs the daemon: the scale workload's submits
 * (pairs of a queued job and one that depends on a running blocker, over one
 * connection), timed at an empty queue and again at a deep one, as the
 * daemon's CPU per submit (utime + stime from /proc), the wall-clock rate,
 * and the CPU this driver spent reading the replies (it shares the cores).
 * `--before CHECKOUT` runs another checkout's daemon (an older commit) beside
 * this one, in alternating rounds, so that both see the same machine.
 *
 *     deno run -A bench/submit_cost.ts [--n 4000] [--depth 100000] [--rounds 3]
 *       [--env] [--before CHECKOUT] [--cpu-prof DIR]
 *
 * `--env` sends this process's whole environment with every SUBMIT, as
 * `sjq submit` does; without it the requests are the scale workload's (no
 * ENV). `--cpu-prof DIR` has this checkout's daemon write a V8 CPU profile
 * into DIR when it exits.
 *
 * @module
 */

import type { RawClient } from "../tests/harness.ts";
import { encodeBase64 } from "../src/base64.ts";
import { takeFlag } from "./proc.ts";
import { processCpuMs } from "../tests/inspect.ts";
import { encodeSubmit, ping, repeat, startRawDaemon, submitPipelined } from "./sjq.ts";

const args = [...Deno.args];
const flag = (name: string) => takeFlag(args, name);
const N = Number(flag("--n") ?? 4000);
const DEPTH = Number(flag("--depth") ?? 100_000);
const ROUNDS = Number(flag("--rounds") ?? 3);
const before = flag("--before");
const cpuProf = flag("--cpu-prof");
const withEnv = args.includes("--env");

interface Daemon {
  label: string;
  pid: number;
  process: Deno.ChildProcess;
  client: RawClient;
  pair: Uint8Array;
  home: string;
}

async function start(label: string, main: string, prof: string | undefined): Promise<Daemon> {
  const home = await Deno.makeTempDir({ prefix: `sjq-submits-${label}-` });
  const { process, client } = await startRawDaemon({
    main,
    home,
    denoFlags: prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : [],
    stderr: "inherit",
  }).catch((e) => {
    throw new Error(`${label}: ${(e as Error).message}`);
  });
  const opts: Record<string, string> = { CWD: home, STDOUT: "/dev/null", STDERR: "/dev/null" };
  if (withEnv) {
    opts.ENV = Object.entries(Deno.env.toObject())
      .map(([k, v]) => `${k}=${encodeBase64(v)}`).join(";");
  }
  const [blocker] = await submitPipelined(
    client,
    encodeSubmit("exec sleep 86400\n", { ...opts, PROCS: "2" }),
    1,
  );
  for (let i = 0; (await ping(client)).R !== 1; i++) {
    if (i > 1000) throw new Error(`${label}: the blocker does not run`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const a = encodeSubmit("true\n", opts);
  const b = encodeSubmit("true\n", { ...opts, DEPENDS: String(blocker) });
  const pair = new Uint8Array(a.length + b.length);
  pair.set(a);
  pair.set(b, a.length);
  return { label, pid: process.pid, process, client, pair, home };
}

/** N submits; returns [daemon CPU µs per submit, submits/s, this client's CPU µs per submit]. */
async function measure(d: Daemon, n: number): Promise<[number, number, number]> {
  const requests = repeat(d.pair, n / 2);
  const c0 = processCpuMs(d.pid).self, me0 = processCpuMs(Deno.pid).self;
  const t0 = performance.now();
  await submitPipelined(d.client, requests, n);
  const wall = performance.now() - t0;
  const me = (processCpuMs(Deno.pid).self - me0) * 1000 / n;
  return [(processCpuMs(d.pid).self - c0) * 1000 / n, n / (wall / 1000), me];
}

async function fill(d: Daemon, to: number): Promise<void> {
  for (;;) {
    const counts = await ping(d.client);
    const depth = (counts.Q ?? 0) + (counts.H ?? 0);
    if (depth >= to) return;
    const k = Math.min(10_000, to - depth);
    await submitPipelined(d.client, repeat(d.pair, Math.ceil(k / 2)), Math.ceil(k / 2) * 2);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const here = new URL("../main.ts", import.meta.url).pathname;
const daemons = [await start("this", here, cpuProf)];
if (before) daemons.push(await start("before", `${before}/main.ts`, undefined));
const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
console.log(`N=${N} per round, ${ROUNDS} rounds, ENV ${withEnv ? "sent" : "none"}; load ${load()}`);
for (const depth of [0, DEPTH]) {
  for (const d of daemons) await fill(d, depth);
  const results = new Map(
    daemons.map((
      d,
    ) => [d.label, { cpu: [] as number[], rate: [] as number[], client: [] as number[] }]),
  );
  for (let r = 0; r < ROUNDS; r++) {
    for (const d of daemons) {
      const [cpu, rate, client] = await measure(d, N);
      results.get(d.label)!.cpu.push(cpu);
      results.get(d.label)!.rate.push(rate);
      results.get(d.label)!.client.push(client);
    }
  }
  for (const d of daemons) {
    const { cpu, rate, client } = results.get(d.label)!;
    console.log(
      `depth ${depth}: ${d.label.padEnd(6)} ${median(cpu).toFixed(1)} µs CPU/submit ` +
        `(${cpu.map((x) => x.toFixed(0)).join(" ")}), ${median(rate).toFixed(0)} submits/s ` +
        `(${rate.map((x) => x.toFixed(0)).join(" ")}); client ${
          median(client).toFixed(1)
        } µs CPU/submit`,
    );
  }
}
console.log(`load ${load()}`);
for (const d of daemons) {
  await d.client.request("SHUTDOWN KILL\r\n").catch(() => "");
  d.client[Symbol.dispose]();
  await d.process.status;
  await Deno.remove(d.home, { recursive: true }).catch(() => {});
}
