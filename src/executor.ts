/**
 * The executor seam: how the daemon has jobs run without touching processes,
 * spool files or Slurm itself. The daemon decides (through the pure
 * scheduler) which job starts and commits its R; once that is durable it
 * hands the job to the executor with `start`, and hears back through the
 * `emit` callback it gave the executor: `started`, `ended`, `lost` or
 * `unstarted`. Every event is applied in a tick of the group commit; the
 * daemon calls `forget` once the job's end is durable.
 *
 * Executors live beside this file: `local_executor.ts` (processes on this
 * machine), the as-user variant used by a root daemon, and
 * `slurm_executor.ts` (jobs forwarded to Slurm). Adding one touches no
 * request handler: register its factory in `executors.ts`, selected by the
 * `sjq.backend` configuration key.
 *
 * What the daemon guarantees an executor:
 * - `start` is called once per run, only after the job's R is on disk, in
 *   the order the scheduler picked the jobs; never for a job it has already
 *   given to `start` or `recover` without a `forget` since.
 * - `kill` may come for a job whose `started` has not been applied yet, or
 *   more than once; it decides nothing about the final state (the daemon
 *   records why it stopped the job: KILL, a timeout, `shutdown --kill`).
 * - `recover` is called once, when a daemon opens, with every job the store
 *   has in R; events of recovered jobs are applied in ticks like all others.
 *   Spool files of jobs not in that list may be removed.
 * - Timeouts are the daemon's: it calls `kill` when one passes.
 *
 * @module
 */

import type { Config } from "./config.ts";
import type { JobRecord } from "./job.ts";

/** Everything an executor needs to run one job whose R is on disk. */
export interface Launch {
  /** The job as stored (id, cwd, output paths, uid/gid, procs, mem, timeout, …). */
  job: Readonly<JobRecord>;
  /** The script, byte for byte as submitted. */
  script: Uint8Array;
  /** Exactly the environment the job runs with (PROTOCOL.md *Jobs*); nothing of the daemon's. */
  env: Readonly<Record<string, string>>;
  /**
   * Lookahead (only for an executor with `lookahead`): no slot is free yet.
   * Start the job the moment one of the jobs this executor runs ends (it
   * fits into any of their slots), or at once if one has ended since the
   * last such start found none free. Until it starts, a `kill` ends it with
   * an `error` outcome. An executor that loses its connection to the
   * daemon drops such jobs unstarted.
   */
  ahead?: boolean;
}

/** Resources a job used, as far as its executor measured them. */
export interface Usage {
  /** CPU time in user mode, in milliseconds. */
  userMs: number;
  /** CPU time in kernel mode, in milliseconds. */
  systemMs: number;
  /** Peak resident memory of the whole job in bytes, or null when not measured. */
  maxRss: number | null;
}

/**
 * How a job that was started ended.
 * - `exit`: its main process exited with `code` (0 is success).
 * - `signal`: its main process was ended by signal number `signal`.
 * - `failed`: it ended abnormally without an exit status of its own
 *   (Slurm's TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, …); `reason` says which.
 * - `error`: it could not be started at all (missing interpreter, unwritable
 *   output file, bad working directory, sbatch refused it): state E.
 *
 * `reason` on `exit`/`signal` adds what the executor knows beyond the code.
 */
export type Outcome =
  | { kind: "exit"; code: number; reason?: string }
  | { kind: "signal"; signal: number; reason?: string }
  | { kind: "failed"; reason: string }
  | { kind: "error"; reason: string };

/**
 * What an executor tells the daemon about a job it was given (by `start` or
 * `recover`). Times are milliseconds since the epoch.
 * - `started`: the job runs; `handle` identifies it to the executor (a pid,
 *   a Slurm job id) and is stored with the job, to be given back to
 *   `recover` by the next daemon. `pid`, when the job is a process on this
 *   machine, is what INFO and `sjq status --json` show. A recovered job
 *   that still runs gets `started` again (re-adopted), then its end.
 * - `ended`: the job ended; its end is stored, then `forget` follows.
 * - `lost`: the job's end can never be known (its processes vanished with
 *   no record); it ends F with `reason`.
 * - `unstarted`: the job provably never ran (the daemon died between
 *   committing R and handing it over); the daemon queues it again.
 *
 * Events may repeat (the daemon ignores an event for a job that is no
 * longer running), and the daemon keeps every event until the tick that
 * applies it is committed: an executor need not re-send an event after a
 * storage failure. It must keep what it knows about a job until `forget`.
 */
export type ExecutorEvent =
  | { kind: "started"; id: number; at: number; handle: string; pid?: number }
  | { kind: "ended"; id: number; at: number; outcome: Outcome; usage: Usage | null }
  | { kind: "lost"; id: number; at: number; reason: string }
  | { kind: "unstarted"; id: number };

/** A job the store has in R when a daemon starts: the executor finds out what became of it. */
export interface Recovering {
  job: Readonly<JobRecord>;
  /** The handle of its last `started` event, if that was stored. */
  handle: string | null;
}

/** The one interface between the daemon and whatever runs its jobs. */
export interface Executor {
  /** A short name for logs and `sjq config` (`local`, `slurm`). */
  readonly name: string;
  /**
   * Optional: whether `start` takes `ahead` jobs (see {@linkcode Launch}).
   * Without it the daemon starts a job only once a slot is free.
   */
  readonly lookahead?: boolean;
  /**
   * Optional: whether `start` takes `ahead` jobs of user `uid`; when present
   * it decides instead of `lookahead` (an executor that runs some users'
   * jobs through a backend without lookahead). The daemon asks it as it
   * hands over each job marked ahead.
   */
  lookaheadFor?(uid: number): boolean;
  /**
   * Optional, with lookahead: job `id`, started `ahead`, now has a slot (one
   * freed that the executor may not know of: a job of another backend
   * ended). Start it now if it has not started.
   */
  promoted?(id: number): void;
  /**
   * Optional: gets ready before `recover` (connects to what runs the jobs,
   * learns what became of them). The daemon awaits it before it answers
   * anyone; a rejection stops the daemon with its message.
   */
  open?(): Promise<void>;
  /**
   * Runs a job whose R is durable. Never throws for one job's problem:
   * what cannot start is reported as an `ended` event with an `error`
   * outcome.
   */
  start(launch: Launch): void;
  /**
   * Ends a running job and everything it started: SIGTERM (or the
   * backend's equivalent), then SIGKILL once `graceMs` has passed. Its end
   * is reported by an event as usual.
   */
  kill(id: number, graceMs: number): void;
  /**
   * Takes over the jobs an earlier daemon left in R. Each gets exactly one
   * event, job by job (a problem with one never keeps the others from being
   * settled).
   */
  recover(jobs: readonly Recovering[]): void;
  /** The job's end is durable: the executor may drop what it keeps about it. */
  forget(id: number): void;
  /**
   * Stops using the executor. Running jobs go on (`detach`, the next daemon
   * recovers them) or are ended first (`kill`, each reported as usual).
   */
  close(mode: "detach" | "kill"): Promise<void>;
}

/** What the daemon gives an executor when it makes one. */
export interface ExecutorContext {
  /** A private directory (mode 0700) for the executor's own files. */
  spool: string;
  /** Where every event goes; may be called at any time, also from inside `start`. */
  emit(event: ExecutorEvent): void;
  /** The daemon's log. */
  log: { info(message: string): void; error(message: string): void };
  /** The daemon's configuration: the settings of a backend (`sjq.contain`, `sjq.slurm.*`). */
  config?: Readonly<Config>;
}

/**
 * Makes an executor. The constructors of every backend have this shape;
 * src/executors.ts maps `sjq.backend` names to them.
 */
export type ExecutorFactory = (context: ExecutorContext) => Executor;
