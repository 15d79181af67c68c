/**
 * The supervised executor: runs each job under a shell supervisor
 * (src/runner.ts, src/supervisor.ts), in a session of its own. The local
 * executor (src/local_executor.ts) uses it for jobs of other users in a
 * root daemon (the supervisor drops to the user, src/as_user.ts), in its
 * own spool directory. Jobs outlive the daemon; the next daemon's
 * executor re-adopts them from that directory.
 *
 * @module
 */

import type {
  Executor,
  ExecutorContext,
  ExecutorEvent,
  Launch,
  Outcome as ExecutorOutcome,
  Recovering,
} from "./executor.ts";
import { clearLongTimeout, type LongTimer, setLongTimeout } from "./long_timer.ts";
import { Runner } from "./runner.ts";
import type { Outcome } from "./supervisor.ts";

/** How long recovery waits before it looks again at a job that shows no sign of a start. */
const UNSTARTED_RECHECK_MS = 250;
/** How often ends of adopted jobs are polled when no file watcher is available. */
const POLL_MS = 200;
/** How often every running job is looked at again, whatever was heard of it. */
const SWEEP_MS = 1000;

/** Jobs as processes of this machine, each under a supervisor (jobs of other users). */
export class SupervisedExecutor implements Executor {
  readonly name = "supervised";
  readonly #ctx: ExecutorContext;
  readonly #runner: Runner;
  /** Supervisor pid (= process group) of each job handed to us, by job id. */
  readonly #pids = new Map<number, number>();
  /** Jobs whose supervisor is not our child (adopted): their end is watched for or polled. */
  readonly #adopted = new Set<number>();
  /** Kill escalations (SIGKILL after the grace), by job id. */
  readonly #kills = new Map<number, LongTimer>();
  #watcher: Deno.FsWatcher | null = null;
  #poll: ReturnType<typeof setInterval> | undefined;
  readonly #sweep: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(ctx: ExecutorContext) {
    this.#ctx = ctx;
    this.#runner = Runner.create(ctx.spool);
    this.#sweep = setInterval(() => this.#sweepAll(), SWEEP_MS);
  }

  #emit(event: ExecutorEvent): void {
    if (!this.#closed) this.#ctx.emit(event);
  }

  start({ job, script, env }: Launch): void {
    const child = this.#runner.start(job, script, env);
    if (typeof child === "string") {
      this.#emit({ kind: "ended", id: job.id, at: Date.now(), outcome: error(child), usage: null });
      return;
    }
    this.#runner.go(child);
    this.#pids.set(job.id, child.pid);
    this.#emit({
      kind: "started",
      id: job.id,
      at: Date.now(),
      handle: String(child.pid),
      pid: child.pid,
    });
    child.status.then(() => this.#check(job.id, true));
  }

  kill(id: number, graceMs: number): void {
    const since = Date.now();
    const attempt = () => {
      if (this.#closed || !this.#pids.has(id)) return;
      const late = Date.now() - since >= graceMs;
      if (!this.#runner.signal(this.#pids.get(id)!, late ? "SIGKILL" : "SIGTERM")) {
        this.#check(id, true);
      } else if (!late) {
        clearLongTimeout(this.#kills.get(id));
        this.#kills.set(id, setLongTimeout(attempt, graceMs));
      }
    };
    attempt();
  }

  recover(jobs: readonly Recovering[]): void {
    const boot = bootId();
    const bootFile = `${this.#ctx.spool}/boot_id`;
    const recorded = readText(bootFile);
    const rebooted = recorded !== null && recorded !== boot;
    Deno.writeTextFileSync(bootFile, boot);
    const keep = new Set(jobs.map(({ job }) => job.id));
    // Spool files of jobs not running were left by a crash between a commit and its cleanup.
    for (const id of this.#runner.spoolIds()) if (!keep.has(id)) this.#runner.cleanup(id);
    for (const { job, handle } of jobs) {
      try {
        const pid = handle !== null && /^\d+$/.test(handle) ? Number(handle) : job.pid;
        this.#recoverOne(job.id, pid, rebooted, true);
      } catch (e) {
        this.#ctx.log.error(`job ${job.id}: recovery failed: ${(e as Error).stack ?? e}`);
        this.#emit(lost(job.id, `lost: recovery failed: ${(e as Error).message}`));
      }
    }
  }

  /**
   * Settles, re-adopts or re-queues a job found in R. A job with no trace of
   * a start is looked at once more a moment later: a supervisor forked by
   * the dead daemon may not have exec'd yet.
   */
  #recoverOne(id: number, recorded: number | null, rebooted: boolean, recheck: boolean): void {
    if (this.#ended(id)) return;
    const pid = recorded !== null && this.#runner.supervising(recorded, id)
      ? recorded
      : this.#runner.findSupervisor(id);
    if (pid !== null) {
      this.#pids.set(id, pid);
      this.#adopt(id);
      this.#emit({ kind: "started", id, at: Date.now(), handle: String(pid), pid });
      if (!this.#runner.started(id)) this.#recheckLater(id);
      return;
    }
    if (this.#ended(id)) return;
    if (rebooted) return this.#emit(lost(id, "lost: the machine restarted while it ran"));
    // Within one boot the page cache holds the marker even unsynced: no marker, never started.
    if (!this.#runner.started(id)) {
      if (recheck) return this.#recheckLater(id, () => this.#recoverOne(id, null, false, false));
      return this.#emit({ kind: "unstarted", id });
    }
    this.#emit(lost(id, "lost: its supervisor vanished while no daemon ran"));
  }

  /** Looks again shortly at a job that shows no sign of a start. */
  #recheckLater(id: number, again?: () => void): void {
    setTimeout(() => {
      if (this.#closed) return;
      if (again !== undefined) return again();
      const pid = this.#pids.get(id);
      if (pid === undefined) return;
      if (!this.#runner.supervising(pid, id)) this.#check(id, true);
      else if (!this.#runner.started(id)) this.#recheckLater(id);
    }, UNSTARTED_RECHECK_MS);
  }

  /** Emits the job's end if its supervisor recorded one; whether it did. */
  #ended(id: number): boolean {
    const done = this.#runner.outcome(id);
    if (done === null) return false;
    this.#emit({
      kind: "ended",
      id,
      at: done.ended,
      outcome: fromSupervisor(done.outcome),
      usage: null,
    });
    return true;
  }

  /** A supervisor may have ended: reports what became of its job. */
  #check(id: number, exited: boolean): void {
    if (!this.#pids.has(id) || this.#ended(id) || !exited) return;
    if (this.#runner.started(id)) {
      this.#emit(lost(id, "lost: its supervisor ended without recording an outcome"));
    } else this.#emit({ kind: "unstarted", id });
  }

  /** Watches an adopted job's done file (or polls, when no watcher can be had). */
  #adopt(id: number): void {
    this.#adopted.add(id);
    if (this.#watcher !== null || this.#poll !== undefined) return;
    try {
      this.#watcher = this.#runner.watch((done) => this.#check(done, false));
    } catch (e) {
      // inotify instances are limited per user (EMFILE): polling does as well, a little later.
      this.#ctx.log.info(`cannot watch ${this.#runner.doneDir} (${(e as Error).message}): polling`);
      this.#poll = setInterval(() => {
        for (const adopted of this.#adopted) this.#check(adopted, false);
      }, POLL_MS);
    }
  }

  /** The safety net: every job we hold is looked at again until it is forgotten. */
  #sweepAll(): void {
    for (const id of this.#runner.doneIds()) if (this.#pids.has(id)) this.#check(id, false);
    for (const id of this.#adopted) {
      if (!this.#runner.supervising(this.#pids.get(id)!, id)) this.#check(id, true);
    }
  }

  forget(id: number): void {
    this.#pids.delete(id);
    this.#adopted.delete(id);
    clearLongTimeout(this.#kills.get(id));
    this.#kills.delete(id);
    this.#runner.cleanup(id);
    if (this.#adopted.size === 0) this.#unwatch();
  }

  #unwatch(): void {
    this.#watcher?.close();
    this.#watcher = null;
    clearInterval(this.#poll);
    this.#poll = undefined;
  }

  close(mode: "detach" | "kill"): Promise<void> {
    if (mode === "kill") {
      for (const pid of this.#pids.values()) this.#runner.signal(pid, "SIGKILL");
    }
    this.#closed = true;
    clearInterval(this.#sweep);
    for (const t of this.#kills.values()) clearLongTimeout(t);
    this.#unwatch();
    return Promise.resolve();
  }
}

function lost(id: number, reason: string): ExecutorEvent {
  return { kind: "lost", id, at: Date.now(), reason };
}

function error(reason: string): ExecutorOutcome {
  return { kind: "error", reason };
}

function fromSupervisor(outcome: Outcome): ExecutorOutcome {
  return outcome.kind === "exit" ? { kind: "exit", code: outcome.code } : error(outcome.reason);
}

function readText(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
}

/** This boot of the machine, to tell a daemon restart from a machine restart. */
function bootId(): string {
  return readText("/proc/sys/kernel/random/boot_id")?.trim() ?? "unknown";
}
