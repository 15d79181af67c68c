/**
 * The shape of `bench/results/<date>.json`: everything one benchmark run
 * measured, with the machine and versions it ran on. The Markdown summary and
 * the chart are made from this alone.
 *
 * @module
 */

import type { ModeName } from "./config.ts";
import type { Distribution, Figure } from "./stats.ts";

/** The machine and the versions of everything compared. */
export interface Machine {
  cpu: string;
  cpus: number;
  memory: string;
  kernel: string;
  os: string;
  /** File system holding the daemons' databases (they fsync). */
  filesystem: string;
  /** Tool name to version, e.g. `{ deno: "2.9.6", tsp: "1.0.1+dfsg1-1" }`. */
  versions: Record<string, string>;
}

/** Workload 1: one system at one size. */
export interface ThroughputCell {
  /** `trivial` (`true`) or `sleep` (`sleep 0.01`). */
  kind: "trivial" | "sleep";
  system: string;
  label: string;
  /** The size the mode asked for. */
  target: number;
  /** The size run; smaller than `target` when the target would pass the time cap. */
  n?: number;
  /** Seconds from the first submit to the end of the last job. */
  seconds?: Figure;
  /** Median time over the median time of `xargs -P2` at the same size. */
  vsXargs?: number;
  /** Why nothing was run. */
  skipped?: string;
  /** Measured only as the baseline of a size another system was cut down to. */
  baselineOnly?: true;
}

/**
 * Jobs per second of a measured cell: the median with the spread of its runs
 * (the fastest run gives the max).
 */
export function jobsPerSecond(c: ThroughputCell): { value: number; min: number; max: number } {
  const n = c.n!, s = c.seconds!;
  return { value: n / s.median, min: n / s.max, max: n / s.min };
}

/** Workload 2: one system's latencies in milliseconds. */
export interface LatencyRow {
  system: string;
  label: string;
  /** From the submit's reply to the job's first instruction. */
  dispatch: Distribution;
  /** From one job's end to the start of the next, which was waiting for its CPUs. */
  handoff: Distribution;
}

/** Workload 3: wall time of one client process in milliseconds. */
export interface ClientRow {
  command: string;
  label: string;
  ms: Figure;
}

/** Workload 4: sjq at one queue depth. */
export interface ScaleRow {
  /** Jobs queued when the measurement started. */
  depth: number;
  /** Pipelined submits per second over one connection. */
  submitRate: Figure;
  /** Milliseconds for a full `STATUS`. */
  statusMs: Figure;
  /** Bytes of that STATUS payload. */
  statusBytes: number;
  /** Daemon resident memory in bytes after the measurements. */
  rss: number;
}

/** Workload 5: the mixed workload on a memory-limited daemon. */
export interface PackingResult {
  jobs: number;
  maxprocs: number;
  maxmem: string;
  /** Seconds from the first submit to the end of the last job. */
  makespan: Figure;
  /** Seconds no schedule can beat: max of the CPU, memory and longest-job bounds. */
  bound: number;
  /** Seconds the policy (FCFS with skipping) takes with no overhead at all. */
  policy: number;
}

/** A target from the issue and where the run stands. */
export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean;
}

/** One benchmark run. */
export interface Results {
  mode: ModeName;
  /** Whether only some workloads or systems ran (`--only`, `--systems`). */
  partial: boolean;
  /** ISO time the run started. */
  started: string;
  seconds: number;
  machine: Machine;
  /** Why sjq was left out, when it was. */
  sjqMissing?: string;
  /** Workloads that failed, each with its error. */
  errors: string[];
  throughput: ThroughputCell[];
  latency: LatencyRow[];
  client: ClientRow[];
  scale: ScaleRow[];
  packing?: PackingResult;
  targets: Target[];
}
