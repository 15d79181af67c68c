/**
 * Workload 2, latency, each sample a difference of two readings of the
 * driver's clock (see fifo.ts):
 *
 * - dispatch: on an idle system, from the submit's reply to the job's first
 *   instruction;
 * - hand-off: from the last instruction of a job holding every CPU to the
 *   first instruction of the next job, which was acknowledged (so waiting)
 *   before the first one was let through its gate to end.
 *
 * Besides sjq, the floor (the driver spawning `sh -c` itself and spawning the
 * next one as soon as it sees the previous exit) and task-spooler are
 * measured in the same way in the same run.
 *
 * @module
 */

import type { RawClient } from "../tests/harness.ts";
import { FifoClock, FifoGate } from "./fifo.ts";
import { log } from "./log.ts";
import { run } from "./proc.ts";
import type { LatencyRow } from "./results.ts";
import { scratchDir } from "./scratch.ts";
import { encodeSubmit, startSjq, waitIdle } from "./sjq.ts";
import { distribution } from "./stats.ts";

/** How a system starts a job: it returns the driver's time of the reply (or spawn). */
type Start = (script: string) => Promise<number>;

function _dispatchScript(clock: string, k: number): string {
  return `echo s${k} >'${clock}'\n`;
}

/** The chain of hand-offs: a clock, and a gate that holds each job until the next one waits. */
interface _Chain {
  clock: FifoClock;
  gate: FifoGate;
}

async function _chain(dir: string): Promise<_Chain & AsyncDisposable> {
  const clock = await FifoClock.open(`${dir}/clock`);
  const gate = await FifoGate.make(`${dir}/gate`);
  return {
    clock,
    gate,
    async [Symbol.asyncDispose]() {
      gate[Symbol.dispose]();
      await clock[Symbol.asyncDispose]();
    },
  };
}

function _handoffScript(c: _Chain, k: number): string {
  return `echo s${k} >'${c.clock.path}'\nread _ <'${c.gate.path}'\necho e${k} >'${c.clock.path}'\n`;
}

/** Dispatch latencies: one job at a time, each started only after `settle` says the last one is done. */
async function _dispatch(
  clock: FifoClock,
  samples: number,
  start: Start,
  settle: () => Promise<void>,
): Promise<number[]> {
  const ms: number[] = [];
  for (let k = 1; k <= samples; k++) {
    const started = clock.expect(`s${k}`);
    const replied = await start(_dispatchScript(clock.path, k));
    ms.push(await started - replied);
    await settle();
  }
  return ms;
}

/**
 * Hand-off latencies along a chain of jobs that each need every CPU: job k+1
 * is submitted while job k runs, and job k is let through its gate to end
 * only once that submit was acknowledged.
 */
async function _handoff(c: _Chain, samples: number, submit: Start): Promise<number[]> {
  const ms: number[] = [];
  await submit(_handoffScript(c, 1));
  await c.clock.expect("s1");
  for (let k = 1; k <= samples; k++) {
    await submit(_handoffScript(c, k + 1));
    await c.gate.release();
    const ended = await c.clock.expect(`e${k}`);
    ms.push(await c.clock.expect(`s${k + 1}`) - ended);
  }
  await c.gate.release();
  await c.clock.expect(`e${samples + 1}`);
  return ms;
}

function _row(system: string, label: string, dispatch: number[], handoff: number[]): LatencyRow {
  const row = { system, label, dispatch: distribution(dispatch), handoff: distribution(handoff) };
  const f = (d: typeof row.dispatch) => `p50 ${d.p50.toFixed(2)} p99 ${d.p99.toFixed(2)} ms`;
  log(`latency ${system}: dispatch ${f(row.dispatch)}, hand-off ${f(row.handoff)}`);
  return row;
}

/** The floor: the driver itself spawns each job, and the next as soon as it sees one exit. */
async function _floor(samples: number): Promise<LatencyRow> {
  await using dir = await scratchDir("lat-floor");
  await using c = await _chain(dir.path);
  const spawn = (script: string) =>
    new Deno.Command("sh", { args: ["-c", script], cwd: dir.path, stdin: "null" }).spawn();
  let child: Deno.ChildProcess | undefined;
  const dispatch = await _dispatch(c.clock, samples, (script) => {
    const t = performance.now();
    child = spawn(script);
    return Promise.resolve(t);
  }, async () => {
    await child?.status;
  });
  // A serial runner has no queue: job k+1 is spawned once job k's exit is seen.
  const handoff: number[] = [];
  child = spawn(_handoffScript(c, 1));
  await c.clock.expect("s1");
  for (let k = 1; k <= samples; k++) {
    await c.gate.release();
    const ended = await c.clock.expect(`e${k}`);
    await child.status;
    child = spawn(_handoffScript(c, k + 1));
    handoff.push(await c.clock.expect(`s${k + 1}`) - ended);
  }
  await c.gate.release();
  await c.clock.expect(`e${samples + 1}`);
  await child.status;
  return _row("floor", "spawn floor (Deno)", dispatch, handoff);
}

async function _sjq(samples: number, denoDir: string): Promise<LatencyRow> {
  await using dir = await scratchDir("lat-sjq");
  await using d = await startSjq({ home: dir.path, denoDir, maxprocs: 2 });
  await using chain = await _chain(dir.path);
  using c: RawClient = await d.connect();
  const opts = { CWD: dir.path, STDOUT: "/dev/null", STDERR: "/dev/null" };
  const submit = (procs: number) => async (script: string) => {
    await c.send(encodeSubmit(script, { ...opts, PROCS: String(procs) }));
    const line = await c.line();
    const t = performance.now();
    if (!line?.startsWith("OK ")) throw new Error(`SUBMIT failed: ${JSON.stringify(line)}`);
    return t;
  };
  const dispatch = await _dispatch(chain.clock, samples, submit(1), async () => {
    await waitIdle(c, 1);
  });
  const handoff = await _handoff(chain, samples, submit(2));
  await waitIdle(c, 1);
  return _row("sjq", "sjq", dispatch, handoff);
}

async function _tsp(samples: number): Promise<LatencyRow> {
  await using dir = await scratchDir("lat-tsp");
  const env = { TS_SOCKET: `${dir.path}/ts.sock`, TMPDIR: dir.path };
  await using chain = await _chain(dir.path);
  const submit = async (script: string) => {
    await run("tsp", ["-n", "sh", "-c", script], { env, cwd: dir.path });
    return performance.now();
  };
  try {
    await run("tsp", ["-S", "2"], { env, cwd: dir.path });
    const dispatch = await _dispatch(chain.clock, samples, submit, async () => {
      await run("tsp", ["-w"], { env });
    });
    await run("tsp", ["-S", "1"], { env });
    const handoff = await _handoff(chain, samples, submit);
    await run("tsp", ["-w"], { env });
    return _row("tsp", "tsp", dispatch, handoff);
  } finally {
    await run("tsp", ["-K"], { env, allowFail: true });
  }
}

/** Runs both latency measurements on the floor, on sjq (when `withSjq`) and on tsp. */
export async function latency(
  samples: number,
  denoDir: string,
  withSjq: boolean,
): Promise<LatencyRow[]> {
  const rows = [await _floor(samples)];
  if (withSjq) rows.push(await _sjq(samples, denoDir));
  rows.push(await _tsp(samples));
  return rows;
}
