/**
 * The daemon: requests dispatched to their handlers (src/submission.ts,
 * src/job_control.ts, src/ended_jobs.ts, src/job_queries.ts), and the
 * scheduler's decisions carried out through the store (durable state) and
 * the executor (src/executor.ts: whatever runs the jobs; src/running_jobs.ts,
 * src/executor_events.ts). Every change happens in a tick of the group
 * commit (src/group_commit.ts): it is on disk before any reply, start or
 * signal that follows from it; every executor event is applied in a tick.
 *
 * @module
 */

import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import type { Request, ShutdownMode } from "./protocol.ts";
import { Scheduler } from "./scheduler.ts";
import { Store } from "./store.ts";
import { GroupCommit } from "./group_commit.ts";
import type { Executor } from "./executor.ts";
import { makeExecutor } from "./executors.ts";
import { Waiters } from "./waiters.ts";
import { restoreJobs } from "./recovery.ts";
import { clearLongTimeout, type LongTimer, setLongTimeout, timerInterval } from "./long_timer.ts";
import { type Caller, mayActOnDaemon } from "./authorization.ts";
import type { DaemonContext } from "./daemon_context.ts";
import { error, type Reply } from "./reply.ts";
import { RunningJobs } from "./running_jobs.ts";
import { ExecutorEvents } from "./executor_events.ts";
import { submit } from "./submission.ts";
import { hold, kill, mayAct, release } from "./job_control.ts";
import { clean, restart } from "./ended_jobs.ts";
import { info, ping, resolveJob, script, status, wait } from "./job_queries.ts";

/**
 * Why the daemon stops: SHUTDOWN (`detach`: running jobs go on for the next
 * daemon; `kill`: they are killed first; `drain`: they end first), a signal,
 * autoshutdown, or a disk that failed under a commit (`fatal`).
 */
export type StopReason = ShutdownMode | "signal" | "idle" | "fatal";

/** How soon a tick that failed (storage) is tried again with the job events it held. */
const RETRY_MS = 1000;

/** The job queue daemon, apart from its socket. */
export class Daemon {
  readonly #config: Config;
  readonly #log: Logger;
  readonly #store: Store;
  readonly #executor: Executor;
  readonly #scheduler: Scheduler;
  readonly #ticks: GroupCommit<Reply>;
  /** What the handlers and the running-job bookkeeping see of the daemon. */
  readonly #ctx: DaemonContext;
  readonly #jobs: RunningJobs;
  readonly #events: ExecutorEvents;
  readonly #waiters = new Waiters<Reply>(error("Nobody waits any more"));
  /** Whether the jobs of the last daemon have been restored (a failed restore is tried again). */
  #restored = false;
  /** Whether the executor has been given the running jobs (once, even when that tick failed). */
  #executorRecovered = false;
  #safetyNet: ReturnType<typeof setInterval> | undefined;
  #idleTimer: LongTimer | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #stopping: StopReason | null = null;
  #finished = false;
  /** When ended jobs past sjq.keepdone were last forgotten. */
  #lastClean = 0;
  #resolveStopping!: (reason: StopReason) => void;
  #resolveStopped!: (reason: StopReason) => void;
  /** Resolves when the daemon starts to stop: time to stop accepting connections. */
  readonly stopping: Promise<StopReason> = new Promise((r) => this.#resolveStopping = r);
  /** Resolves once the daemon has stopped and its store is closed. */
  readonly stopped: Promise<StopReason> = new Promise((r) => this.#resolveStopped = r);

  private constructor(config: Config, log: Logger, store: Store) {
    this.#config = config;
    this.#log = log;
    this.#store = store;
    this.#executor = makeExecutor(config.backend, {
      spool: `${config.db}-spool`,
      emit: (event) => {
        if (!this.#finished) this.#events.heard(event); // else for the next daemon to find
      },
      log,
      config,
    });
    this.#scheduler = new Scheduler({
      procs: config.maxprocs,
      mem: config.maxmem,
      userProcs: config.multiuser ? config.userMaxprocs : null,
      gpus: config.gpus,
      queues: config.queues,
    });
    this.#ticks = new GroupCommit<Reply>({
      begin: () => {
        store.begin();
        this.#scheduler.begin();
      },
      beforeCommit: () => {
        this.#events.apply();
        if (!this.#stopping) this.#jobs.startJobs();
      },
      commit: () => {
        store.commit();
        this.#scheduler.commit();
        this.#events.committed();
      },
      durable: () => store.durable(),
      onFatal: (e) => this.#fatal(e),
      rollback: (failure) => this.#rollback(failure),
      afterTick: () => this.#afterTick(),
      onAfterCommitError: (e) => log.error(`after commit: ${(e as Error).stack ?? e}`),
    });
    this.#ctx = {
      config,
      log,
      store,
      scheduler: this.#scheduler,
      executor: this.#executor,
      waiters: this.#waiters,
      uid: Deno.uid() ?? 0,
      gid: Deno.gid() ?? 0,
      stopping: () => this.#stopping !== null,
      lastId: store.lastId(),
      afterCommit: (fn) => this.#ticks.afterCommit(fn),
      event: (fn) => this.#event(fn),
      endedState: (id) => store.endedState(id),
    };
    this.#jobs = new RunningJobs(this.#ctx);
    this.#events = new ExecutorEvents(this.#ctx, this.#jobs);
  }

  /**
   * Opens the store next to `config.db` and the executor `config.backend`,
   * restores the jobs of the last daemon (the executor finds out what became
   * of the running ones), and starts work.
   */
  static async open(config: Config, log: Logger): Promise<Daemon> {
    const store = new Store(config.db);
    let daemon: Daemon;
    try {
      daemon = new Daemon(config, log, store);
      await daemon.#executor.open?.();
    } catch (e) {
      store[Symbol.dispose]();
      throw e;
    }
    daemon.#recover();
    daemon.#safetyNet = setInterval(
      () => daemon.#sweep(),
      timerInterval(Math.max(config.schedtime, 0.05) * 1000),
    );
    return daemon;
  }

  /**
   * Handles one request from `caller` (the owner of the socket it came
   * through; the daemon's own user by default); the reply comes once what
   * it changed is durable. CONFIG and RELOAD are the live configuration's
   * (src/live_config.ts). Once `gone` is aborted nobody reads the reply: a
   * listing stops being built, a WAIT stops waiting.
   */
  handle(
    req: Exclude<Request, { kind: "config" | "reload" }>,
    caller: Caller = { uid: this.#ctx.uid },
    gone?: AbortSignal,
  ): Promise<Reply> {
    if (this.#finished && req.kind !== "exit") {
      return Promise.resolve({ ...error("The daemon has stopped"), close: true });
    }
    const ctx = this.#ctx;
    const store = this.#store;
    if (
      req.kind === "kill" || req.kind === "release" || req.kind === "hold" ||
      req.kind === "restart"
    ) {
      const denied = mayAct(ctx, caller, req.kind, req.id);
      if (denied !== null) return Promise.resolve(denied);
    }
    switch (req.kind) {
      case "ping":
        return this.#ticks.read(() => ping(store));
      case "exit":
        return Promise.resolve({ line: "OK BYE", close: true });
      case "status":
        return this.#ticks.read(() => status(store, resolveJob(store, req), gone));
      case "info":
        return this.#ticks.read(() =>
          info(store, resolveJob(store, req), gone, this.#scheduler.memoryShort.waiting)
        );
      case "script":
        return this.#ticks.read(() => script(store, req.id));
      case "wait":
        return this.#ticks.read(() => {
          const id = resolveJob(store, req);
          return id === 0
            ? error(`Unknown job ${req.id}_${req.task}`)
            : wait(store, this.#waiters, id!, gone);
        });
      case "submit":
        return this.#ticks.write(() => submit(ctx, this.#jobs, req, caller));
      case "kill":
        return this.#ticks.write(() => kill(ctx, this.#jobs, resolveJob(store, req)!));
      case "release":
        return this.#ticks.write(() => release(ctx, resolveJob(store, req)!));
      case "hold":
        return this.#ticks.write(() => hold(ctx, resolveJob(store, req)!));
      case "restart":
        return this.#ticks.write(() => restart(ctx, this.#jobs, req, req.dependents, caller));
      case "clean": {
        const all = !this.#config.multiuser || mayActOnDaemon(caller, "clean-all") === null;
        return this.#ticks.write(() =>
          clean(ctx, req.olderThan, req.states, all ? null : caller.uid)
        );
      }
      case "shutdown":
        if (this.#config.multiuser && mayActOnDaemon(caller, "shutdown") !== null) {
          return Promise.resolve(error(mayActOnDaemon(caller, "shutdown")!.denied));
        }
        this.stop(req.mode);
        return Promise.resolve({ line: "OK", close: true });
      case "invalid":
      case "fatal":
        return Promise.resolve({ ...error(req.message), close: req.kind === "fatal" });
    }
  }

  // --- Ticks (see group_commit.ts) ----------------------------------------

  #event(run: () => void): void {
    if (this.#finished) return; // what happens now is for the next daemon to find
    this.#ticks.event(run);
  }

  /** Undoes a tick that could not be committed; returns the reply for its changing requests. */
  #rollback(failure: Error): Reply {
    this.#store.rollback();
    this.#scheduler.rollback();
    this.#ctx.lastId = this.#store.lastId();
    const message = `Storage failure, nothing was changed: ${failure.message}`;
    this.#log.error(message);
    this.#events.rolledBack();
    this.#jobs.rolledBack();
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      if (!this.#restored) this.#recover();
      else if (this.#events.pending) this.#event(() => {});
    }, RETRY_MS);
    return error(message);
  }

  // --- Recovery and housekeeping -------------------------------------------

  /**
   * Restores the last daemon's jobs job by job (src/recovery.ts) and gives
   * the running ones to the executor, in one tick: what it can tell at once
   * (ended, lost, re-adopted) is applied in the same tick, before anyone
   * is answered.
   */
  #recover(): void {
    this.#event(() => {
      const running = restoreJobs(this.#store, this.#scheduler, this.#log);
      this.#ticks.afterCommit(() => this.#restored = true);
      if (this.#executorRecovered) return; // a retry after a failed tick: its events are kept
      this.#executorRecovered = true;
      if (running.length > 0) this.#log.info(`recovering ${running.length} running jobs`);
      for (const job of this.#store.active()) {
        if (job.state === "U" && job.retryAt != null) this.#jobs.armRetry(job.id, job.retryAt);
      }
      this.#executor.recover(running);
    });
  }

  /** The safety net: job events not applied yet, sjq.keepdone, then a scheduling pass. */
  #sweep(): void {
    if (this.#events.pending) this.#event(() => {});
    if (this.#config.keepdone > 0 && Date.now() - this.#lastClean >= 60_000) {
      this.#lastClean = Date.now();
      this.#ticks.write(() => clean(this.#ctx, this.#config.keepdone, ["S", "F", "A", "K", "E"]));
    }
    if (this.#scheduler.counts().Q > 0) this.#event(() => {});
  }

  #afterTick(): void {
    const { Q, R } = this.#scheduler.counts();
    if (this.#stopping !== null) {
      const waitsForJobs = this.#stopping === "drain" || this.#stopping === "kill";
      if (R === 0 || !waitsForJobs) this.#finish();
      return;
    }
    const idle = Q === 0 && R === 0;
    if (!idle || !this.#config.autoshutdown) {
      clearLongTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
    } else if (this.#idleTimer === undefined) {
      this.#idleTimer = setLongTimeout(() => {
        this.#idleTimer = undefined;
        const c = this.#scheduler.counts();
        if (c.Q === 0 && c.R === 0 && !this.#ticks.busy) this.stop("idle");
      }, this.#config.waittime * 1000);
    }
  }

  /** Starts any job the scheduler allows (the first pass after opening). */
  kick(): void {
    this.#event(() => {});
  }

  /**
   * Applies limits changed in place in the configuration (`sjq reload`):
   * the scheduler's capacity, the periodic pass and idle timer; then a pass.
   */
  reconfigured(): void {
    if (this.#stopping !== null) return;
    this.#scheduler.setCapacity({
      procs: this.#config.maxprocs,
      mem: this.#config.maxmem,
      userProcs: this.#config.multiuser ? this.#config.userMaxprocs : null,
      gpus: this.#config.gpus,
      queues: this.#config.queues,
    });
    clearInterval(this.#safetyNet);
    const every = timerInterval(Math.max(this.#config.schedtime, 0.05) * 1000);
    this.#safetyNet = setInterval(() => this.#sweep(), every);
    clearLongTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.kick();
  }

  /**
   * Stops the daemon. `detach`, `signal` and `idle` leave running jobs to
   * the next daemon; `kill` kills them and waits for them to end in K;
   * `drain` starts nothing new and waits for running jobs.
   */
  stop(reason: StopReason): void {
    if (this.#stopping !== null && reason !== "kill") return;
    this.#stopping = reason;
    this.#resolveStopping(reason);
    const running = this.#scheduler.counts().R;
    this.#log.info(`stopping: ${reason}, ${running} running jobs`);
    this.#event(() => {
      for (const job of [...this.#scheduler.jobs()]) {
        if (job.state !== "R") continue;
        // A job ahead of its slot has not started: it waits in the queue for the next daemon.
        if (job.ahead && !this.#jobs.isLaunched(job.id)) {
          this.#scheduler.requeue(job.id);
          this.#store.update(job.id, { state: "Q", started: null });
        } else if (reason === "kill") this.#jobs.stop(job.id, "shutdown");
      }
    });
  }

  /** How many jobs run now. */
  get running(): number {
    return this.#scheduler.counts().R;
  }

  /**
   * The disk failed after a commit: what that commit holds may or may not be
   * on disk, and nobody has been told of it. Stop at once, answering nothing
   * more; the next daemon reads what the disk really has.
   */
  #fatal(e: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#stopping = "fatal";
    this.#log.error(`the disk failed under a commit, stopping: ${(e as Error)?.message ?? e}`);
    this.#executor.close("detach").catch(() => {});
    this.#resolveStopping("fatal");
    this.#resolveStopped("fatal");
  }

  #finish(): void {
    if (this.#ticks.busy || this.#finished) return;
    this.#finished = true;
    clearInterval(this.#safetyNet);
    clearLongTimeout(this.#idleTimer);
    clearTimeout(this.#retryTimer);
    this.#jobs.clearTimers();
    const left = this.#scheduler.counts().R;
    this.#waiters.answerAll((id) => error(`The daemon stopped before job ${id} ended`));
    this.#executor.close("detach").catch((e) => this.#log.error(`closing the executor: ${e}`))
      .finally(() => {
        this.#store[Symbol.dispose]();
        this.#log.info(
          left > 0 ? `stopped; ${left} running jobs go on for the next daemon` : "stopped",
        );
        this.#resolveStopped(this.#stopping!);
      });
  }
}
