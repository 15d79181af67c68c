/**
 * The daemon's half of surviving a shepherd's death. The daemon is a child
 * subreaper (`PR_SET_CHILD_SUBREAPER`), so when the shepherd it started is
 * killed, the jobs that shepherd ran are reparented to the daemon rather
 * than to init, and their exit codes can still be collected. This reaps
 * them (`wait4` of those pids only, on SIGCHLD, never `waitpid(-1)`: the
 * daemon's other children belong to Deno) and keeps what it learnt until
 * the job is forgotten.
 *
 * A job is reaped only when its process is, by its start time, the one the
 * shepherd spawned and is a child of this daemon: a pid reused by a process
 * of Deno's is never touched.
 *
 * @module
 */

import type { Outcome, Usage } from "./executor.ts";
import { Libc } from "./libc.ts";
import { statFields } from "./processes.ts";

/** How an adopted job ended, as reaped by the daemon. */
export interface AdoptedEnd {
  id: number;
  at: number;
  outcome: Outcome;
  usage: Usage | null;
}

/** Reaps the daemon's adopted jobs (those of a shepherd that died) and reports their ends. */
export class OrphanReaper {
  readonly #libc: Libc | null;
  /** Job id → its process (pid and /proc start time), as the shepherd reported it. */
  readonly #procs = new Map<number, { pid: number; ticks: string }>();
  /** Ends reaped here and not yet forgotten. */
  readonly #ended = new Map<number, AdoptedEnd>();
  readonly #onEnd: (end: AdoptedEnd) => void;
  readonly #listener = () => this.sweep();

  /** Makes the daemon a subreaper; `onEnd` hears every job reaped here. */
  constructor(onEnd: (end: AdoptedEnd) => void) {
    this.#onEnd = onEnd;
    let libc: Libc | null = null;
    try {
      libc = new Libc();
      if (!libc.becomeSubreaper()) libc = null;
    } catch { /* no libc to call (not glibc Linux): jobs of a dead shepherd are lost */ }
    this.#libc = libc;
    if (libc !== null) Deno.addSignalListener("SIGCHLD", this.#listener);
  }

  /** Whether orphans come to this daemon. */
  get active(): boolean {
    return this.#libc !== null;
  }

  /** Job `id` runs as `pid` (started at `ticks`, /proc stat field 22; without it the job is never reaped here). */
  track(id: number, pid: number, ticks?: string): void {
    if (pid > 0 && ticks !== undefined) this.#procs.set(id, { pid, ticks });
  }

  /**
   * Finds job `id` among this daemon's children when a shepherd died while
   * spawning it (from `since`, ms since the epoch), so its pid never reached
   * the journal: a session leader started since then that carries the job's
   * mark (`SJQ_JOB_TAG=<tag>.<id>`), or, once it has ended (a zombie keeps
   * no environment), the only such zombie not otherwise accounted for. A
   * shepherd spawns one job at a time, so at most one job is in that state.
   * Returns whether it was found (then `endOf` reaps it once it ends).
   */
  claim(id: number, since: number, tag: string, except: ReadonlySet<number>): boolean {
    if (this.#libc === null || this.#procs.has(id)) return this.#procs.has(id);
    const known = new Set([...except, ...[...this.#procs.values()].map((p) => p.pid)]);
    const from = ticksAt(since) - 5; // /proc's start times are in 10 ms ticks
    const zombies: { pid: number; ticks: string }[] = [];
    for (const pid of ownChildren()) {
      if (known.has(pid)) continue;
      const stat = statOf(pid);
      if (stat === null || stat.session !== pid || Number(stat.ticks) < from) continue;
      if (stat.state !== "Z") {
        if (hasMark(pid, `SJQ_JOB_TAG=${tag}.${id}`)) {
          this.#procs.set(id, { pid, ticks: stat.ticks });
          return true;
        }
      } else zombies.push({ pid, ticks: stat.ticks });
    }
    if (zombies.length !== 1) return false;
    this.#procs.set(id, zombies[0]!);
    return true;
  }

  /** The end of job `id` if it was reaped here (trying once more first), or undefined. */
  endOf(id: number): AdoptedEnd | undefined {
    if (!this.#ended.has(id)) this.#reap(id);
    return this.#ended.get(id);
  }

  /** The end of job `id` if it was reaped here, or undefined. */
  reaped(id: number): AdoptedEnd | undefined {
    return this.#ended.get(id);
  }

  /** Every end reaped here and not forgotten. */
  ends(): AdoptedEnd[] {
    return [...this.#ended.values()];
  }

  /** Reaps every tracked job that is an ended child of this daemon. */
  sweep(): void {
    if (this.#libc === null) return;
    for (const id of this.#procs.keys()) {
      const end = this.#reap(id);
      if (end !== undefined) this.#onEnd(end);
    }
  }

  #reap(id: number): AdoptedEnd | undefined {
    const proc = this.#procs.get(id);
    if (this.#libc === null || proc === undefined || !isOurChild(proc.pid, proc.ticks)) {
      return undefined;
    }
    const r = this.#libc.reap(proc.pid);
    if (r === null) return undefined;
    this.#procs.delete(id);
    const end: AdoptedEnd = {
      id,
      at: Date.now(),
      outcome: r.code !== null
        ? { kind: "exit", code: r.code }
        : { kind: "signal", signal: r.signal! },
      // No peak: wait4's maxrss of a job's first process includes its dead shepherd's own
      // (posix_spawn shares its memory until exec), and that shepherd's sample of the whole
      // job died with it (src/memory_sampler.ts).
      usage: { userMs: r.userMs, systemMs: r.systemMs, maxRss: null },
    };
    this.#ended.set(id, end);
    return end;
  }

  /** The job's end is durable. */
  forget(id: number): void {
    this.#procs.delete(id);
    this.#ended.delete(id);
  }

  /** Stops listening for SIGCHLD. */
  close(): void {
    if (this.#libc !== null) Deno.removeSignalListener("SIGCHLD", this.#listener);
  }
}

/** Whether `pid` is a child of this process that started at `ticks` (a zombie included). */
function isOurChild(pid: number, ticks: string): boolean {
  const stat = statOf(pid);
  return stat !== null && stat.parent === Deno.pid && stat.ticks === ticks;
}

/** What /proc/<pid>/stat says of a process (a zombie included), or null when it is gone. */
function statOf(
  pid: number,
): { state: string; parent: number; session: number; ticks: string } | null {
  const f = statFields(pid);
  return f === null
    ? null
    : { state: f[0]!, parent: Number(f[1]), session: Number(f[3]), ticks: f[19]! };
}

/** Whether `entry` (`NAME=value`) is in the environment of process `pid`. */
function hasMark(pid: number, entry: string): boolean {
  try {
    return `\0${Deno.readTextFileSync(`/proc/${pid}/environ`)}`.includes(`\0${entry}\0`);
  } catch {
    return false;
  }
}

/** This process's children, from every thread (an orphan goes to any of them). */
function ownChildren(): number[] {
  const out: number[] = [];
  try {
    for (const task of Deno.readDirSync("/proc/self/task")) {
      try {
        const text = Deno.readTextFileSync(`/proc/self/task/${task.name}/children`).trim();
        if (text !== "") out.push(...text.split(" ").map(Number));
      } catch { /* the thread ended */ }
    }
  } catch { /* no /proc */ }
  return out;
}

/** The /proc start time (ticks since boot) of an instant given in ms since the epoch. */
function ticksAt(epochMs: number): number {
  try {
    const uptime = Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]);
    return Math.floor((epochMs - (Date.now() - uptime * 1000)) / 10);
  } catch {
    return 0;
  }
}
