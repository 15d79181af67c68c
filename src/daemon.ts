/**
 * The daemon: one handler per request, and the scheduler's decisions carried
 * out through the store (durable state) and the executor (src/executor.ts:
 * whatever runs the jobs). Every change happens in a tick of the group
 * commit (src/group_commit.ts): it is on disk before any reply, start or
 * signal that follows from it; every executor event is applied in a tick.
 *
 * @module
 */

import type { Config } from "./config.ts";
import {
  abortReason,
  type Dependency,
  type FinalState,
  isFinal,
  type JobRecord,
  STATES,
  type StopCause,
} from "./job.ts";
import type { Logger } from "./log.ts";
import type { Request, ShutdownMode } from "./protocol.ts";
import { accountOf, jobEnvironment } from "./job_environment.ts";
import { outputPath } from "./output_path.ts";
import { formatSize } from "./size.ts";
import { type Change, Scheduler } from "./scheduler.ts";
import { Store } from "./store.ts";
import { infoListing, statusListing } from "./listing.ts";
import { GroupCommit } from "./group_commit.ts";
import type { Executor, ExecutorEvent, Outcome } from "./executor.ts";
import { makeExecutor } from "./executors.ts";
import { JobTimers } from "./job_timers.ts";
import { Waiters } from "./waiters.ts";
import { restoreJobs } from "./recovery.ts";
import { endingOf } from "./job_outcome.ts";
import { clearLongTimeout, type LongTimer, setLongTimeout, timerInterval } from "./long_timer.ts";
import { formatArraySpec, taskCount } from "./array_spec.ts";
import { tallyReason, taskIds, taskJobId, taskOutputPattern } from "./arrays.ts";
import { type Caller, type JobAction, mayActOnDaemon, mayActOnJob } from "./authorization.ts";
import { submitter } from "./submitter.ts";
import { planRestart } from "./restart.ts";
import { runNotify } from "./notify.ts";
import { currentAccounts } from "./user_accounts.ts";

/** A reply: one line, an optional counted payload (whole or in chunks), and whether to close the connection after it. */
export interface Reply {
  line: string;
  payload?: Uint8Array | readonly Uint8Array[];
  close?: boolean;
}

/**
 * Why the daemon stops: SHUTDOWN (`detach`: running jobs go on for the next
 * daemon; `kill`: they are killed first; `drain`: they end first), a signal,
 * autoshutdown, or a disk that failed under a commit (`fatal`).
 */
export type StopReason = ShutdownMode | "signal" | "idle" | "fatal";

/**
 * Lookahead (jobs marked R ahead of a free slot, docs/durability.md) only
 * with a backlog of at least this many queued jobs: a job a user is about
 * to hold or reorder is rarely this deep in a queue.
 */
const LOOKAHEAD_BACKLOG = 32;
/** How soon a tick that failed (storage) is tried again with the job events it held. */
const RETRY_MS = 1000;
const ok = (text = ""): Reply => ({ line: text === "" ? "OK" : `OK ${text}` });
const error = (text: string): Reply => ({ line: `ERROR ${text}` });

/** The job queue daemon, apart from its socket. */
export class Daemon {
  readonly #config: Config;
  readonly #log: Logger;
  readonly #store: Store;
  readonly #executor: Executor;
  readonly #scheduler: Scheduler;
  readonly #uid = Deno.uid() ?? 0;
  readonly #gid = Deno.gid() ?? 0;
  #lastId: number;
  readonly #ticks: GroupCommit<Reply>;
  /** Executor events not yet applied in a committed tick, in the order they came. */
  #events: ExecutorEvent[] = [];
  /** Events applied in the open tick: put back in front of `#events` if it rolls back. */
  #applying: ExecutorEvent[] = [];
  /** Timeouts of running jobs. */
  readonly #timeouts = new JobTimers();
  /** Failed jobs waiting in U for their retry (RETRYDELAY). */
  readonly #retries = new JobTimers();
  readonly #waiters = new Waiters<Reply>();
  /** Whether the jobs of the last daemon have been restored (a failed restore is tried again). */
  #restored = false;
  /** Jobs handed to the executor and not settled: none is ever started twice. */
  readonly #launched = new Set<number>();
  /** Jobs marked R ahead of their slot whose R is durable: they start when promoted. */
  readonly #aheadDurable = new Set<number>();
  /** Jobs promoted to a slot before their R was durable: they start once it is. */
  readonly #promotedEarly = new Set<number>();
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
      emit: (event) => this.#heard(event),
      log,
      config,
    });
    this.#scheduler = new Scheduler({
      procs: config.maxprocs,
      mem: config.maxmem,
      userProcs: config.multiuser ? config.userMaxprocs : null,
    });
    this.#lastId = store.lastId();
    this.#ticks = new GroupCommit<Reply>({
      begin: () => {
        store.begin();
        this.#scheduler.begin();
      },
      beforeCommit: () => {
        this.#applyEvents();
        if (!this.#stopping) this.#startJobs();
      },
      commit: () => {
        store.commit();
        this.#scheduler.commit();
        this.#applying = [];
      },
      durable: () => store.durable(),
      onFatal: (e) => this.#fatal(e),
      rollback: (failure) => this.#rollback(failure),
      afterTick: () => this.#afterTick(),
      onAfterCommitError: (e) => log.error(`after commit: ${(e as Error).stack ?? e}`),
    });
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
   * (src/live_config.ts).
   */
  handle(
    req: Exclude<Request, { kind: "config" | "reload" }>,
    caller: Caller = { uid: this.#uid },
  ): Promise<Reply> {
    if (this.#finished && req.kind !== "exit") {
      return Promise.resolve({ ...error("The daemon has stopped"), close: true });
    }
    if (
      req.kind === "kill" || req.kind === "release" || req.kind === "hold" ||
      req.kind === "restart"
    ) {
      const denied = this.#mayAct(caller, req.kind, req.id);
      if (denied !== null) return Promise.resolve(denied);
    }
    switch (req.kind) {
      case "ping":
        return this.#read(() => this.#ping());
      case "exit":
        return Promise.resolve({ line: "OK BYE", close: true });
      case "status":
        return this.#read(() => this.#status(this.#resolve(req)));
      case "info":
        return this.#read(() => this.#info(this.#resolve(req)));
      case "script":
        return this.#read(() => this.#script(req.id));
      case "wait":
        return this.#read(() => {
          const id = this.#resolve(req);
          return id === 0 ? error(`Unknown job ${req.id}_${req.task}`) : this.#wait(id!);
        });
      case "submit":
        return this.#write(() => this.#submit(req, caller));
      case "kill":
        return this.#write(() => this.#kill(this.#resolve(req)!));
      case "release":
        return this.#write(() => this.#release(this.#resolve(req)!));
      case "hold":
        return this.#write(() => this.#hold(this.#resolve(req)!));
      case "restart":
        return this.#write(() => this.#restart(req.id, req.dependents, caller));
      case "clean": {
        const all = !this.#config.multiuser || mayActOnDaemon(caller, "clean-all") === null;
        return this.#write(() => this.#clean(req.olderThan, req.states, all ? null : caller.uid));
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

  /** ERROR when `caller` may not act on job `id` (an unknown job is for the handler to answer). */
  #mayAct(caller: Caller, action: JobAction, id: number): Reply | null {
    if (caller.uid === this.#uid) return null;
    const owner = this.#store.get(id)?.uid;
    const denied = owner === undefined ? null : mayActOnJob(caller, action, id, owner);
    return denied === null ? null : error(denied.denied);
  }

  // --- Handlers: one per request ------------------------------------------

  /** PING (`sjq ping`): job counts by state. */
  #ping(): Reply {
    const counts = this.#store.counts();
    const stats = STATES.filter((s) => (counts[s] ?? 0) > 0)
      .sort()
      .map((s) => `${s}:${counts[s]}`)
      .join(" ");
    return { line: `OK ${stats}` };
  }

  /**
   * The job id a request names: its id, or the job of the array task it
   * names (0 when there is none; ids start at 1).
   */
  #resolve(req: { id: number | null; task?: number }): number | null {
    if (req.id === null || req.task === undefined) return req.id;
    const head = this.#store.get(req.id);
    return (head?.array !== undefined && taskJobId(head, req.task)) || 0;
  }

  /** The last job a STATUS or INFO of `id` shows: the last task of an array's head. */
  #lastShown(id: number | null): number | null {
    const head = id === null ? undefined : this.#store.get(id);
    return head?.array === undefined ? id : taskIds(head).last;
  }

  /** STATUS [id] (`sjq status --raw`): the protocol's job table, built in slices (src/listing.ts). */
  #status(id: number | null): Promise<Reply> {
    return statusListing(this.#store, id, this.#lastShown(id));
  }

  /** INFO [id] (`sjq status`, `sjq status --json`): every field of the jobs, as JSON, built in slices. */
  #info(id: number | null): Promise<Reply> {
    return infoListing(this.#store, id, this.#lastShown(id));
  }

  /** SCRIPT id (`sjq show`): the job's script. */
  #script(id: number): Reply {
    if (this.#store.state(id) === undefined) return error(`Unknown job ${id}`);
    const body = this.#store.script(id);
    return { line: `OK ${body.length}`, payload: body };
  }

  /** WAIT id (`sjq wait`): answers when the job has ended. */
  #wait(id: number): Reply | Promise<Reply> {
    const job = this.#store.get(id);
    if (job === undefined) return error(`Unknown job ${id}`);
    if (isFinal(job.state)) return waitReply(job);
    return this.#waiters.wait(id);
  }

  /** SUBMIT (`sjq submit`): validates everything, stores the job, answers its id. */
  #submit(req: Extract<Request, { kind: "submit" }>, caller: Caller): Reply {
    if (this.#stopping) return error("The daemon is shutting down");
    const o = req.options;
    const errors = [...req.errors];
    const procs = o.procs ?? this.#config.defaultProcs;
    const mem = o.mem ?? this.#config.defaultMem;
    if (procs > this.#config.maxprocs) {
      errors.push(`PROCS ${procs} is more than sjq.maxprocs (${this.#config.maxprocs})`);
    }
    if (this.#config.maxmem !== null && mem > this.#config.maxmem) {
      errors.push(
        `MEM ${formatSize(mem)} is more than sjq.maxmem (${formatSize(this.#config.maxmem)})`,
      );
    }
    if (o.notify !== undefined && this.#config.multiuser) {
      errors.push("NOTIFY is not supported by a multi-user daemon yet (it would run as root)");
    }
    const deps = this.#checkDeps(o.deps.map((d) => this.#depOnTask(d, errors)), errors);
    const user = submitter(
      {
        multiuser: this.#config.multiuser,
        minUid: this.#config.minUid,
        uid: this.#uid,
        gid: this.#gid,
        home: accountOf(this.#uid).home,
        accounts: this.#config.multiuser ? currentAccounts() : new Map(),
      },
      caller,
      o,
    );
    if ("denied" in user) return error(user.denied);
    if (this.#config.multiuser) {
      errors.push(
        ...this.#userLimits(user.uid, procs, o.array === undefined ? 1 : taskCount(o.array)),
      );
    }
    const cwd = o.cwd ?? user.home;
    if (!cwd.startsWith("/")) errors.push(`CWD must be an absolute path: ${cwd}`);
    else if (!isDirectory(cwd)) errors.push(`CWD is not an existing directory: ${cwd}`);
    const id = this.#lastId + 1;
    const [stdout, stderr] = (["stdout", "stderr"] as const).map((kind) => {
      const place = {
        id,
        name: o.name ?? "job",
        user: accountOf(user.uid).name,
        cwd,
        kind,
        isDirectory,
      };
      // An array's tasks inherit its output names as patterns (src/arrays.ts).
      const given = o.array === undefined ? o[kind] : taskOutputPattern(o[kind], place);
      const out = outputPath(given, place);
      if (out.error !== undefined) errors.push(out.error);
      return out.path;
    }) as [string, string];
    if (errors.length > 0) return error(errors.join("; "));

    const now = Date.now();
    const count = o.array === undefined ? 0 : taskCount(o.array);
    const added = o.array === undefined
      ? this.#scheduler.add(
        { id, procs, mem, deps, hold: o.hold, owner: user.uid, priority: o.priority ?? 0 },
        this.#endedState,
      )
      : this.#scheduler.addArray(
        {
          id,
          first: id + 1,
          count,
          max: o.array.max,
          procs,
          mem,
          deps,
          hold: o.hold,
          owner: user.uid,
          priority: o.priority ?? 0,
        },
        this.#endedState,
      );
    this.#lastId = id + count;
    const job: JobRecord = {
      id,
      name: o.name ?? "job",
      state: added.state,
      procs,
      mem,
      deps,
      cwd,
      stdout,
      stderr,
      env: Object.fromEntries(o.env),
      uid: user.uid,
      gid: user.gid,
      timeout: o.timeout ?? null,
      submitted: now,
      started: null,
      ended: added.state === "A" ? now : null,
      exitCode: null,
      reason: added.state === "A" ? abortReason(added.cause, added.causeState) : null,
      pid: null,
      stopping: null,
      handle: null,
      ...(o.args.length > 0 ? { args: o.args } : {}),
      ...(o.priority ? { priority: o.priority } : {}),
      ...(o.slurmOpts === undefined ? {} : { slurmOpts: o.slurmOpts }),
    };
    if (o.array === undefined) {
      this.#store.insert(job, req.script);
      if (o.retries) this.#store.setRetries(id, o.retries, o.retryDelay ?? null);
      if (o.notify !== undefined) this.#store.setNotify(id, o.notify);
      if (job.state === "A") this.#notify(id); // aborted at once: it ended now
    } else {
      const tasks = { first: id + 1, ranges: o.array.ranges, state: job.state, reason: job.reason };
      if (job.state !== "A") job.state = "H";
      this.#store.insertArray({ ...job, array: formatArraySpec(o.array) }, req.script, tasks);
    }
    return ok(String(id));
  }

  /** A dependency on an array's task made one on that task's job; an unknown task is an error. */
  #depOnTask(dep: Dependency & { task?: number }, errors: string[]): Dependency {
    if (dep.task === undefined) return dep;
    const id = this.#resolve(dep);
    if (id === 0) errors.push(`Unknown array task ${dep.id}_${dep.task}`);
    return { id: id || dep.id, kind: dep.kind };
  }

  /** Why `jobs` new jobs (tasks) of `uid` with `procs` each are over the per-user limits (sjq.user.*), if it is. */
  #userLimits(uid: number, procs: number, jobs: number): string[] {
    const { userMaxprocs, userMaxjobs } = this.#config;
    const over: string[] = [];
    if (userMaxprocs !== null && procs > userMaxprocs) {
      over.push(`PROCS ${procs} is more than sjq.user.maxprocs (${userMaxprocs})`);
    }
    if (userMaxjobs !== null && this.#scheduler.activeOf(uid) + jobs > userMaxjobs) {
      over.push(
        `uid ${uid} may have at most ${userMaxjobs} jobs waiting or running (sjq.user.maxjobs)`,
      );
    }
    return over;
  }

  /** Deduplicated dependencies; unknown ids and conflicting kinds are added to `errors`. */
  #checkDeps(deps: readonly Dependency[], errors: string[]): Dependency[] {
    const byId = new Map<number, Dependency>();
    for (const dep of deps) {
      const seen = byId.get(dep.id);
      if (seen !== undefined && seen.kind !== dep.kind) {
        errors.push(`Job ${dep.id} is named as both ${seen.kind} and ${dep.kind} dependency`);
      } else if (
        this.#scheduler.get(dep.id) === undefined && this.#endedState(dep.id) === undefined
      ) {
        errors.push(
          `Unknown job ${dep.id} in ${dep.kind === "afterok" ? "DEPENDS" : dep.kind.toUpperCase()}`,
        );
      }
      byId.set(dep.id, dep);
    }
    return [...byId.values()];
  }

  /** KILL id (`sjq kill`): ends a waiting job at once; signals a running one. */
  #kill(id: number): Reply {
    if (this.#scheduler.isArray(id)) {
      for (const task of this.#scheduler.arrayTasks(id)) this.#kill(task);
      return ok();
    }
    const job = this.#scheduler.get(id);
    if (job === undefined) return this.#noop(id);
    if (job.state !== "R" || (job.ahead && !this.#launched.has(id))) {
      this.#end(id, "K", { ended: Date.now(), reason: "killed before it started" });
      return ok();
    }
    this.#stopJob(id, "kill");
    return ok();
  }

  /** RELEASE id (`sjq release`): lets a user-held job go on. */
  #release(id: number): Reply {
    for (const task of this.#scheduler.arrayTasks(id)) this.#release(task);
    const change = this.#scheduler.release(id);
    if (change) this.#store.update(id, { state: change.state, retryAt: null });
    return change || this.#scheduler.isArray(id) ? ok() : this.#noop(id);
  }

  /** HOLD id (`sjq hold`): puts a queued or holding job into user-hold. */
  #hold(id: number): Reply {
    for (const task of this.#scheduler.arrayTasks(id)) this.#hold(task);
    const change = this.#scheduler.hold(id);
    if (change) this.#store.update(id, { state: change.state });
    return change || this.#scheduler.isArray(id) ? ok() : this.#noop(id);
  }

  /** The reply to a KILL, RELEASE or HOLD that changed nothing: `OK unknown`, or `OK noop <state>`. */
  #noop(id: number): Reply {
    const state = this.#store.state(id);
    return ok(state === undefined ? "unknown" : `noop ${state}`);
  }

  /**
   * RESTART id [DEPENDENTS] (`sjq restart`): puts an ended job back in the
   * queue with the jobs it aborted (src/restart.ts); answers how many.
   * Jobs of other users than `caller` are left as they are (root's restart
   * takes everyone's).
   */
  #restart(id: number, dependents: boolean, caller: Caller): Reply {
    if (this.#stopping) return error("The daemon is shutting down");
    const job = this.#store.get(id);
    if (job === undefined) return error(`Unknown job ${id}`);
    if (!isFinal(job.state)) return error(`Job ${id} has not ended`);
    if (job.array !== undefined || job.arrayId !== undefined) {
      return error(`Job ${id} belongs to an array: restarting arrays is not supported yet`);
    }
    const ids = planRestart([id], this.#store.endedAfter(id), dependents);
    let count = 0;
    for (const next of ids) {
      const again = next === id ? job : this.#store.get(next)!;
      if (again.array !== undefined || again.arrayId !== undefined) continue;
      if (mayActOnJob(caller, "restart", next, again.uid) !== null) continue;
      this.#requeue(again);
      count++;
    }
    this.#afterCommit(() => this.#log.info(`restarted ${count} jobs from job ${id}`));
    return ok(String(count));
  }

  /** An ended job back in the scheduler as if just submitted; its last end kept as an attempt. */
  #requeue(job: Omit<JobRecord, "env">): void {
    const added = this.#scheduler.add(
      {
        id: job.id,
        procs: job.procs,
        mem: job.mem,
        deps: job.deps,
        hold: false,
        owner: job.uid,
        priority: job.priority ?? 0,
      },
      this.#endedState,
    );
    this.#store.restartJob(job.id, added.state);
    if (added.state === "A") {
      const reason = abortReason(added.cause, added.causeState);
      this.#store.update(job.id, { ended: Date.now(), reason });
    }
  }

  /**
   * A job that failed with retries left (RETRIES) goes back to the queue
   * instead of ending: at once, or waiting in U for RETRYDELAY seconds.
   * Returns whether it did.
   */
  #retry(
    job: JobRecord,
    fields: { ended: number; exitCode: number | null; reason: string | null },
  ): boolean {
    const tries = this.#store.attempts(job.id).get(job.id)?.length ?? 0;
    if ((job.retries ?? 0) <= tries) return false;
    this.#store.update(job.id, { state: "F", ...fields });
    this.#scheduler.requeue(job.id);
    const delay = (job.retryDelay ?? 0) * 1000;
    if (delay > 0) this.#scheduler.hold(job.id);
    this.#store.restartJob(job.id, delay > 0 ? "U" : "Q");
    const due = fields.ended + delay;
    if (delay > 0) {
      this.#store.update(job.id, { retryAt: due });
      this.#afterCommit(() => this.#armRetry(job.id, due));
    }
    this.#afterCommit(() => {
      this.#log.info(
        `job ${job.id} failed (attempt ${tries + 1} of ${(job.retries ?? 0) + 1}): retried`,
      );
      this.#timeouts.clear(job.id);
      this.#launched.delete(job.id);
      this.#executor.forget(job.id);
    });
    this.#promote();
    return true;
  }

  /** Releases a job waiting in U for its retry when it is due. */
  #armRetry(id: number, due: number): void {
    this.#retries.at(id, due, () =>
      this.#event(() => {
        if (this.#store.get(id)?.retryAt == null) return;
        this.#store.update(id, { retryAt: null });
        const change = this.#scheduler.release(id);
        if (change) this.#store.update(id, { state: change.state });
      }));
  }

  /** CLEAN age states (`sjq clean`): forgets ended jobs (of `uid` only, unless null); answers how many. */
  #clean(olderThan: number, states: readonly FinalState[], uid: number | null = null): Reply {
    // Their spool files went when they ended (or at the next start, after a crash).
    const ids = this.#store.deleteEnded(Date.now() - olderThan * 1000, states, uid);
    if (ids.length > 0) this.#afterCommit(() => this.#log.info(`cleaned ${ids.length} ended jobs`));
    return ok(String(ids.length));
  }

  // --- Ticks (see group_commit.ts) ----------------------------------------

  #read(run: () => Reply | Promise<Reply>): Promise<Reply> {
    return this.#ticks.read(run);
  }

  #write(run: () => Reply): Promise<Reply> {
    return this.#ticks.write(run);
  }

  #event(run: () => void): void {
    if (this.#finished) return; // what happens now is for the next daemon to find
    this.#ticks.event(run);
  }

  #afterCommit(fn: () => void): void {
    this.#ticks.afterCommit(fn);
  }

  /** Undoes a tick that could not be committed; returns the reply for its changing requests. */
  #rollback(failure: Error): Reply {
    this.#store.rollback();
    this.#scheduler.rollback();
    this.#lastId = this.#store.lastId();
    const message = `Storage failure, nothing was changed: ${failure.message}`;
    this.#log.error(message);
    // The job events of the failed tick are applied again by the next one.
    this.#events = [...this.#applying, ...this.#events];
    this.#applying = [];
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      if (!this.#restored) this.#recover();
      else if (this.#events.length > 0) this.#event(() => {});
    }, RETRY_MS);
    return error(message);
  }

  // --- Running jobs ---------------------------------------------------------

  /**
   * The scheduling pass: marks what starts R; the executor gets each job once
   * that is durable. With a backlog, one more job is marked R ahead of a
   * free slot (lookahead), so that it starts the moment a slot frees,
   * without waiting for the disk.
   */
  #startJobs(): void {
    const now = Date.now();
    for (const { id } of this.#scheduler.schedule()) {
      this.#store.update(id, { state: "R", started: now });
      this.#afterCommit(() => this.#launch(id));
    }
    while (this.#scheduler.counts().Q >= LOOKAHEAD_BACKLOG) {
      const ahead = this.#scheduler.reserveAhead();
      if (ahead === null) return;
      this.#store.update(ahead.id, { state: "R", started: now });
      this.#afterCommit(() => {
        // An executor with lookahead holds the job itself and starts it when a slot frees.
        if (this.#executor.lookahead) this.#launch(ahead.id, this.#scheduler.isAhead(ahead.id));
        else if (this.#promotedEarly.delete(ahead.id)) this.#launch(ahead.id);
        else if (this.#scheduler.isAhead(ahead.id)) this.#aheadDurable.add(ahead.id);
      });
    }
  }

  /** Jobs whose slot freed: each starts now if its R is durable, else once it is. */
  #promote(): void {
    for (const id of this.#scheduler.promoted()) {
      if (this.#stopping !== null || this.#launched.has(id)) continue;
      if (this.#aheadDurable.delete(id)) this.#launch(id);
      else this.#promotedEarly.add(id);
    }
  }

  /** Hands a job whose R is durable to the executor, once. */
  #launch(id: number, ahead = false): void {
    if (this.#scheduler.get(id)?.state !== "R" || this.#launched.has(id)) return;
    this.#launched.add(id);
    const job = this.#store.get(id)!;
    this.#executor.start({
      job,
      script: this.#store.script(id),
      env: jobEnvironment(job, accountOf(job.uid)),
      ...(ahead ? { ahead } : {}),
    });
  }

  /** An executor event: kept until a committed tick has applied it. */
  #heard(event: ExecutorEvent): void {
    if (this.#finished) return; // what happens now is for the next daemon to find
    this.#events.push(event);
    this.#event(() => {});
  }

  /** Applies the executor events heard since the last tick (before its scheduling pass). */
  #applyEvents(): void {
    if (this.#events.length === 0) return;
    const events = this.#events;
    this.#events = [];
    this.#applying.push(...events);
    for (const event of events) this.#applyEvent(event);
  }

  #applyEvent(event: ExecutorEvent): void {
    const { id } = event;
    if (this.#scheduler.get(id)?.state !== "R") return;
    switch (event.kind) {
      case "started": {
        this.#store.update(id, { handle: event.handle, pid: event.pid ?? null, started: event.at });
        const job = this.#store.get(id)!;
        // A stop recorded before the job was (re)started is carried out now.
        if (job.stopping !== null) this.#afterCommit(() => this.#signal(id));
        else if (job.timeout !== null) this.#armTimeout(id, event.at + job.timeout * 1000);
        return;
      }
      case "ended":
        return this.#settle(id, event.outcome, event.at);
      case "lost":
        return this.#settle(id, { kind: "failed", reason: event.reason }, event.at);
      case "unstarted":
        if (this.#store.get(id)!.stopping !== null) {
          return this.#settle(
            id,
            { kind: "failed", reason: "killed before it started" },
            Date.now(),
          );
        }
        this.#scheduler.requeue(id);
        this.#promote();
        this.#store.update(id, { state: "Q", started: null, pid: null, handle: null });
        this.#afterCommit(() => {
          this.#log.info(`job ${id} had not started: queued again`);
          this.#timeouts.clear(id);
          this.#launched.delete(id);
          this.#executor.forget(id);
        });
    }
  }

  /** Records a running job's end, the state it earned, and what follows for its dependents. */
  #settle(id: number, outcome: Outcome, at: number): void {
    const job = this.#store.get(id)!;
    const ended = Math.max(at, job.started ?? at);
    const { state, exitCode, reason } = endingOf(outcome, job.stopping, job.timeout);
    if (state === "F" && this.#retry(job, { ended, exitCode, reason })) return;
    this.#end(id, state, { ended, exitCode, reason });
    this.#afterCommit(() => {
      const took = ((ended - (job.started ?? ended)) / 1000).toFixed(3);
      const how = exitCode === null
        ? reason
        : `exit code ${exitCode}${reason ? `, ${reason}` : ""}`;
      this.#log.info(`job ${id} ended ${state}: ${how}, after ${took} s`);
      this.#timeouts.clear(id);
      this.#launched.delete(id);
      this.#executor.forget(id);
    });
  }

  /** Ends an active job in `state` and carries the scheduler's consequences into the store. */
  #end(
    id: number,
    state: FinalState,
    fields: { ended: number; exitCode?: number | null; reason: string | null },
  ): void {
    this.#store.update(id, { state, pid: null, ...fields });
    this.#notify(id);
    this.#aheadDurable.delete(id);
    this.#promotedEarly.delete(id);
    this.#apply(this.#scheduler.end(id, state), fields.ended);
    this.#promote();
  }

  /** Stores the scheduler's decisions. */
  #apply(changes: Change[], now: number): void {
    for (const change of changes) {
      if ("tally" in change) {
        this.#store.update(change.id, {
          state: change.state,
          ended: now,
          reason: tallyReason(change.tally),
        });
        this.#notify(change.id);
      } else if (change.state === "A") {
        const reason = abortReason(change.cause, change.causeState);
        this.#store.update(change.id, { state: "A", ended: now, reason });
        this.#notify(change.id);
      } else this.#store.update(change.id, { state: change.state });
    }
  }

  /** Answers WAITs on a job once its end is committed. */
  #notify(id: number): void {
    const command = this.#store.notifyOf(id);
    if (command !== null) {
      this.#afterCommit(() =>
        runNotify(command, this.#store.get(id)!, accountOf(this.#uid).home, this.#log)
      );
    }
    if (!this.#waiters.has(id)) return;
    this.#afterCommit(() => this.#waiters.answer(id, waitReply(this.#store.get(id)!)));
  }

  /** Marks a running job as being stopped (durably), then has the executor end it. */
  #stopJob(id: number, cause: StopCause): void {
    if (this.#scheduler.get(id)?.state !== "R") return;
    const job = this.#store.get(id)!;
    if (job.stopping !== null) return;
    this.#store.update(id, { stopping: cause });
    this.#afterCommit(() => this.#signal(id));
  }

  /** SIGTERM (or the backend's equivalent), SIGKILL after the grace. */
  #signal(id: number): void {
    if (this.#scheduler.get(id)?.state !== "R") return;
    this.#timeouts.clear(id);
    this.#executor.kill(id, this.#config.killgrace * 1000);
  }

  #armTimeout(id: number, due: number): void {
    this.#timeouts.at(id, due, () => this.#event(() => this.#stopJob(id, "timeout")));
  }

  // --- Recovery and housekeeping -------------------------------------------

  /** The final state of a job no longer in the scheduler, also of a forgotten one. */
  #endedState = (id: number): FinalState | undefined => this.#store.endedState(id);

  /**
   * Restores the last daemon's jobs job by job (src/recovery.ts) and gives
   * the running ones to the executor, in one tick: what it can tell at once
   * (ended, lost, re-adopted) is applied in the same tick, before anyone
   * is answered.
   */
  #recover(): void {
    this.#event(() => {
      const running = restoreJobs(this.#store, this.#scheduler, this.#log);
      this.#afterCommit(() => this.#restored = true);
      if (this.#executorRecovered) return; // a retry after a failed tick: its events are kept
      this.#executorRecovered = true;
      if (running.length > 0) this.#log.info(`recovering ${running.length} running jobs`);
      for (const job of this.#store.active()) {
        if (job.state === "U" && job.retryAt != null) this.#armRetry(job.id, job.retryAt);
      }
      this.#executor.recover(running);
    });
  }

  /** The safety net: job events not applied yet, sjq.keepdone, then a scheduling pass. */
  #sweep(): void {
    if (this.#events.length > 0) this.#event(() => {});
    if (this.#config.keepdone > 0 && Date.now() - this.#lastClean >= 60_000) {
      this.#lastClean = Date.now();
      this.#write(() => this.#clean(this.#config.keepdone, ["S", "F", "A", "K", "E"]));
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
        if (job.ahead && !this.#launched.has(job.id)) {
          this.#scheduler.requeue(job.id);
          this.#store.update(job.id, { state: "Q", started: null });
        } else if (reason === "kill") this.#stopJob(job.id, "shutdown");
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
    this.#timeouts.clearAll();
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

function waitReply(job: JobRecord): Reply {
  return ok(`${job.state} ${job.exitCode ?? "-"}`);
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}
