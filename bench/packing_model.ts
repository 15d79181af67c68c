/**
 * The mixed workload of the packing benchmark and what can be known about it
 * without running it: a seeded mix of jobs, the bound no schedule can beat,
 * and the makespan of sjq's policy (first come, first served with skipping)
 * when starting and ending jobs costs nothing.
 *
 * @module
 */

import { random } from "../tests/prng.ts";

/** One job of the mix: what it declares and how long it sleeps. */
export interface MixJob {
  procs: number;
  /** Declared memory in GiB. */
  memGiB: number;
  seconds: number;
}

/** CPUs and memory (GiB) of the daemon the mix runs on. */
export interface Capacity {
  procs: number;
  memGiB: number;
}

/**
 * `count` jobs declaring 1–2 CPUs (2 for about one in three) and 1–8 GiB,
 * each sleeping between a fifth of `maxSeconds` and `maxSeconds`, in 10 ms
 * steps.
 *
 * @example
 * ```ts
 * makeMix(3, 1).length; // 3
 * ```
 */
export function makeMix(count: number, maxSeconds: number, seed = 5): MixJob[] {
  const rnd = random(seed);
  return Array.from({ length: count }, () => ({
    procs: rnd() < 1 / 3 ? 2 : 1,
    memGiB: 1 + Math.floor(rnd() * 8),
    seconds: Math.round(maxSeconds * (0.2 + 0.8 * rnd()) * 100) / 100,
  }));
}

/**
 * The makespan no schedule can beat: the longest job, and the CPU-seconds and
 * GiB-seconds of all jobs spread perfectly over the capacity.
 *
 * @example
 * ```ts
 * lowerBound([{ procs: 2, memGiB: 1, seconds: 1 }], { procs: 2, memGiB: 8 }); // 1
 * ```
 */
export function lowerBound(jobs: readonly MixJob[], cap: Capacity): number {
  let cpu = 0, mem = 0, longest = 0;
  for (const j of jobs) {
    cpu += j.procs * j.seconds;
    mem += j.memGiB * j.seconds;
    longest = Math.max(longest, j.seconds);
  }
  return Math.max(longest, cpu / cap.procs, mem / cap.memGiB);
}

/**
 * The makespan of first come, first served with skipping when starting and
 * ending jobs take no time: at time 0 and at every job end, in submission
 * order, every waiting job that fits into what is free starts.
 *
 * @example
 * ```ts
 * const j = { procs: 2, memGiB: 1, seconds: 1 };
 * policyMakespan([j, j], { procs: 2, memGiB: 8 }); // 2
 * ```
 */
export function policyMakespan(jobs: readonly MixJob[], cap: Capacity): number {
  const waiting = [...jobs];
  let running: { job: MixJob; end: number }[] = [];
  let now = 0, procs = cap.procs, mem = cap.memGiB;
  for (;;) {
    for (let i = 0; i < waiting.length;) {
      const j = waiting[i]!;
      if (j.procs <= procs && j.memGiB <= mem) {
        procs -= j.procs;
        mem -= j.memGiB;
        running.push({ job: j, end: now + j.seconds });
        waiting.splice(i, 1);
      } else i++;
    }
    if (running.length === 0) {
      if (waiting.length) throw new RangeError("A job does not fit the capacity at all");
      return now;
    }
    now = Math.min(...running.map((r) => r.end));
    for (const r of running.filter((r) => r.end === now)) {
      procs += r.job.procs;
      mem += r.job.memGiB;
    }
    running = running.filter((r) => r.end !== now);
  }
}
