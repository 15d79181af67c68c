/**
 * Workload 5, memory-aware packing: the seeded mix of packing_model.ts on a
 * daemon with `--maxprocs 4 --maxmem 16G`, from the first submit to the end
 * of the last job, against the bound no schedule can beat and against sjq's
 * own policy run with no overhead. The jobs only sleep: CPUs and memory are
 * what they declare, as the scheduler sees them.
 *
 * @module
 */

import type { ModeConfig } from "./config.ts";
import { log } from "./log.ts";
import { type Capacity, lowerBound, makeMix, policyMakespan } from "./packing_model.ts";
import type { PackingResult } from "./results.ts";
import { scratchDir } from "./scratch.ts";
import { encodeSubmit, startSjq, submitPipelined, waitIdle } from "./sjq.ts";
import { figure } from "./stats.ts";

const CAPACITY: Capacity = { procs: 4, memGiB: 16 };

/** Runs the mix `cfg.runs` times on one daemon. */
export async function packing(cfg: ModeConfig, denoDir: string): Promise<PackingResult> {
  const jobs = makeMix(cfg.packing.jobs, cfg.packing.maxSeconds);
  await using dir = await scratchDir("packing");
  const maxmem = `${CAPACITY.memGiB}G`;
  await using d = await startSjq({ home: dir.path, denoDir, maxprocs: CAPACITY.procs, maxmem });
  using c = await d.connect();
  const opts = { CWD: dir.path, STDOUT: "/dev/null", STDERR: "/dev/null" };
  const parts = jobs.map((j) =>
    encodeSubmit(`sleep ${j.seconds}\n`, { ...opts, PROCS: String(j.procs), MEM: `${j.memGiB}G` })
  );
  const requests = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    requests.set(p, off);
    off += p.length;
  }
  const runs: number[] = [];
  for (let r = 0; r < cfg.runs; r++) {
    const t0 = performance.now();
    await submitPipelined(c, requests, jobs.length);
    runs.push(((await waitIdle(c, 5)).at - t0) / 1000);
  }
  const result = {
    jobs: jobs.length,
    maxprocs: CAPACITY.procs,
    maxmem,
    makespan: figure(runs),
    bound: lowerBound(jobs, CAPACITY),
    policy: policyMakespan(jobs, CAPACITY),
  };
  log(
    `packing: makespan ${result.makespan.median.toFixed(2)} s, ` +
      `bound ${result.bound.toFixed(2)} s, policy ${result.policy.toFixed(2)} s`,
  );
  return result;
}
