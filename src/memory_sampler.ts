/**
 * The memory of whole jobs, sampled from /proc (what Slurm's
 * jobacct_gather/linux does): every so often the resident set sizes of all
 * the processes of each running job are summed, and the largest sum is the
 * job's peak. A job's processes are its first one (spawned by the shepherd,
 * src/shepherd.ts) and all its descendants, wherever their group or session,
 * and those its ended processes left to the shepherd (a subreaper) that
 * carry its `SJQ_JOB_TAG` in their environment, with their descendants.
 *
 * wait4's `ru_maxrss` is only the largest single process, and the job's
 * first one inherits the shepherd's own high-water mark (posix_spawn
 * shares the shepherd's memory until exec, and Linux keeps the larger
 * maxrss across exec): it counts only above that mark. The peak reported
 * is the larger of the two. Sampling misses a peak shorter than its
 * interval: young jobs are sampled more often (every 100 ms in their first
 * seconds, then up to once a second). Shared pages count once per process
 * (RSS, not PSS), as in Slurm.
 *
 * @module
 */

import { jobOf, statFields } from "./processes.ts";

/** How often jobs are sampled while the youngest of them is young, and at most. */
const FIRST_MS = 100;
const LAST_MS = 1000;

/** The peak summed RSS of each tracked job. */
export class MemorySampler {
  readonly #tag: string;
  /** Tracked jobs by session id (the job's pid): their id, start and peak. */
  readonly #bySession = new Map<
    number,
    { id: number; since: number; peak: number }
  >();
  /** The session of each tracked job, by job id. */
  readonly #sessionOf = new Map<number, number>();
  /** Processes outside any job's session: the job their environment names, by `pid:start`. */
  #marks = new Map<string, number | null>();
  readonly #page = pageSize();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed timer fires (`performance.now()`). */
  #due = Infinity;
  /** The shepherd's own peak RSS (VmHWM), and when it was read (`performance.now()`). */
  #ownPeak = 0;
  #ownPeakAt = -Infinity;

  /** `tag`: the spool's mark in `SJQ_JOB_TAG` (`<tag>.<id>`). */
  constructor(tag: string) {
    this.#tag = tag;
  }

  /** Samples job `id`, which runs as session `pid`, from now on. */
  track(id: number, pid: number): void {
    this.#bySession.set(pid, { id, since: performance.now(), peak: 0 });
    this.#sessionOf.set(id, pid);
    // No pass now: a start must not wait for one (a job too short for the first is wait4's).
    this.#arm();
  }

  /**
   * Stops sampling the job of session `pid`, reaped with `maxRss` (wait4's,
   * in bytes); its peak in bytes, or null if nothing was measured.
   */
  untrack(pid: number, maxRss: number): number | null {
    const job = this.#bySession.get(pid);
    this.#bySession.delete(pid);
    if (this.#bySession.size === 0) this.stop();
    if (job === undefined) return maxRss > 0 ? maxRss : null;
    this.#sessionOf.delete(job.id);
    // The mark only grows: one read after the job's spawn bounds what it inherited.
    if (this.#ownPeakAt < job.since) {
      this.#ownPeak = ownPeak();
      this.#ownPeakAt = performance.now();
    }
    const peak = Math.max(job.peak, maxRss > this.#ownPeak ? maxRss : 0);
    return peak === 0 ? null : peak;
  }

  /** Stops the timer (the shepherd is exiting). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due = Infinity;
  }

  /** Arms the timer for the next pass, sooner if a young job came. */
  #arm(): void {
    if (this.#bySession.size === 0) return;
    let youngest = Infinity;
    const now = performance.now();
    for (const job of this.#bySession.values()) youngest = Math.min(youngest, now - job.since);
    // A tenth of the youngest job's age: peaks of short jobs are not missed, long ones cost little.
    const delay = Math.min(LAST_MS, Math.max(FIRST_MS, youngest / 10));
    if (this.#timer !== undefined && this.#due <= now + delay) return;
    clearTimeout(this.#timer);
    this.#due = now + delay;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#due = Infinity;
      this.#sample();
      this.#arm();
    }, delay);
  }

  /**
   * One pass: each tracked job's summed RSS, its peak kept. The processes
   * are found by walking down from the shepherd's children (the jobs, and
   * what their ended parents left to it as a subreaper), not by reading
   * every process of the machine: a pass costs what the jobs have.
   */
  #sample(): void {
    if (this.#bySession.size === 0) return;
    const sums = new Map<number, number>();
    const marks = new Map<string, number | null>();
    for (const child of children(Deno.pid)) {
      let session: number | undefined = this.#bySession.has(child) ? child : undefined;
      const stat = statOf(child);
      if (stat === null) continue;
      if (session === undefined) {
        // Left to the shepherd by an ended parent: its job is in its environment.
        const key = `${child}:${stat.start}`;
        let id = this.#marks.get(key);
        if (id === undefined) id = jobOf(this.#tag, child);
        marks.set(key, id);
        session = id === null ? undefined : this.#sessionOf.get(id);
        if (session === undefined) continue;
      }
      let sum = sums.get(session) ?? 0;
      const todo = [child];
      for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
        const rss = pid === child ? stat.rss : statOf(pid)?.rss ?? 0;
        sum += rss * this.#page;
        todo.push(...children(pid));
      }
      sums.set(session, sum);
    }
    this.#marks = marks;
    for (const [session, sum] of sums) {
      const job = this.#bySession.get(session)!;
      if (sum > job.peak) job.peak = sum;
    }
  }
}

/** The children of process `pid`, of all its threads. */
function children(pid: number): number[] {
  const out: number[] = [];
  let tasks: Iterable<Deno.DirEntry>;
  try {
    tasks = Deno.readDirSync(`/proc/${pid}/task`);
  } catch {
    return out; // gone
  }
  for (const task of tasks) {
    try {
      const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`);
      for (const word of text.trim().split(/\s+/)) if (word !== "") out.push(Number(word));
    } catch { /* gone */ }
  }
  return out;
}

/** A process's resident pages and start time (/proc stat fields 24 and 22), or null when gone. */
function statOf(pid: number): { rss: number; start: string } | null {
  const f = statFields(pid);
  return f === null ? null : { rss: Number(f[21]) || 0, start: f[19] ?? "" };
}

/** This process's peak resident memory in bytes (VmHWM), or 0. */
function ownPeak(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(Deno.readTextFileSync("/proc/self/status"));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

/** The size of a memory page in bytes (what /proc counts RSS in). */
function pageSize(): number {
  try {
    const file = Deno.openSync("/proc/self/smaps");
    const buf = new Uint8Array(4096);
    const n = file.readSync(buf) ?? 0;
    file.close();
    const m = /KernelPageSize:\s+(\d+) kB/.exec(new TextDecoder().decode(buf.subarray(0, n)));
    if (m !== null) return Number(m[1]) * 1024;
  } catch { /* no smaps */ }
  return 4096;
}
