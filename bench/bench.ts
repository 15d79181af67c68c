/**
 * The benchmark driver, run by `bench/run.sh` (`make bench`, `make
 * bench-quick`) once the peers are installed:
 *
 *     deno run -A bench/bench.ts --mode quick|full [--only throughput,latency,...]
 *     deno run -A bench/bench.ts --cleanup
 *
 * It runs the workloads in order, then writes `bench/results/<date>.json`,
 * `.md` and `.svg`; a full run of every workload also rewrites the results
 * section of docs/benchmarks.md. `--cleanup` stops whatever an interrupted
 * run left behind.
 *
 * @module
 */

import { clientCost } from "./client.ts";
import { type ModeName, MODES } from "./config.ts";
import { latency } from "./latency.ts";
import { log } from "./log.ts";
import { describeMachine } from "./machine.ts";
import { packing } from "./packing.ts";
import type { Results } from "./results.ts";
import { scale } from "./scale.ts";
import { removeAllScratch } from "./scratch.ts";
import { denoDir, sjqUnavailable } from "./sjq.ts";
import { stopSlurm } from "./slurm.ts";
import { NQ, SEM, SJQ_CLI, SJQ_PIPE, SLURM, type System, TSP, XARGS } from "./systems.ts";
import { checkTargets } from "./targets.ts";
import { throughput } from "./throughput.ts";
import { checkpoint, writeResults } from "./write.ts";

/** The workloads, in the order they run. */
const WORKLOADS = ["throughput", "latency", "client", "scale", "packing"] as const;
type Workload = typeof WORKLOADS[number];

const USAGE =
  "usage: bench.ts --mode quick|full [--only WORKLOAD,...] [--systems KEY,...] | --cleanup";

interface _Args {
  mode: ModeName;
  only: Workload[];
  /** Throughput systems to run besides the xargs baseline; all when undefined. */
  systems?: string[];
  cleanup: boolean;
}

function _parse(args: string[]): _Args {
  const out: _Args = { mode: "quick", only: [...WORKLOADS], cleanup: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--cleanup") out.cleanup = true;
    else if (a === "--mode" && (args[i + 1] === "quick" || args[i + 1] === "full")) {
      out.mode = args[++i] as ModeName;
    } else if (a === "--only" && args[i + 1]) {
      const list = args[++i]!.split(",");
      const bad = list.find((w) => !(WORKLOADS as readonly string[]).includes(w));
      if (bad) throw new TypeError(`Unknown workload "${bad}": expected ${WORKLOADS.join(", ")}`);
      out.only = list as Workload[];
    } else if (a === "--systems" && args[i + 1]) {
      out.systems = args[++i]!.split(",");
    } else throw new TypeError(`Unexpected argument "${a}"`);
  }
  return out;
}

async function _cleanup(): Promise<void> {
  await stopSlurm();
  await removeAllScratch();
}

/** Runs the benchmark and writes its results; false when a workload failed. */
async function _bench(args: _Args): Promise<boolean> {
  const cfg = MODES[args.mode];
  const started = new Date();
  const dir = await denoDir();
  const missing = await sjqUnavailable();
  if (missing) log(`sjq left out: ${missing}`);
  const withSjq = missing === undefined;
  const r: Results = {
    mode: cfg.name,
    partial: args.only.length < WORKLOADS.length || args.systems !== undefined,
    started: started.toISOString(),
    seconds: 0,
    machine: await describeMachine(new URL(".", import.meta.url).pathname),
    ...(missing ? { sjqMissing: missing } : {}),
    throughput: [],
    latency: [],
    client: [],
    scale: [],
    targets: [],
    errors: [],
  };
  const systems: System[] = [XARGS, ...(withSjq ? [SJQ_PIPE, SJQ_CLI] : []), TSP, SEM, NQ];
  if (cfg.throughput.slurm) systems.push(SLURM);
  const unknown = args.systems?.find((k) => !systems.some((s) => s.key === k));
  if (unknown) throw new TypeError(`Unknown system "${unknown}" in this mode`);
  const chosen = systems.filter((s) => s === XARGS || (args.systems?.includes(s.key) ?? true));
  // A failed workload is reported and the others still run.
  const attempt = async (w: Workload, go: () => Promise<void>) => {
    if (!args.only.includes(w)) return;
    try {
      await go();
    } catch (e) {
      log(`${w} failed: ${(e as Error).stack}`);
      r.errors.push(`${w}: ${(e as Error).message}`);
    }
    await checkpoint(r);
  };
  await attempt("throughput", async () => {
    r.throughput = await throughput(cfg, chosen, dir);
    for (const c of r.throughput) {
      if (c.skipped?.startsWith("failed:")) {
        r.errors.push(`throughput ${c.kind} ${c.system}: ${c.skipped}`);
      }
    }
  });
  await attempt("latency", async () => {
    r.latency = await latency(cfg.latencySamples, dir, withSjq);
  });
  await attempt("client", async () => {
    r.client = await clientCost(cfg.clientRuns, dir, withSjq);
  });
  if (withSjq) {
    await attempt("scale", async () => {
      r.scale = await scale(cfg, dir);
    });
    await attempt("packing", async () => {
      r.packing = await packing(cfg, dir);
    });
  }
  r.targets = checkTargets(r);
  r.seconds = (Date.now() - started.getTime()) / 1000;
  for (const f of await writeResults(r)) log(`wrote ${f}`);
  return r.errors.length === 0;
}

if (import.meta.main) {
  let args: _Args;
  try {
    args = _parse(Deno.args);
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n${USAGE}`);
    Deno.exit(2);
  }
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => {
      log(`${sig}: stopping everything this run started`);
      _cleanup().finally(() => Deno.exit(130));
    });
  }
  let ok = true;
  try {
    if (!args.cleanup) ok = await _bench(args);
  } finally {
    await _cleanup();
  }
  Deno.exit(ok ? 0 : 1);
}
