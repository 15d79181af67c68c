/**
 * The daemon: one handler per request, and the scheduler's decisions carried
 * out through the store (durable state) and the runner (processes). Every
 * change happens in a tick of the group commit (src/group_commit.ts): it is
 * on disk before any reply, spawn or signal that follows from it.
 *
 * @module
 */

import type { Config } from "./config.ts";
import {
  type Dependency,
  type FinalState,
  isFinal,
  type JobRecord,
  type State,
  STATES,
  type StopCause,
} from "./job.ts";
import type { Logger } from "./log.ts";
import type { Request } from "./protocol.ts";
import { accountOf, jobEnvironment, Runner } from "./runner.ts";
import { outputPath } from "./output_path.ts";
import { type Change, Scheduler } from "./scheduler.ts";
import { Store } from "./store.ts";
import type { Outcome } from "./supervisor.ts";
import { jobInfo } from "./info.ts";
import { GroupCommit } from "./group_commit.ts";

/** A reply: one line, an optional counted payload, and whether to close the connection after it. */
export interface Reply {
  line: string;
  payload?: Uint8Array;
  close?: boolean;
}

/** How a job ended, from its supervisor or from the daemon's own observation. */
type Ending = Outcome | { kind: "lost"; reason: string };

/**
 * Why the daemon stops: a clean SHUTDOWN, a drain, a signal, autoshutdown,
 * or a disk that failed under a commit (`fatal`).
 */
export type StopReason = "shutdown" | "drain" | "signal" | "idle" | "fatal";

const encoder = new TextEncoder();
/** How long recovery waits before it re-queues a running job that shows no sign of a start. */
const UNSTARTED_RECHECK_MS = 250;
const ok = (text = ""): Reply => ({ line: text === "" ? "OK" : `OK ${text}` });
const error = (text: string): Reply => ({ line: `ERROR ${text}` });

/** The job queue daemon, apart from its socket. */
export class Daemon {
  readonly #config: Config;
  readonly #log: Logger;
  readonly #store: Store;
  readonly #runner: Runner;
  readonly #scheduler: Scheduler;
  readonly #uid = Deno.uid() ?? 0;
  readonly #gid = Deno.gid() ?? 0;
  #lastId: number;
  readonly #ticks: GroupCommit<Reply>;
  /** Supervisor pid (= process group) of each running job, by job id. */
  readonly #pids = new Map<number, number>();
  /** Running jobs adopted from an earlier daemon (not our children: their end is polled). */
  readonly #adopted = new Set<number>();
  /** Jobs whose supervisor pid is not stored yet; it rides along with the next commit. */
  readonly #unsavedPids = new Set<number>();
  /** Jobs that could not be spawned, and why: the sweep settles them again until that commits. */
  readonly #unspawned = new Map<number, string>();
  readonly #timers = new Map<number, ReturnType<typeof setTimeout>>();
  /** Answers of pending WAITs, by job id. */
  readonly #waiters = new Map<number, ((reply: Reply) => void)[]>();
  #watcher: Deno.FsWatcher | null = null;
  #safetyNet: ReturnType<typeof setInterval> | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
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

  private constructor(config: Config, log: Logger, store: Store, runner: Runner) {
    this.#config = config;
    this.#log = log;
    this.#store = store;
    this.#runner = runner;
    this.#scheduler = new Scheduler({ procs: config.maxprocs, mem: config.maxmem });
    this.#lastId = store.lastId();
    this.#ticks = new GroupCommit<Reply>({
      begin: () => {
        store.begin();
        this.#scheduler.begin();
        this.#savePids();
      },
      beforeCommit: () => {
        if (!this.#stopping) this.#startJobs();
      },
      commit: () => {
        store.commit();
        this.#scheduler.commit();
      },
      durable: () => store.durable(),
      onFatal: (e) => this.#fatal(e),
      rollback: (failure) => this.#rollback(failure),
      afterTick: () => this.#afterTick(),
      onAfterCommitError: (e) => log.error(`after commit: ${(e as Error).stack ?? e}`),
    });
  }

  /**
   * Opens the store and spool next to `config.db`, re-adopts the jobs that
   * are still running, settles those that ended meanwhile, and starts work.
   */
  static open(config: Config, log: Logger): Daemon {
    const store = new Store(config.db);
    const runner = Runner.create(`${config.db}-spool`);
    const daemon = new Daemon(config, log, store, runner);
    daemon.#recover();
    daemon.#safetyNet = setInterval(() => daemon.#sweep(), Math.max(config.schedtime, 0.05) * 1000);
    return daemon;
  }

  /** Handles one request; the reply comes once what it changed is durable. */
  handle(req: Request): Promise<Reply> {
    if (this.#finished && req.kind !== "exit") {
      return Promise.resolve({ ...error("The daemon has stopped"), close: true });
    }
    switch (req.kind) {
      case "ping":
        return this.#read(() => this.#ping());
      case "exit":
        return Promise.resolve({ line: "OK BYE", close: true });
      case "status":
        return this.#read(() => this.#status(req.id));
      case "info":
        return this.#read(() => this.#info(req.id));
      case "wait":
        return this.#read(() => this.#wait(req.id));
      case "submit":
        return this.#write(() => this.#submit(req));
      case "kill":
        return this.#write(() => this.#kill(req.id));
      case "release":
        return this.#write(() => this.#release(req.id));
      case "hold":
        return this.#write(() => this.#hold(req.id));
      case "clean":
        return this.#write(() => this.#clean(req.olderThan, req.states));
      case "shutdown":
        this.stop(req.drain ? "drain" : "shutdown");
        return Promise.resolve({ line: "OK", close: true });
      case "invalid":
      case "fatal":
        return Promise.resolve({ ...error(req.message), close: req.kind === "fatal" });
    }
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

  /** STATUS [id] (`sjq status --raw`): the protocol's job table. */
  #status(id: number | null): Reply {
    const parts: string[] = [];
    for (const [jobId, name, state, deps] of this.#store.statusRows(id)) {
      parts.push(`${jobId}\t${name}\t${state}\t${deps}\r\n`);
    }
    return counted(parts.join(""));
  }

  /** INFO [id] (`sjq status`, `sjq status --json`): every field of the jobs, as JSON. */
  #info(id: number | null): Reply {
    const jobs = [];
    for (const job of this.#store.records(id)) jobs.push(jobInfo(job));
    return counted(JSON.stringify(jobs));
  }

  /** WAIT id (`sjq wait`): answers when the job has ended. */
  #wait(id: number): Reply | Promise<Reply> {
    const job = this.#store.get(id);
    if (job === undefined) return error(`Unknown job ${id}`);
    if (isFinal(job.state)) return waitReply(job);
    return new Promise((resolve) => {
      const list = this.#waiters.get(id) ?? [];
      list.push(resolve);
      this.#waiters.set(id, list);
    });
  }

  /** SUBMIT (`sjq submit`): validates everything, stores the job, answers its id. */
  #submit(req: Extract<Request, { kind: "submit" }>): Reply {
    if (this.#stopping) return error("The daemon is shutting down");
    const o = req.options;
    const errors = [...req.errors];
    const procs = o.procs ?? this.#config.defaultProcs;
    const mem = o.mem ?? this.#config.defaultMem;
    if (procs > this.#config.maxprocs) {
      errors.push(`PROCS ${procs} is more than sjq.maxprocs (${this.#config.maxprocs})`);
    }
    if (this.#config.maxmem !== null && mem > this.#config.maxmem) {
      errors.push(`MEM ${mem} is more than sjq.maxmem (${this.#config.maxmem})`);
    }
    const deps = this.#checkDeps(o.deps, errors);
    for (
      const [key, value, own] of [["UID", o.uid, this.#uid], ["GID", o.gid, this.#gid]] as const
    ) {
      if (value !== undefined && value !== own) {
        errors.push(`${key} ${value} is not the daemon's (${own}): jobs run as the daemon's user`);
      }
    }
    const account = accountOf(this.#uid);
    const cwd = o.cwd ?? account.home;
    if (!cwd.startsWith("/")) errors.push(`CWD must be an absolute path: ${cwd}`);
    else if (!isDirectory(cwd)) errors.push(`CWD is not an existing directory: ${cwd}`);
    const id = this.#lastId + 1;
    const [stdout, stderr] = (["stdout", "stderr"] as const).map((kind) => {
      const place = { id, name: o.name ?? "job", user: account.name, cwd, kind, isDirectory };
      const out = outputPath(o[kind], place);
      if (out.error !== undefined) errors.push(out.error);
      return out.path;
    }) as [string, string];
    if (errors.length > 0) return error(errors.join("; "));

    const now = Date.now();
    const added = this.#scheduler.add({ id, procs, mem, deps, hold: o.hold }, this.#endedState);
    this.#lastId = id;
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
      uid: this.#uid,
      gid: this.#gid,
      timeout: o.timeout ?? null,
      submitted: now,
      started: null,
      ended: added.state === "A" ? now : null,
      exitCode: null,
      reason: added.state === "A" ? abortReason(added.cause, added.causeState) : null,
      pid: null,
      stopping: null,
      ...(o.args.length > 0 ? { args: o.args } : {}),
      ...(o.slurmOpts === undefined ? {} : { slurmOpts: o.slurmOpts }),
    };
    this.#store.insert(job, req.script);
    return ok(String(id));
  }

  /** Deduplicated dependencies; unknown ids and conflicting kinds are added to `errors`. */
  #checkDeps(deps: readonly Dependency[], errors: string[]): Dependency[] {
    const byId = new Map<number, Dependency>();
    for (const dep of deps) {
      const seen = byId.get(dep.id);
      if (seen !== undefined && seen.kind !== dep.kind) {
        errors.push(`Job ${dep.id} is named as both ${seen.kind} and ${dep.kind} dependency`);
      } else if (
        this.#scheduler.get(dep.id) === undefined && this.#store.state(dep.id) === undefined
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
    const job = this.#scheduler.get(id);
    if (job === undefined) return ok();
    if (job.state !== "R") {
      this.#end(id, "K", { ended: Date.now(), reason: "killed before it started" });
      return ok();
    }
    this.#stopJob(id, "kill");
    return ok();
  }

  /** RELEASE id (`sjq release`): lets a user-held job go on. */
  #release(id: number): Reply {
    const change = this.#scheduler.release(id);
    if (change) this.#store.update(id, { state: change.state });
    return ok();
  }

  /** HOLD id (`sjq hold`): puts a queued or holding job into user-hold. */
  #hold(id: number): Reply {
    const change = this.#scheduler.hold(id);
    if (change) this.#store.update(id, { state: change.state });
    return ok();
  }

  /** CLEAN age states (`sjq clean`): forgets ended jobs; answers how many. */
  #clean(olderThan: number, states: readonly FinalState[]): Reply {
    // Their spool files went when they ended (or at the next start, after a crash).
    const ids = this.#store.deleteEnded(Date.now() - olderThan * 1000, states);
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
    // Job events of the failed tick are still on disk as done files: look again soon.
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#sweep(), 1000);
    return error(message);
  }

  // --- Running jobs ---------------------------------------------------------

  /** The scheduling pass: marks what starts R (durably, before it is spawned). */
  #startJobs(): void {
    for (const { id } of this.#scheduler.schedule()) {
      this.#store.update(id, { state: "R", started: Date.now() });
      // The supervisor starts while the disk catches up; the script only once R is durable.
      let child: Deno.ChildProcess | undefined;
      this.#ticks.whenCommitted(() => child = this.#spawn(id));
      this.#afterCommit(() => child && this.#runner.go(child));
    }
  }

  /** Spawns a job's supervisor (which waits for its go); undefined when it cannot start. */
  #spawn(id: number): Deno.ChildProcess | undefined {
    const job = this.#store.get(id)!;
    const child = this.#runner.start(
      job,
      this.#store.script(id),
      jobEnvironment(job, accountOf(job.uid)),
    );
    if (typeof child === "string") {
      this.#unspawned.set(id, child);
      this.#event(() => this.#settle(id, { kind: "error", reason: child }, Date.now()));
      return undefined;
    }
    this.#pids.set(id, child.pid);
    this.#unsavedPids.add(id);
    this.#log.info(`job ${id} started: pid ${child.pid}, ${job.procs} procs, name ${job.name}`);
    child.status.then(() => this.#onDone(id, true));
    this.#armTimeout(job);
    return child;
  }

  /** Stores the pids of supervisors spawned since the last commit (recovery can do without them). */
  #savePids(): void {
    const saving = [...this.#unsavedPids].filter((id) => this.#scheduler.get(id)?.state === "R");
    for (const id of saving) this.#store.update(id, { pid: this.#pids.get(id)! });
    this.#afterCommit(() => {
      for (const id of saving) this.#unsavedPids.delete(id);
    });
  }

  /** A supervisor has ended or left a done file: settle its job if it was running. */
  #onDone(id: number, exited = false): void {
    if (this.#scheduler.get(id)?.state !== "R") return;
    const done = this.#runner.outcome(id);
    if (done !== null) {
      this.#event(() => this.#settle(id, done.outcome, done.ended));
    } else if (exited) {
      this.#event(() =>
        this.#vanished(id, "lost: its supervisor ended without recording an outcome")
      );
    }
  }

  /**
   * A running job's supervisor is gone without a done file. A job it never
   * started (no go, or killed before) is queued again, unless it was being
   * stopped; one it started is lost.
   */
  #vanished(id: number, reason: string): void {
    if (this.#scheduler.get(id)?.state !== "R") return;
    if (!this.#runner.started(id) && this.#store.get(id)!.stopping === null) {
      this.#scheduler.requeue(id);
      this.#store.update(id, { state: "Q", started: null, pid: null });
      // Before this tick's scheduling pass may spawn the job again (whenCommitted work runs in order).
      this.#ticks.whenCommitted(() => {
        this.#log.info(`job ${id} had not started: queued again`);
        this.#forgetProcess(id);
      });
      return;
    }
    this.#settle(id, { kind: "lost", reason }, Date.now());
  }

  /** Records a running job's end, the state it earned, and what follows for its dependents. */
  #settle(id: number, ending: Ending, doneAt: number): void {
    if (this.#scheduler.get(id)?.state !== "R") return;
    const job = this.#store.get(id)!;
    // A done file's mtime comes from the kernel's coarse clock, a few ms behind Date.now().
    const ended = Math.max(doneAt, job.started ?? doneAt);
    const exitCode = ending.kind === "exit" ? ending.code : null;
    let state: FinalState;
    let reason: string | null = ending.kind === "exit" ? null : ending.reason;
    // A job the daemon was stopping ends as it meant, even when SIGKILL took its supervisor too.
    if (job.stopping === "timeout") {
      state = "F";
      reason = `timed out after ${job.timeout} s`;
    } else if (job.stopping !== null) {
      state = "K";
      reason = job.stopping === "shutdown" ? "killed at shutdown" : "killed";
    } else if (ending.kind === "exit") state = ending.code === 0 ? "S" : "F";
    else state = ending.kind === "error" ? "E" : "F";
    this.#end(id, state, { ended, exitCode, reason });
    this.#afterCommit(() => {
      const took = ((ended - (job.started ?? ended)) / 1000).toFixed(3);
      const how = exitCode === null
        ? reason
        : `exit code ${exitCode}${reason ? `, ${reason}` : ""}`;
      this.#log.info(`job ${id} ended ${state}: ${how}, after ${took} s`);
      this.#forget(id);
    });
  }

  /** Drops what the daemon keeps about an ended job, and its spool files. */
  #forget(id: number): void {
    this.#forgetProcess(id);
    this.#runner.cleanup(id);
  }

  /** Drops what the daemon keeps about a job's supervisor. */
  #forgetProcess(id: number): void {
    this.#pids.delete(id);
    this.#unsavedPids.delete(id);
    this.#adopted.delete(id);
    if (this.#adopted.size === 0) {
      this.#watcher?.close();
      this.#watcher = null;
    }
    this.#unspawned.delete(id);
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
  }

  /** Ends an active job in `state` and carries the scheduler's consequences into the store. */
  #end(
    id: number,
    state: FinalState,
    fields: { ended: number; exitCode?: number | null; reason: string | null },
  ): void {
    this.#store.update(id, { state, pid: null, ...fields });
    this.#notify(id);
    this.#apply(this.#scheduler.end(id, state), fields.ended);
  }

  /** Stores the scheduler's decisions. */
  #apply(changes: Change[], now: number): void {
    for (const change of changes) {
      if (change.state === "A") {
        const reason = abortReason(change.cause, change.causeState);
        this.#store.update(change.id, { state: "A", ended: now, reason });
        this.#notify(change.id);
      } else this.#store.update(change.id, { state: change.state });
    }
  }

  /** Answers WAITs on a job once its end is committed. */
  #notify(id: number): void {
    this.#afterCommit(() => {
      const waiters = this.#waiters.get(id);
      if (waiters === undefined) return;
      this.#waiters.delete(id);
      const reply = waitReply(this.#store.get(id)!);
      for (const w of waiters) w(reply);
    });
  }

  /** Marks a running job as being stopped (durably), then signals it. */
  #stopJob(id: number, cause: StopCause): void {
    const job = this.#store.get(id)!;
    if (job.stopping !== null) return;
    this.#store.update(id, { stopping: cause });
    this.#afterCommit(() => this.#terminate(id, Date.now()));
  }

  /** SIGTERM to the job's group, SIGKILL after the grace time; retried until the job is spawned. */
  #terminate(id: number, since: number): void {
    if (this.#scheduler.get(id)?.state !== "R") return;
    const late = Date.now() - since >= this.#config.killgrace * 1000;
    const pid = this.#pids.get(id);
    if (pid === undefined || !this.#runner.signal(pid, late ? "SIGKILL" : "SIGTERM")) {
      this.#later(id, () => this.#terminate(id, since), 20);
    } else if (!late) {
      this.#later(id, () => this.#terminate(id, since), this.#config.killgrace * 1000);
    }
  }

  #armTimeout(job: JobRecord): void {
    if (job.timeout === null || job.stopping !== null) return;
    const due = (job.started ?? Date.now()) + job.timeout * 1000 - Date.now();
    this.#later(job.id, () => this.#event(() => this.#stopJob(job.id, "timeout")), due);
  }

  /** One timer per running job: a kill escalation replaces a pending timeout. */
  #later(id: number, fn: () => void, ms: number): void {
    clearTimeout(this.#timers.get(id));
    this.#timers.set(
      id,
      setTimeout(() => {
        this.#timers.delete(id);
        fn();
      }, Math.max(0, ms)),
    );
  }

  // --- Recovery and housekeeping -------------------------------------------

  /** The final state of a job no longer in the scheduler, for dependency checks. */
  #endedState = (id: number): FinalState | undefined => {
    const state = this.#store.state(id);
    return state !== undefined && isFinal(state) ? state : undefined;
  };

  /**
   * Rebuilds the scheduler from the store. Running jobs are re-adopted when
   * their supervisor lives, settled from their done file when they ended,
   * queued again when they never started, and marked lost otherwise.
   */
  #recover(): void {
    const active = this.#store.active();
    const running = active.filter((job) => job.state === "R").map((job) => job.id);
    this.#event(() => {
      const now = Date.now();
      const boot = bootId();
      const rebooted = this.#store.meta("boot_id") !== boot;
      this.#store.setMeta("boot_id", boot);
      for (const job of active) {
        const added = this.#scheduler.restore(job, this.#endedState);
        if (added.state === "A") {
          this.#store.update(job.id, {
            state: "A",
            ended: now,
            reason: abortReason(added.cause, added.causeState),
          });
        } else if (added.state !== job.state) {
          this.#store.update(job.id, { state: added.state });
        }
      }
      for (const id of running) this.#recoverRunning(this.#store.get(id)!, rebooted);
    });
    // Spool files of jobs not running were left by a crash between a commit and its cleanup.
    const keep = new Set(running);
    for (const id of this.#runner.spoolIds()) if (!keep.has(id)) this.#runner.cleanup(id);
  }

  /**
   * Settles, re-adopts or re-queues a job found in R. A job with no trace of
   * a start is looked at once more a moment later (`recheck`): a supervisor
   * forked by the dead daemon may not have exec'd yet.
   */
  #recoverRunning(job: JobRecord, rebooted: boolean, recheck = true): void {
    const done = this.#runner.outcome(job.id);
    if (done !== null) return this.#settle(job.id, done.outcome, done.ended);
    const pid = job.pid !== null && this.#runner.supervising(job.pid, job.id)
      ? job.pid
      : this.#runner.findSupervisor(job.id);
    if (pid !== null) {
      this.#pids.set(job.id, pid);
      this.#adopted.add(job.id);
      // Adopted supervisors are not our children: their done files are watched for.
      this.#watcher ??= this.#runner.watch((id) => this.#onDone(id));
      this.#afterCommit(() => {
        this.#log.info(`job ${job.id} re-adopted: supervisor pid ${pid}`);
        if (job.stopping !== null) this.#terminate(job.id, Date.now());
        else this.#armTimeout(job);
      });
      if (job.pid !== pid) this.#store.update(job.id, { pid });
      if (!this.#runner.started(job.id)) this.#recheckLater(job.id);
      return;
    }
    const late = this.#runner.outcome(job.id);
    if (late !== null) return this.#settle(job.id, late.outcome, late.ended);
    if (rebooted) {
      return this.#settle(job.id, {
        kind: "lost",
        reason: "lost: the machine restarted while it ran",
      }, Date.now());
    }
    // Within one boot the page cache holds the marker even unsynced: no marker, never started.
    if (recheck && !this.#runner.started(job.id)) return this.#recheckLater(job.id);
    this.#vanished(job.id, "lost: its supervisor vanished while no daemon ran");
  }

  /**
   * Looks again shortly at a running job that shows no sign of a start: a
   * supervisor forked by the dead daemon may not have exec'd yet, and one
   * that never got its go exits on its own.
   */
  #recheckLater(id: number): void {
    this.#afterCommit(() =>
      setTimeout(() => {
        if (this.#scheduler.get(id)?.state !== "R") return;
        const pid = this.#pids.get(id);
        if (pid === undefined) {
          this.#event(() => this.#recoverRunning(this.#store.get(id)!, false, false));
        } else if (!this.#runner.supervising(pid, id)) this.#onDone(id, true);
        else if (!this.#runner.started(id)) this.#recheckLater(id);
      }, UNSTARTED_RECHECK_MS)
    );
  }

  /** The safety net: done files and adopted supervisors, then a scheduling pass. */
  #sweep(): void {
    for (const id of this.#runner.doneIds()) this.#onDone(id);
    for (const id of this.#adopted) {
      if (!this.#runner.supervising(this.#pids.get(id)!, id)) this.#onDone(id, true);
    }
    for (const [id, reason] of this.#unspawned) {
      this.#event(() => this.#settle(id, { kind: "error", reason }, Date.now()));
    }
    if (this.#unsavedPids.size > 0) this.#event(() => {});
    if (this.#config.keepdone > 0 && Date.now() - this.#lastClean >= 60_000) {
      this.#lastClean = Date.now();
      this.#write(() => this.#clean(this.#config.keepdone, ["S", "F", "A", "K", "E"]));
    }
    if (this.#scheduler.counts().Q > 0) this.#event(() => {});
  }

  #afterTick(): void {
    const { Q, R } = this.#scheduler.counts();
    if (this.#stopping !== null) {
      if (R === 0 || this.#stopping === "signal") this.#finish();
      return;
    }
    const idle = Q === 0 && R === 0;
    if (!idle || !this.#config.autoshutdown) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
    } else if (this.#idleTimer === undefined) {
      this.#idleTimer = setTimeout(() => {
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
   * Stops the daemon. `shutdown` kills running jobs and waits for them to end
   * in K; `drain` starts nothing new and waits for running jobs; `signal` and
   * `idle` leave running jobs to the next daemon.
   */
  stop(reason: StopReason): void {
    if (this.#stopping !== null && reason !== "shutdown") return;
    this.#stopping = reason;
    this.#resolveStopping(reason);
    this.#log.info(`stopping: ${reason}`);
    if (reason === "shutdown") {
      this.#event(() => {
        for (const job of this.#scheduler.jobs()) {
          if (job.state === "R") this.#stopJob(job.id, "shutdown");
        }
      });
    } else this.#event(() => {});
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
    this.#resolveStopping("fatal");
    this.#resolveStopped("fatal");
  }

  #finish(): void {
    if (this.#ticks.busy || this.#finished) return;
    this.#finished = true;
    clearInterval(this.#safetyNet);
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#retryTimer);
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#watcher?.close();
    this.#store[Symbol.dispose]();
    for (const [id, waiters] of this.#waiters) {
      for (const w of waiters) w(error(`The daemon stopped before job ${id} ended`));
    }
    this.#log.info("stopped");
    this.#resolveStopped(this.#stopping!);
  }
}

/** This boot of the machine, to tell a daemon restart from a machine restart. */
function bootId(): string {
  try {
    return Deno.readTextFileSync("/proc/sys/kernel/random/boot_id").trim();
  } catch {
    return "unknown";
  }
}

function waitReply(job: JobRecord): Reply {
  return ok(`${job.state} ${job.exitCode ?? "-"}`);
}

function counted(text: string): Reply {
  const payload = encoder.encode(text);
  return { line: `OK ${payload.length}`, payload };
}

function abortReason(cause: number, state: State): string {
  return `dependency ${cause} ended in ${state}`;
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}
