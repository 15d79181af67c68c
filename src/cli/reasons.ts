/**
 * Why a job is in its state, in a few words for people: why it waits (which
 * dependency, not enough CPUs or memory, held) and why it ended as it did.
 * Pure: everything it needs comes from INFO (and CONFIG for the limits).
 *
 * @module
 */

import type { JobInfo } from "../info.ts";
import { type State, STATE_NAMES } from "../job.ts";
import { formatSize } from "../size.ts";

/** The daemon's limits, from CONFIG; null fields are unknown or unlimited. */
export interface Limits {
  maxprocs: number | null;
  maxmem: number | null;
  /** How many GPU devices the daemon has (`sjq.gpus`); absent when unknown. */
  gpus?: number | null;
  /** The limits of the named queues (`sjq.queue.NAME.*`); a queue not here is not limited. */
  queues?: Record<string, { maxprocs: number | null; maxmem: number | null }>;
  /** `sjq.memmargin`; absent when unknown. */
  memmargin?: number | null;
}

/** What {@linkcode jobReason} can look at besides the job. */
export interface ReasonContext {
  /** Other jobs by id: dependencies, and (with `complete`) the running ones. */
  jobs: ReadonlyMap<number, JobInfo>;
  /** Whether `jobs` holds every job the daemon knows, so that free CPUs and memory can be counted. */
  complete: boolean;
  limits: Limits | null;
}

/**
 * Why `job` is where it is: `held: sjq release 7`, `waiting for job 5
 * (running)`, `waiting for 4 CPUs (2 free)`, `job 20 failed (exit 1)`,
 * `timed out after 60 s`; null for a running or successful job, or when
 * there is nothing more to say than the state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jobReason } from "./reasons.ts";
 *
 * const job = { id: 21, state: "A", reason: "dependency 20 ended in F", depends: [20] };
 * const dep = { id: 20, state: "F", exit_code: 1, reason: null };
 * const jobs = new Map([[20, dep]]) as never;
 * assert.equal(jobReason(job as never, { jobs, complete: false, limits: null }), "job 20 failed (exit 1)");
 * ```
 */
export function jobReason(job: JobInfo, context: ReasonContext): string | null {
  switch (job.state as State) {
    case "R":
    case "S":
      return null;
    case "U":
      return `held: sjq release ${job.id}`;
    case "H":
      return waitingForDeps(job, context.jobs);
    case "Q":
      return waitingForRoom(job, context);
    case "A": {
      const m = /^dependency (\d+) ended in ([A-Z])$/.exec(job.reason ?? "");
      if (m === null) return job.reason;
      const dep = context.jobs.get(Number(m[1]));
      const state = (dep?.state ?? m[2]) as State;
      const code = dep?.exit_code === null || dep?.exit_code === undefined
        ? ""
        : ` (exit ${dep.exit_code})`;
      return `job ${m[1]} ${STATE_NAMES[state] ?? state}${code}`;
    }
    case "F":
      if (job.reason !== null) return job.reason;
      return job.exit_code === null ? null : `exit ${job.exit_code}`;
    case "K":
      return job.reason === "killed" ? null : job.reason;
    case "E":
      return job.reason;
  }
}

function waitingForDeps(job: JobInfo, jobs: ReadonlyMap<number, JobInfo>): string {
  const pending = job.depends.filter((id) => {
    const dep = jobs.get(id);
    return dep === undefined || ["Q", "H", "U", "R"].includes(dep.state);
  });
  const ids = pending.length > 0 ? pending : job.depends;
  if (ids.length === 1) {
    const dep = jobs.get(ids[0]!);
    return `waiting for job ${ids[0]}${dep ? ` (${dep.state_name})` : ""}`;
  }
  const shown = ids.slice(0, 3).join(", ");
  return `waiting for jobs ${shown}${ids.length > 3 ? ` and ${ids.length - 3} more` : ""}`;
}

function waitingForRoom(job: JobInfo, { jobs, complete, limits }: ReasonContext): string {
  const cpus = `${job.procs} CPU${job.procs === 1 ? "" : "s"}`;
  if (limits?.maxprocs != null && job.procs > limits.maxprocs) {
    return `needs ${cpus}, more than sjq.maxprocs (${limits.maxprocs})`;
  }
  if (limits?.maxmem != null && job.mem > limits.maxmem) {
    return `needs ${formatSize(job.mem)}, more than sjq.maxmem (${formatSize(limits.maxmem)})`;
  }
  const wanted = job.gpus ?? 0;
  const gpus = `${wanted} GPU${wanted === 1 ? "" : "s"}`;
  if (limits?.gpus != null && wanted > limits.gpus) {
    return `needs ${gpus}, more than sjq.gpus (${limits.gpus})`;
  }
  if (job.mem_available != null) {
    const margin = limits?.memmargin ? ` + ${formatSize(limits.memmargin)} margin` : "";
    return `waiting for memory: MemAvailable ${formatSize(job.mem_available)} < ${
      formatSize(job.mem)
    }${margin}`;
  }
  if (!complete || limits === null) {
    const limited = job.queue !== null && limits?.queues?.[job.queue] !== undefined;
    return `waiting for ${cpus}${wanted > 0 ? `, ${gpus}` : ""} and ${formatSize(job.mem)}${
      limited ? ` in queue ${job.queue}` : ""
    }`;
  }
  let procs = 0;
  let mem = 0;
  let held = 0;
  let queueProcs = 0;
  let queueMem = 0;
  for (const other of jobs.values()) {
    if (other.state !== "R") continue;
    [procs, mem, held] = [procs + other.procs, mem + other.mem, held + (other.gpus ?? 0)];
    if (other.queue === job.queue) {
      [queueProcs, queueMem] = [queueProcs + other.procs, queueMem + other.mem];
    }
  }
  const queue = job.queue === null ? undefined : limits.queues?.[job.queue];
  if (queue !== undefined) {
    const full: string[] = [];
    if (queue.maxprocs !== null && job.procs > queue.maxprocs - queueProcs) {
      full.push(`${queueProcs} of ${queue.maxprocs} CPUs in use`);
    }
    if (queue.maxmem !== null && job.mem > queue.maxmem - queueMem) {
      full.push(`${formatSize(queueMem)} of ${formatSize(queue.maxmem)} in use`);
    }
    if (full.length > 0) return `queue ${job.queue} is full (${full.join(", ")})`;
  }
  const wants: string[] = [];
  if (limits.maxprocs !== null && job.procs > limits.maxprocs - procs) {
    wants.push(`${cpus} (${Math.max(0, limits.maxprocs - procs)} free)`);
  }
  if (limits.maxmem !== null && job.mem > limits.maxmem - mem) {
    wants.push(`${formatSize(job.mem)} (${formatSize(Math.max(0, limits.maxmem - mem))} free)`);
  }
  if (wanted > 0 && limits.gpus != null && wanted > limits.gpus - held) {
    wants.push(`${gpus} (${Math.max(0, limits.gpus - held)} free)`);
  }
  return wants.length > 0 ? `waiting for ${wants.join(" and ")}` : "waiting for earlier jobs";
}

/**
 * The daemon's limits from a CONFIG payload's settings (values written as
 * in the rc file), or null when it gave none.
 */
export function limitsOf(
  settings: readonly { key: string; value: string }[] | undefined,
  parseSize: (text: string) => number,
): Limits | null {
  if (settings === undefined) return null;
  const value = (key: string) => settings.find((s) => s.key === key)?.value ?? "";
  const procs = value("sjq.maxprocs");
  const mem = value("sjq.maxmem");
  const margin = value("sjq.memmargin");
  // As the rc file writes it: "0" for none, else device ids joined by commas.
  const gpus = settings.find((s) => s.key === "sjq.gpus")?.value;
  const queues: NonNullable<Limits["queues"]> = {};
  for (const { key, value } of settings) {
    const m = /^sjq\.queue\.([^.]+)\.(maxprocs|maxmem)$/.exec(key);
    if (m === null) continue;
    const q = queues[m[1]!] ??= { maxprocs: null, maxmem: null };
    if (value === "") continue;
    if (m[2] === "maxprocs") q.maxprocs = Number(value);
    else q.maxmem = parseSize(value);
  }
  return {
    maxprocs: procs === "" ? null : Number(procs),
    maxmem: mem === "" ? null : parseSize(mem),
    memmargin: margin === "" ? null : parseSize(margin),
    gpus: gpus === undefined ? null : gpus === "0" ? 0 : gpus.split(",").filter((d) => d).length,
    queues,
  };
}
