/**
 * The vocabulary shared by every part of sjq: job states, dependency kinds
 * and the fields of a job.
 *
 * @module
 */

/** A job's state letter, as the protocol's STATUS reports it. */
export type State = "Q" | "H" | "U" | "R" | "S" | "F" | "A" | "K" | "E";

/** States of a job that has not ended yet. */
export type ActiveState = "Q" | "H" | "U" | "R";

/** States a job ends in. */
export type FinalState = "S" | "F" | "A" | "K" | "E";

/** All states, in the protocol's order. */
export const STATES: readonly State[] = ["Q", "H", "U", "R", "S", "F", "A", "K", "E"];

/** A word for each state, for people. */
export const STATE_NAMES: Readonly<Record<State, string>> = {
  Q: "queued",
  H: "holding",
  U: "user-hold",
  R: "running",
  S: "success",
  F: "failed",
  A: "aborted",
  K: "killed",
  E: "error",
};

/** Whether a state is one a job ends in. */
export function isFinal(state: State): state is FinalState {
  return state !== "Q" && state !== "H" && state !== "U" && state !== "R";
}

/**
 * How a job depends on another: `afterok` (DEPENDS) needs success,
 * `afterany` only an end, `afternotok` an end other than success.
 */
export type DependencyKind = "afterok" | "afterany" | "afternotok";

/** One dependency edge of a job. */
export interface Dependency {
  id: number;
  kind: DependencyKind;
}

/**
 * Whether a dependency that ended in `state` lets its dependent run (true)
 * or aborts it (false).
 */
export function dependencySatisfied(kind: DependencyKind, state: FinalState): boolean {
  switch (kind) {
    case "afterok":
      return state === "S";
    case "afternotok":
      return state !== "S";
    case "afterany":
      return true;
  }
}

/** Everything the daemon knows about a job, as stored. */
export interface JobRecord {
  id: number;
  name: string;
  state: State;
  procs: number;
  /** Declared memory in bytes. */
  mem: number;
  deps: Dependency[];
  /** Absolute working directory. */
  cwd: string;
  /** Absolute paths of the output files. */
  stdout: string;
  stderr: string;
  /** Environment the job was submitted with (ENV pairs). */
  env: Record<string, string>;
  uid: number;
  gid: number;
  /** Wall-clock limit in seconds, or null. */
  timeout: number | null;
  /** Times in milliseconds since the epoch. */
  submitted: number;
  started: number | null;
  ended: number | null;
  /** Exit code when the job ran to an end; null otherwise. */
  exitCode: number | null;
  /** Why the job ended the way it did, for people (kill, timeout, abort cause, start error). */
  reason: string | null;
  /** Process id of the job (its process group) while it runs, when the executor knows one. */
  pid: number | null;
  /** Why the daemon is ending this running job: "kill", "timeout", "shutdown", or null. */
  stopping: StopCause | null;
  /** Arguments the script is run with (`sjq submit script.sh A B`); absent means none. */
  args?: string[];
  /** Extra sbatch options for the Slurm backend (SLURMOPT), in order. */
  slurmOpts?: string[];
  /** The executor's handle of the running job (src/executor.ts `started`), or null. */
  handle: string | null;
  /** For a task of an array: its array's id (the head job) and its task id. */
  arrayId?: number;
  arrayTask?: number;
  /** For an array's head: its specification (`1-1000%20`, src/array_spec.ts). */
  array?: string;
  /** Automatic retries of a failing job (RETRIES) and the seconds before each (RETRYDELAY). */
  retries?: number;
  retryDelay?: number;
  /** When a failed job waiting in U for its retry is due (ms since the epoch). */
  retryAt?: number | null;
  /** PRIORITY: its place in the queue (src/scheduler.ts `rankOf`); absent is 0. */
  priority?: number;
  /** GPUS: how many GPU devices it needs (src/gpus.ts); absent is 0. */
  gpus?: number;
  /** The GPU devices it was given when it started (running or ended jobs only). */
  gpuIds?: string[];
  /** QUEUE: its named queue (src/queue_config.ts); absent for jobs from before queues. */
  queue?: string;
  /**
   * Accounting of a job that ran, as its executor measured it (src/executor.ts
   * `Usage`): CPU seconds in user and kernel mode, the peak resident memory of
   * the whole job in bytes; null or absent when not measured.
   */
  cpuUser?: number | null;
  cpuSystem?: number | null;
  maxRss?: number | null;
  /** The signal that ended the job's main process, or null (its exit code is then 128 + it). */
  signal?: number | null;
}

/** Why the daemon stops a running job; decides the state it ends in. */
export type StopCause = "kill" | "timeout" | "shutdown";

/** Why a job was aborted: the dependency that ended in a way it cannot accept. */
export function abortReason(cause: number, state: State): string {
  return `dependency ${cause} ended in ${state}`;
}
