/**
 * The scheduler: a pure model of the jobs that have not ended yet. Given
 * what happens (submit, end, hold, release) it says which jobs change state,
 * which start and which abort. No clocks, files, sockets or processes.
 *
 * Every mutation is journaled so that the daemon can roll the model back when
 * the store fails to commit the same changes (see `begin`/`rollback`).
 *
 * @module
 */

import { type ActiveState, type Dependency, dependencySatisfied, type FinalState } from "./job.ts";
import { arrayOutcome, ArrayTable, type Tally } from "./scheduler_arrays.ts";
import { DependencyGraph } from "./scheduler_dependencies.ts";
import { Lookahead } from "./scheduler_lookahead.ts";
import { RankedQueue } from "./scheduler_priority.ts";
import { Admission, type Capacity, Resources } from "./scheduler_resources.ts";

export type { Capacity, QueueCapacity } from "./scheduler_resources.ts";
export { PRIORITY_MAX, PRIORITY_STEP, rankOf } from "./scheduler_priority.ts";
export { arrayOutcome, type Tally } from "./scheduler_arrays.ts";

/** What the scheduler needs to know of a job. */
export interface SchedJob {
  readonly id: number;
  readonly procs: number;
  readonly mem: number;
  readonly deps: readonly Dependency[];
  /** The uid the job runs as, for the per-user limits (jobs without one are not limited). */
  readonly owner?: number;
  state: ActiveState;
  /** Dependencies that have not ended yet (for an array's head: tasks that have not ended). */
  pending: number;
  /** The head of the array this job is a task of. */
  readonly array?: number;
  /** Its priority (see {@linkcode rankOf}); 0 when absent. */
  readonly priority?: number;
  /** Marked R ahead of a free slot (see `reserveAhead`): its resources are not counted yet. */
  ahead?: boolean;
  /** GPUs it needs; absent is 0. */
  readonly gpus?: number;
  /** The devices it holds while it runs (given when it starts, kept across a restore). */
  gpuIds?: readonly string[];
  /** The named queue it belongs to (src/queue_config.ts); its limits are {@linkcode Capacity.queues}'. */
  readonly queue?: string;
}

/**
 * The machine's memory as a scheduling pass sees it (read by an adapter,
 * src/memory_gate.ts): a job starts only while `available` (MemAvailable)
 * holds its declared memory and `margin` besides, less what the jobs
 * started earlier in the same pass declared. When no job runs, the first
 * job that fits the capacity starts whatever it says: waiting would free
 * nothing of ours, and a machine with less memory than a job declares
 * must not keep it waiting forever.
 */
export interface MemoryRoom {
  available: number;
  margin: number;
}

/** What the last pass found short of memory (see {@linkcode Scheduler.memoryShort}). */
export interface MemoryShort {
  /** Queued jobs it held back, with the MemAvailable it saw. */
  readonly waiting: ReadonlyMap<number, number>;
  /** Jobs it started although MemAvailable was short, as no other job ran. */
  readonly forced: readonly number[];
}

/** A state change the scheduler decided. `cause` names the dependency behind an abort. */
export type Change =
  | { id: number; state: "Q" | "H" | "U" | "R" }
  | { id: number; state: "A"; cause: number; causeState: FinalState }
  | { id: number; state: FinalState; tally: Readonly<Tally> };

/** How a new job starts out. */
export interface NewJob {
  id: number;
  procs: number;
  mem: number;
  deps: readonly Dependency[];
  hold: boolean;
  /** The head of the array this job is a task of. */
  array?: number;
  /** The uid the job runs as (see {@linkcode SchedJob.owner}). */
  owner?: number;
  /** Its priority (see {@linkcode rankOf}). */
  priority?: number;
  /** GPUs it needs (see {@linkcode SchedJob.gpus}). */
  gpus?: number;
  /** For a running job restored: the devices it holds. */
  gpuIds?: readonly string[];
  /** Its named queue (see {@linkcode SchedJob.queue}). */
  queue?: string;
}

/** A new array: its head `id` and `count` tasks from job id `first` on, which share size, dependencies and hold. */
export interface NewArray {
  id: number;
  first: number;
  count: number;
  max: number | null;
  procs: number;
  mem: number;
  deps: readonly Dependency[];
  hold: boolean;
  /** The uid its tasks run as. */
  owner?: number;
  /** Its tasks' priority (see {@linkcode rankOf}). */
  priority?: number;
  /** GPUs each task needs. */
  gpus?: number;
  /** Its tasks' named queue. */
  queue?: string;
}

/** The outcome of adding a job: its first state, and the dependency that aborted it. */
export type Added =
  | { state: "Q" | "H" | "U" }
  | { state: "A"; cause: number; causeState: FinalState };

/** Tells the final state of a job that is not in the scheduler (ended earlier), if known. */
export type EndedLookup = (id: number) => FinalState | undefined;

/** First come, first served with skipping, over the jobs that have not ended. */
export class Scheduler {
  readonly #resources: Resources;
  readonly #jobs = new Map<number, SchedJob>();
  readonly #dependencies = new DependencyGraph(this.#jobs, (undo) => this.#record(undo));
  /** Queued (Q) jobs. */
  readonly #queue = new RankedQueue(this.#jobs);
  readonly #counts: Record<ActiveState, number> = { Q: 0, H: 0, U: 0, R: 0 };
  /** Arrays whose head has not ended, by head id. */
  readonly #arrays = new ArrayTable((undo) => this.#record(undo));
  /** Resources were freed since the last pass: every queued job must be looked at again. */
  #freed = true;
  /** Jobs queued since the last pass; without freed resources only they can start. */
  #fresh: number[] = [];
  #journal: (() => void)[] | null = null;
  /** Running jobs (those ahead of their slot included). */
  readonly #running = new Set<SchedJob>();
  readonly #lookahead = new Lookahead((undo) => this.#record(undo));
  /** What the last pass found short of memory; a pass that held a job back makes the next one look at every job. */
  #memoryShort: MemoryShort = { waiting: new Map(), forced: [] };

  constructor(capacity: Capacity) {
    this.#resources = new Resources(capacity);
  }

  /** The job with this id, if it has not ended. */
  get(id: number): Readonly<SchedJob> | undefined {
    return this.#jobs.get(id);
  }

  /** Jobs that have not ended, in no particular order. */
  jobs(): IterableIterator<Readonly<SchedJob>> {
    return this.#jobs.values();
  }

  /** Number of jobs in each active state. */
  counts(): Readonly<Record<ActiveState, number>> {
    return this.#counts;
  }

  /** Procs and memory in use by running jobs. */
  get used(): { procs: number; mem: number } {
    return this.#resources.used;
  }

  /** How many GPU devices running jobs hold. */
  get usedGpus(): number {
    return this.#resources.usedGpus;
  }

  /** The running job that holds GPU device `device`, if any. */
  gpuHolder(device: string): number | undefined {
    return this.#resources.gpuHolder(device);
  }

  /** Procs and memory in use by the running jobs of queue `name`. */
  queueUsed(name: string): { procs: number; mem: number } {
    return this.#resources.queueUsed(name);
  }

  /**
   * Changes the CPUs and memory shared by running jobs (`sjq reload`).
   * Running jobs go on; below what they use, nothing starts until enough end.
   */
  setCapacity(capacity: Capacity): void {
    this.#resources.setCapacity(capacity);
    this.#freed = true;
  }

  /** How many jobs of `owner` have not ended (for `sjq.user.maxjobs`). */
  activeOf(owner: number): number {
    return this.#resources.activeOf(owner);
  }

  /** Whether a job of this size could ever start. */
  fits(procs: number, mem: number, gpus = 0): boolean {
    return this.#resources.fits(procs, mem, gpus);
  }

  /** Starts journaling mutations, for `commit` or `rollback`. */
  begin(): void {
    this.#journal = [];
  }

  /** Keeps every mutation since `begin`. */
  commit(): void {
    this.#journal = null;
  }

  /** Undoes every mutation since `begin`. */
  rollback(): void {
    const journal = this.#journal ?? [];
    this.#journal = null;
    for (let i = journal.length - 1; i >= 0; i--) journal[i]!();
    this.#freed = true;
    this.#fresh = [];
    this.#lookahead.forgetPromoted();
    this.#memoryShort = { waiting: new Map(), forced: [] };
  }

  /**
   * Adds a submitted job. Dependencies not in the scheduler are looked up with
   * `ended`; one that ended in a way the job cannot accept aborts it at once.
   */
  add(job: NewJob, ended: EndedLookup): Added {
    const probe = this.#dependencies.probe(job.deps, job.id, ended);
    if ("cause" in probe) {
      // A task aborted as it is restored still counts for its array.
      if (job.array !== undefined && this.#arrays.has(job.array)) this.#taskEnded(job.array, "A");
      return probe;
    }
    const pending = probe.pending;
    const state = job.hold ? "U" : pending > 0 ? "H" : "Q";
    const array = job.array === undefined ? {} : { array: job.array };
    const owner = job.owner === undefined ? {} : { owner: job.owner };
    const priority = job.priority ? { priority: job.priority } : {};
    const gpus = job.gpus ? { gpus: job.gpus } : {};
    const queue = job.queue === undefined ? {} : { queue: job.queue };
    this.#insert({
      id: job.id,
      procs: job.procs,
      mem: job.mem,
      deps: job.deps,
      state,
      pending,
      ...array,
      ...owner,
      ...priority,
      ...gpus,
      ...queue,
    });
    return { state };
  }

  /**
   * Adds an array: its head, in H until every task has ended, and its
   * tasks, which all start out in the state returned (A: none is added).
   */
  addArray(array: NewArray, ended: EndedLookup): Added {
    const { id, first, count, max, procs, mem, deps, hold } = array;
    const owner = array.owner === undefined ? {} : { owner: array.owner };
    const priority = array.priority ? { priority: array.priority } : {};
    const gpus = array.gpus ? { gpus: array.gpus } : {};
    const queue = array.queue === undefined ? {} : { queue: array.queue };
    const probe = this.#dependencies.probe(deps, id, ended);
    if ("cause" in probe) return probe;
    this.#addHead(id, first, first + count - 1, max, {});
    const state = hold ? "U" : probe.pending > 0 ? "H" : "Q";
    for (let task = first; task < first + count; task++) {
      this.#insert({
        id: task,
        procs,
        mem,
        deps,
        state,
        pending: probe.pending,
        array: id,
        ...owner,
        ...priority,
        ...gpus,
        ...queue,
      });
    }
    return { state };
  }

  /**
   * Puts back an array's head loaded from the store, with the tally of its
   * tasks that have ended; its active tasks are restored after it.
   */
  restoreArray(
    head: { id: number; first: number; last: number; max: number | null },
    tally: Tally,
  ): void {
    this.#addHead(head.id, head.first, head.last, head.max, tally);
  }

  /**
   * Brings an array back for restarted tasks (`sjq restart`): the head of an
   * ended one returns in H; either way its tally becomes `tally`, the tasks
   * that stay ended. The tasks are added after it (`add` with `array`).
   */
  reopenArray(
    head: { id: number; first: number; last: number; max: number | null },
    tally: Tally,
  ): void {
    const a = this.#arrays.get(head.id);
    if (a === undefined) {
      this.#addHead(head.id, head.first, head.last, head.max, tally);
      return;
    }
    this.#arrays.setTally(a, tally);
  }

  /** Ends the heads of arrays with no task left (after a restore); their changes. */
  endIdleArrays(): Change[] {
    const changes: Change[] = [];
    for (const id of this.#arrays.heads()) {
      if (this.#jobs.get(id)?.pending !== 0) continue;
      const [change] = this.#endArray(id);
      changes.push(change!, ...this.end(id, change!.state as FinalState));
    }
    return changes;
  }

  /** Whether `id` is the head of an array that has not ended. */
  isArray(id: number): boolean {
    return this.#arrays.has(id);
  }

  /** Ids of the tasks of array `id` that have not ended, ascending. */
  arrayTasks(id: number): number[] {
    const a = this.#arrays.get(id);
    if (a === undefined) return [];
    const tasks: number[] = [];
    for (let task = a.first; task <= a.last; task++) if (this.#jobs.has(task)) tasks.push(task);
    return tasks;
  }

  #addHead(id: number, first: number, last: number, max: number | null, tally: Tally): void {
    this.#arrays.add(id, first, last, max, tally);
    this.#insert({ id, procs: 0, mem: 0, deps: [], state: "H", pending: 0 });
  }

  /** A task ended in `state`: counted; the head ends with its last task. */
  #taskEnded(head: number, state: FinalState): Change[] {
    this.#arrays.countEnded(this.#arrays.get(head)!, state);
    return this.#jobs.get(head)!.pending === 0 ? this.#endArray(head) : [];
  }

  #endArray(head: number): Change[] {
    const tally = this.#arrays.get(head)!.tally;
    return [{ id: head, state: arrayOutcome(tally), tally: { ...tally } }];
  }

  /**
   * Puts back a job loaded from the store as it was, running ones included.
   * Jobs must be restored in id order, after the jobs they depend on.
   */
  restore(
    job: Omit<NewJob, "hold"> & { state: ActiveState },
    ended: EndedLookup,
  ): Added | { state: "R" } {
    if (job.state !== "R") return this.add({ ...job, hold: job.state === "U" }, ended);
    this.#insert({ ...job, pending: 0 });
    return { state: "R" };
  }

  /**
   * Ends an active job (a running one exited, or any one was killed) and
   * settles its dependents: they may become runnable or abort, transitively.
   */
  end(id: number, state: FinalState): Change[] {
    const changes: Change[] = [];
    const ending: [number, FinalState][] = [[id, state]];
    for (let next = ending.pop(); next !== undefined; next = ending.pop()) {
      const [endedId, endedState] = next;
      const job = this.#jobs.get(endedId);
      if (job === undefined) continue;
      const wasAhead = job.ahead === true;
      const freedSlot = job.state === "R" && !wasAhead;
      this.#remove(job);
      if (job.array !== undefined) {
        for (const change of this.#taskEnded(job.array, endedState)) {
          changes.push(change);
          ending.push([change.id, change.state as FinalState]);
        }
      }
      if (wasAhead) this.#setAhead(job, false);
      else if (freedSlot) this.#promoteAhead();
      for (const depId of this.#dependencies.dependentsOf(endedId)) {
        const dependent = this.#jobs.get(depId);
        if (dependent === undefined) continue;
        const kind = dependent.deps.find((d) => d.id === endedId)!.kind;
        if (!dependencySatisfied(kind, endedState)) {
          changes.push({ id: depId, state: "A", cause: endedId, causeState: endedState });
          ending.push([depId, "A"]);
          continue;
        }
        this.#setPending(dependent, dependent.pending - 1);
        if (dependent.pending === 0 && dependent.state === "H") {
          this.#setState(dependent, "Q");
          changes.push({ id: depId, state: "Q" });
        }
      }
      this.#dependencies.forget(endedId);
    }
    return changes;
  }

  /**
   * Lookahead: marks the first queued job (of the first few) R although no
   * slot is free yet, when it fits into the slot of any running job. Its R
   * can then be made durable while the slots are busy, and it takes the
   * first slot that frees (`promoted`). At most four jobs are ahead per
   * running job; returns the job marked, or null.
   */
  reserveAhead(room: MemoryRoom | null = null): Change | null {
    const job = this.#lookahead.choose(
      this.#running,
      this.#queue.ids,
      this.#jobs,
      room,
      this.#resources,
    );
    if (job === undefined) return null;
    this.#setAhead(job, true);
    this.#setState(job, "R");
    return { id: job.id, state: "R" };
  }

  /**
   * What the last scheduling pass found short of memory: the queued jobs
   * it held back for it and the jobs it started anyway (see
   * {@linkcode MemoryRoom}). Held-back jobs make every pass look at the
   * whole queue, since memory frees without any job of ours ending.
   */
  get memoryShort(): MemoryShort {
    return this.#memoryShort;
  }

  /** Whether job `id` is marked R ahead of its slot. */
  isAhead(id: number): boolean {
    return this.#jobs.get(id)?.ahead === true;
  }

  /** Jobs that left lookahead for a real slot since the last call: they may start now. */
  promoted(): number[] {
    return this.#lookahead.promoted();
  }

  #promoteAhead(): void {
    const job = this.#lookahead.first;
    if (job === undefined) return;
    this.#leave(job, "R");
    this.#setAhead(job, false);
    this.#enter(job, "R");
    this.#record(() => {
      this.#leave(job, "R");
      job.ahead = true;
      this.#enter(job, "R");
    });
    this.#lookahead.notePromoted(job.id);
  }

  #setAhead(job: SchedJob, ahead: boolean): void {
    if (ahead) {
      this.#lookahead.mark(job);
    } else {
      this.#lookahead.unmark(job);
      // Jobs skipped for being smaller than it may start now (see `schedule`).
      this.#freed = true;
    }
  }

  /** Moves a user-held job on (to Q, or H while dependencies are pending); null if not in U. */
  release(id: number): Change | null {
    const job = this.#jobs.get(id);
    if (this.#arrays.has(id)) return null;
    if (job?.state !== "U") return null;
    const state = job.pending > 0 ? "H" : "Q";
    this.#setState(job, state);
    return { id, state };
  }

  /** Puts a running job back in the queue (it was marked R but never started). */
  requeue(id: number): Change | null {
    const job = this.#jobs.get(id);
    if (job?.state !== "R") return null;
    const wasAhead = job.ahead === true;
    this.#setState(job, "Q");
    if (wasAhead) this.#setAhead(job, false);
    else this.#promoteAhead();
    return { id, state: "Q" };
  }

  /** Puts a queued or holding job into user-hold; null if it is in neither. */
  hold(id: number): Change | null {
    const job = this.#jobs.get(id);
    if (this.#arrays.has(id)) return null;
    if (job?.state !== "Q" && job?.state !== "H") return null;
    this.#setState(job, "U");
    return { id, state: "U" };
  }

  /**
   * A scheduling pass: in id order, starts every queued job whose procs,
   * memory and GPUs fit into what is free, whose owner stays within
   * `userProcs`, whose queue stays within its limits, and (given `room`)
   * that the machine's available memory holds, skipping those that do not.
   * A GPU job is given the first free devices, in the order of
   * `Capacity.gpus` (see `get(id).gpuIds`).
   */
  schedule(room: MemoryRoom | null = null): Change[] {
    const starts: Change[] = [];
    const whole = this.#freed || this.#memoryShort.waiting.size > 0;
    const waiting = new Map<number, number>();
    const forced: number[] = [];
    // MemAvailable less the margin, less what the jobs picked in this pass declared.
    let memLeft = room === null ? Infinity : room.available - room.margin;
    const idle = this.#running.size === this.#lookahead.size;
    // A job held and released again since the last pass is in #fresh twice.
    const candidates = whole
      ? this.#queue.ids
      : [...new Set(this.#fresh)].sort((a, b) => this.#queue.compare(a, b));
    this.#freed = false;
    const picked: SchedJob[] = [];
    /** The GPU devices each GPU job picked in this pass gets (made at the first one). */
    let devices: Map<SchedJob, string[]> | undefined;
    /** Tasks picked in this pass, by array. */
    const picking = new Map<number, number>();
    const admission = new Admission(this.#resources);
    // The slot of any running job may go to the first job ahead (the largest): no job smaller
    // than it starts while it waits, or that job's slot would be too small for it.
    const firstAhead = this.#lookahead.first;
    for (let i = 0; i < candidates.length; i++) {
      if (admission.full) break;
      const job = this.#jobs.get(candidates[i]!);
      if (job?.state !== "Q" || !admission.admits(job)) continue;
      if (firstAhead && (job.procs < firstAhead.procs || job.mem < firstAhead.mem)) continue;
      const a = job.array === undefined ? undefined : this.#arrays.get(job.array);
      const taken = a === undefined ? 0 : picking.get(job.array!) ?? 0;
      if (a !== undefined && a.max !== null && a.running + taken >= a.max) {
        // Its tasks are consecutive in the queue: skip the rest of them at once.
        // (Only without priorities: another job's rank may fall between theirs.)
        if (whole && !this.#queue.prioritized) i = this.#queue.indexOf(a.last + 1, a.last + 1) - 1;
        continue;
      }
      if (job.mem > memLeft && !(idle && picked.length === 0)) {
        waiting.set(job.id, room!.available);
        continue;
      }
      if (a !== undefined) picking.set(job.array!, taken + 1);
      if (job.mem > memLeft) forced.push(job.id);
      memLeft -= job.mem;
      picked.push(job);
      const ids = admission.admit(job);
      if (ids !== undefined) (devices ??= new Map()).set(job, ids);
    }
    this.#memoryShort = { waiting, forced };
    this.#fresh = [];
    for (const job of picked) {
      const ids = devices?.get(job);
      if (ids !== undefined) this.#setGpuIds(job, ids);
      this.#setState(job, "R");
      starts.push({ id: job.id, state: "R" });
    }
    return starts;
  }

  // Primitive mutations: the only places that change the model, each journaled.

  #insert(job: SchedJob): void {
    this.#jobs.set(job.id, job);
    const head = job.array === undefined ? undefined : this.#jobs.get(job.array);
    if (head !== undefined) head.pending++;
    this.#resources.countActive(job, 1);
    this.#dependencies.link(job.id, job.deps);
    this.#enter(job, job.state);
    this.#record(() => {
      if (head !== undefined) head.pending--;
      this.#leave(job, job.state);
      this.#jobs.delete(job.id);
      this.#resources.countActive(job, -1);
    });
  }

  #remove(job: SchedJob): void {
    this.#leave(job, job.state);
    this.#jobs.delete(job.id);
    const head = job.array === undefined ? undefined : this.#jobs.get(job.array);
    if (head !== undefined) head.pending--;
    this.#resources.countActive(job, -1);
    this.#record(() => {
      if (head !== undefined) head.pending++;
      this.#jobs.set(job.id, job);
      this.#resources.countActive(job, 1);
      this.#enter(job, job.state);
    });
    // After the undo above: rolled back, the array is back before the job is.
    this.#arrays.delete(job.id);
  }

  #setState(job: SchedJob, state: ActiveState): void {
    const old = job.state;
    this.#leave(job, old);
    job.state = state;
    this.#enter(job, state);
    this.#record(() => {
      this.#leave(job, state);
      job.state = old;
      this.#enter(job, old);
    });
  }

  #setGpuIds(job: SchedJob, ids: readonly string[]): void {
    const old = job.gpuIds;
    job.gpuIds = ids;
    this.#record(() => {
      if (old === undefined) delete job.gpuIds;
      else job.gpuIds = old;
    });
  }

  #setPending(job: SchedJob, pending: number): void {
    const old = job.pending;
    job.pending = pending;
    this.#record(() => job.pending = old);
  }

  #record(undo: () => void): void {
    this.#journal?.push(undo);
  }

  /** Index bookkeeping when a job enters a state (not journaled: its callers are). */
  #enter(job: SchedJob, state: ActiveState): void {
    this.#counts[state]++;
    if (state === "Q") {
      this.#queue.insert(job);
      this.#fresh.push(job.id);
    } else if (state === "R") {
      this.#running.add(job);
      if (job.ahead) return;
      this.#resources.claim(job);
      const a = job.array === undefined ? undefined : this.#arrays.get(job.array);
      if (a !== undefined) a.running++;
    }
  }

  #leave(job: SchedJob, state: ActiveState): void {
    this.#counts[state]--;
    if (state === "Q") {
      this.#queue.delete(job);
    } else if (state === "R") {
      this.#running.delete(job);
      if (job.ahead) return;
      this.#resources.release(job);
      const a = job.array === undefined ? undefined : this.#arrays.get(job.array);
      if (a !== undefined) a.running--;
      this.#freed = true;
    }
  }
}
