/**
 * Sizes of the two benchmark modes. Everything that decides how long a run
 * takes lives here, so that `make bench` and `make bench-quick` differ only
 * in this table.
 *
 * @module
 */

/** The name of a benchmark mode, as given to `bench/run.sh`. */
export type ModeName = "quick" | "full";

/** How much of each workload a mode runs. */
export interface ModeConfig {
  /** `quick` or `full`. */
  name: ModeName;
  /** Timed runs behind every figure (the median, min and max are reported). */
  runs: number;
  /** Workload 1: jobs per run for `true` and for a 10 ms sleep. */
  throughput: {
    trivial: number[];
    sleep: number[];
    /** Jobs in the untimed warm-up run that also projects the cost of a size. */
    warmupJobs: number;
    /** A size whose projected run exceeds this is cut to a smaller one. */
    capSeconds: number;
    /** Whether single-node Slurm takes part (it needs ~15 s to start and stop). */
    slurm: boolean;
  };
  /** Workload 2: samples per latency distribution. */
  latencySamples: number;
  /** Workload 3: hyperfine runs per command. */
  clientRuns: number;
  /**
   * Workload 4: queue depths, pipelined submits timed at each, and untimed submits before
   * the first (killed and cleaned away again).
   */
  scale: { depths: number[]; submits: number; warmup: number };
  /** Workload 5: jobs in the mixed workload and their longest sleep. */
  packing: { jobs: number; maxSeconds: number };
}

/** The sizes of each mode. */
export const MODES: Record<ModeName, ModeConfig> = {
  quick: {
    name: "quick",
    runs: 3,
    // A smoke test: one job kind, each run cut to about a second.
    throughput: { trivial: [200], sleep: [], warmupJobs: 5, capSeconds: 1, slurm: false },
    latencySamples: 100,
    clientRuns: 10,
    scale: { depths: [0, 2_000], submits: 500, warmup: 2_000 },
    packing: { jobs: 12, maxSeconds: 0.25 },
  },
  full: {
    name: "full",
    runs: 3,
    throughput: {
      trivial: [1_000, 10_000],
      // 10,000 sleeps are at least 50 s per run on 2 slots whatever runs them,
      // and show no per-job cost that 10,000 `true` jobs do not.
      sleep: [1_000],
      warmupJobs: 20,
      capSeconds: 60,
      slurm: true,
    },
    latencySamples: 500,
    clientRuns: 50,
    scale: { depths: [0, 10_000, 100_000], submits: 2_000, warmup: 20_000 },
    packing: { jobs: 40, maxSeconds: 1 },
  },
};
