/**
 * The JSON form of a job, as INFO answers and `sjq status --json` prints it.
 * Field names are stable; docs/protocol.md lists them.
 *
 * @module
 */

import { type JobRecord, STATE_NAMES } from "./job.ts";
import type { Attempt } from "./store.ts";

/** A job for scripts: every field, times as ISO 8601 text. */
export interface JobInfo {
  id: number;
  name: string;
  state: string;
  state_name: string;
  procs: number;
  mem: number;
  depends: number[];
  dependencies: { id: number; kind: string }[];
  cwd: string;
  stdout: string;
  stderr: string;
  timeout: number | null;
  submitted: string;
  started: string | null;
  ended: string | null;
  exit_code: number | null;
  reason: string | null;
  pid: number | null;
  /** The script's arguments. */
  args: string[];
  /** For an array's head: its specification (`1-1000%20`). */
  array: string | null;
  /** For a task of an array: the array's id (its head) and the task id; `12_7` names it. */
  array_id: number | null;
  array_task: number | null;
  /** The user the job runs as. */
  uid: number;
  /** Earlier runs of a restarted or retried job, oldest first. */
  attempts: AttemptInfo[];
  /** Automatic retries a failing job gets (RETRIES), and the seconds before each. */
  retries: number;
  retry_delay: number | null;
  /** What the executor knows the job by: the Slurm job id with the Slurm backend, else null. */
  slurm_id: string | null;
  /** PRIORITY (0 when none). */
  priority: number;
  /** GPUS: how many GPU devices it needs (0 when none). */
  gpus: number;
  /** The GPU devices it was given, once it started; `[]` before, or without GPUs. */
  gpu_ids: string[];
  /** QUEUE: its named queue; null for a job from before queues. */
  queue: string | null;
  /** Accounting of a job that ran (docs/accounting.md); null when not measured. */
  usage: UsageInfo;
  /** For a queued job the last scheduling pass held back for memory: the MemAvailable it saw, in bytes; else null. */
  mem_available: number | null;
}

/**
 * What a job used: CPU seconds in user and kernel mode, the peak resident
 * memory of the whole job in bytes, its wall time in seconds (from start to
 * end), and the signal that ended its main process. Null where unknown.
 */
export interface UsageInfo {
  cpu_user: number | null;
  cpu_system: number | null;
  max_rss: number | null;
  wall: number | null;
  signal: number | null;
}

/** How an earlier attempt of a job ended. */
export interface AttemptInfo {
  state: string;
  started: string | null;
  ended: string | null;
  exit_code: number | null;
  reason: string | null;
  /** What that attempt used. */
  usage: UsageInfo;
}

/** The JSON form of a job. Its environment is left out: it can be large, and it can hold secrets. */
export function jobInfo(
  job: Omit<JobRecord, "env">,
  attempts: readonly Attempt[] = [],
  memAvailable: number | null = null,
): JobInfo {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: job.id,
    name: job.name,
    state: job.state,
    state_name: STATE_NAMES[job.state],
    procs: job.procs,
    mem: job.mem,
    depends: job.deps.map((d) => d.id),
    dependencies: job.deps.map((d) => ({ id: d.id, kind: d.kind })),
    cwd: job.cwd,
    stdout: job.stdout,
    stderr: job.stderr,
    timeout: job.timeout,
    submitted: iso(job.submitted)!,
    started: iso(job.started),
    ended: iso(job.ended),
    exit_code: job.exitCode,
    reason: job.reason,
    pid: job.pid,
    args: job.args ?? [],
    array: job.array ?? null,
    array_id: job.arrayId ?? null,
    array_task: job.arrayTask ?? null,
    uid: job.uid,
    attempts: attempts.map((a) => ({
      state: a.state,
      started: iso(a.started),
      ended: iso(a.ended),
      exit_code: a.exitCode,
      reason: a.reason,
      usage: usageInfo(a),
    })),
    retries: job.retries ?? 0,
    retry_delay: job.retryDelay ?? null,
    slurm_id: /^slurm:\d+$/.test(job.handle ?? "") ? job.handle!.slice(6) : null,
    priority: job.priority ?? 0,
    gpus: job.gpus ?? 0,
    gpu_ids: job.gpuIds ?? [],
    queue: job.queue ?? null,
    usage: usageInfo(job),
    mem_available: job.state === "Q" ? memAvailable : null,
  };
}

function usageInfo(job: {
  started: number | null;
  ended: number | null;
  cpuUser?: number | null;
  cpuSystem?: number | null;
  maxRss?: number | null;
  signal?: number | null;
}): UsageInfo {
  const ms = (n: number) => Math.round(n * 1000) / 1000;
  return {
    cpu_user: job.cpuUser == null ? null : ms(job.cpuUser),
    cpu_system: job.cpuSystem == null ? null : ms(job.cpuSystem),
    max_rss: job.maxRss ?? null,
    wall: job.started === null || job.ended === null ? null : (job.ended - job.started) / 1000,
    signal: job.signal ?? null,
  };
}
