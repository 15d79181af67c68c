/**
 * Workload 1, throughput: N trivial jobs on 2 slots, from the first submit
 * to the end of the last job, on every system, with `xargs -P2` measured at
 * every size any system ran as the baseline.
 *
 * @module
 */

import type { ModeConfig } from "./config.ts";
import type { ThroughputCell } from "./results.ts";
import { figure } from "./stats.ts";
import { type System, XARGS } from "./systems.ts";
import { log } from "./log.ts";
import { deadline } from "./proc.ts";

/** The two kinds of trivial job. */
const JOBS = { trivial: "true", sleep: "sleep 0.01" } as const;

/** Sizes a run is cut down to when the configured one would take too long. */
const SMALLER = [5_000, 2_000, 1_000, 500, 200, 100, 50, 20, 10];

/**
 * The size to run instead of `target`, given a projected `perJob` cost in
 * seconds: `target` itself when it fits in `capSeconds`, else the largest
 * smaller round size that does, and never fewer than 10 jobs (a median of
 * runs shorter than that would say more about start-up than throughput).
 *
 * @example
 * ```ts
 * fitSize(1000, 0.14, 60); // 200
 * ```
 */
export function fitSize(target: number, perJob: number, capSeconds: number): number {
  if (perJob * target <= capSeconds) return target;
  return SMALLER.find((n) => n < target && perJob * n <= capSeconds) ?? Math.min(target, 10);
}

/** Runs the throughput workload on `systems` and returns one cell per (job kind, system, size). */
export async function throughput(
  cfg: ModeConfig,
  systems: System[],
  denoDir: string,
): Promise<ThroughputCell[]> {
  const cells: ThroughputCell[] = [];
  for (const kind of Object.keys(JOBS) as (keyof typeof JOBS)[]) {
    const sizes = cfg.throughput[kind];
    for (const sys of systems) {
      if (sys.key === "slurm" && kind === "sleep") continue; // see docs/benchmarks.md
      try {
        cells.push(...await _system(cfg, sys, kind, sizes, denoDir, cfg.throughput.capSeconds));
      } catch (e) {
        const skipped = `failed: ${(e as Error).message}`;
        log(`throughput ${kind} ${sys.key} ${skipped}`);
        cells.push(
          ...sizes.map((target) => ({ kind, system: sys.key, label: sys.label, target, skipped })),
        );
      }
    }
    // The baseline at every size that a system was cut down to.
    const have = new Set(
      cells.filter((c) => c.kind === kind && c.system === XARGS.key).map((c) => c.n),
    );
    const missing = [...new Set(cells.filter((c) => c.kind === kind && c.n).map((c) => c.n!))]
      .filter((n) => !have.has(n)).sort((a, b) => a - b);
    if (missing.length) {
      const extra = await _system(cfg, XARGS, kind, missing, denoDir, Infinity);
      cells.push(...extra.map((c) => ({ ...c, baselineOnly: true as const })));
    }
  }
  for (const c of cells) {
    const base = cells.find((b) => b.kind === c.kind && b.system === XARGS.key && b.n === c.n);
    if (c.seconds && base?.seconds) c.vsXargs = c.seconds.median / base.seconds.median;
  }
  return cells;
}

async function _system(
  cfg: ModeConfig,
  sys: System,
  kind: keyof typeof JOBS,
  sizes: number[],
  denoDir: string,
  capSeconds: number,
): Promise<ThroughputCell[]> {
  const job = JOBS[kind];
  const out: ThroughputCell[] = [];
  await using runner = await sys.open(denoDir);
  const w = cfg.throughput.warmupJobs;
  let perJob = (await runner.run(w, job)) / w;
  const done = new Set<number>();
  let failed: string | undefined;
  for (const target of sizes) {
    const base = { kind, system: sys.key, label: sys.label, target };
    if (failed) {
      out.push({ ...base, skipped: "skipped after the failure at a smaller N" });
      continue;
    }
    const n = fitSize(target, perJob, capSeconds);
    if (done.has(n)) {
      const projected = (perJob * target).toFixed(0);
      out.push({
        ...base,
        skipped: `skipped: projected ${projected} s per run (cap ${capSeconds} s)`,
      });
      continue;
    }
    const runs: number[] = [];
    try {
      // Twice the cap: the projection is linear, and some systems are not (nq).
      for (let r = 0; r < cfg.runs; r++) {
        const what = `a run of N=${n} took over ${2 * capSeconds} s`;
        runs.push(await deadline(runner.run(n, job), 2 * capSeconds * 1000, what));
      }
    } catch (e) {
      failed = (e as Error).message;
      log(`throughput ${kind} ${sys.key}: ${failed}`);
      out.push({ ...base, skipped: `stopped: ${failed}` });
      continue;
    }
    const seconds = figure(runs);
    log(
      `throughput ${kind} ${sys.key} n=${n}: ${seconds.median.toFixed(3)} s (${
        (n / seconds.median).toFixed(0)
      } jobs/s)`,
    );
    out.push({ ...base, n, seconds });
    done.add(n);
    perJob = seconds.median / n;
  }
  return out;
}
