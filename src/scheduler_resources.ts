/**
 * The scheduler's resource bookkeeping: what the running jobs hold of the
 * CPUs, memory and GPU devices, of each named queue's limits and of each
 * owner's, and the checks a queued job must pass to start (see
 * {@linkcode Admission}). Pure, like the scheduler that uses it.
 *
 * Nothing here is journaled: the scheduler's journaled mutations claim and
 * release in pairs, so undoing one of them undoes its bookkeeping too.
 *
 * @module
 */

/** The resources the scheduler hands out; `mem: null` is unlimited. */
export interface Capacity {
  procs: number;
  mem: number | null;
  /** Procs the running jobs of one owner may hold together (`sjq.user.maxprocs`); null: no limit. */
  userProcs?: number | null;
  /** The GPU devices (`sjq.gpus`), handed out whole, each to one running job at a time; none if absent. */
  gpus?: readonly string[];
  /** What the running jobs of each named queue may hold together; a queue not here is not limited. */
  queues?: Readonly<Record<string, QueueCapacity>>;
}

/** The limits of one named queue (`[sjq.queue.NAME]`); null fields are not limited. */
export interface QueueCapacity {
  readonly maxprocs: number | null;
  readonly maxmem: number | null;
}

/** What the bookkeeping needs to know of a job (a `SchedJob` is one). */
export interface ResourceUser {
  readonly id: number;
  readonly procs: number;
  readonly mem: number;
  readonly owner?: number;
  readonly gpus?: number;
  readonly gpuIds?: readonly string[];
  readonly queue?: string;
}

/** What the running jobs hold, in all and by GPU device, named queue and owner. */
export class Resources {
  #capacity: Capacity;
  #usedProcs = 0;
  #usedMem = 0;
  /** Which running job holds each GPU device, by device id. */
  readonly #gpuHolders = new Map<string, number>();
  /** Procs and memory held by the running jobs of each named queue. */
  readonly #queueUsed = new Map<string, { procs: number; mem: number }>();
  /** Procs held by running jobs, and jobs not ended, of each owner. */
  readonly #owners = new Map<number, { procs: number; active: number }>();

  constructor(capacity: Capacity) {
    this.#capacity = { ...capacity };
  }

  /** What there is to hand out. */
  get capacity(): Readonly<Capacity> {
    return this.#capacity;
  }

  /** Changes what there is to hand out; what running jobs hold stays theirs. */
  setCapacity(capacity: Capacity): void {
    this.#capacity = { ...capacity };
  }

  /** Procs and memory in use by running jobs. */
  get used(): { procs: number; mem: number } {
    return { procs: this.#usedProcs, mem: this.#usedMem };
  }

  /** How many GPU devices running jobs hold. */
  get usedGpus(): number {
    return this.#gpuHolders.size;
  }

  /** The running job that holds GPU device `device`, if any. */
  gpuHolder(device: string): number | undefined {
    return this.#gpuHolders.get(device);
  }

  /** Devices no running job holds, in `sjq.gpus` order. */
  freeGpus(): string[] {
    return (this.#capacity.gpus ?? []).filter((d) => !this.#gpuHolders.has(d));
  }

  /** Procs and memory in use by the running jobs of queue `name`. */
  queueUsed(name: string): { procs: number; mem: number } {
    const q = this.#queueUsed.get(name);
    return { procs: q?.procs ?? 0, mem: q?.mem ?? 0 };
  }

  /** How many jobs of `owner` have not ended. */
  activeOf(owner: number): number {
    return this.#owners.get(owner)?.active ?? 0;
  }

  /** Procs the running jobs of `owner` hold. */
  procsOf(owner: number): number {
    return this.#owners.get(owner)?.procs ?? 0;
  }

  /** Whether a job of this size could ever start. */
  fits(procs: number, mem: number, gpus = 0): boolean {
    return procs <= this.#capacity.procs &&
      (this.#capacity.mem === null || mem <= this.#capacity.mem) &&
      gpus <= (this.#capacity.gpus?.length ?? 0);
  }

  /** The limits of a job's queue, if it has limits. */
  queueLimits(job: ResourceUser): QueueCapacity | undefined {
    if (job.queue === undefined) return undefined;
    const queues = this.#capacity.queues;
    const limits = queues !== undefined && Object.hasOwn(queues, job.queue)
      ? queues[job.queue]
      : undefined;
    return limits?.maxprocs === null && limits.maxmem === null ? undefined : limits;
  }

  /** Counts a job in (1) or out (-1) of its owner's jobs that have not ended. */
  countActive(job: ResourceUser, by: 1 | -1): void {
    if (job.owner === undefined) return;
    const o = this.#owners.get(job.owner) ?? { procs: 0, active: 0 };
    o.active += by;
    this.#setOwner(job.owner, o);
  }

  /** A job starts running: it holds its procs, memory and devices until {@linkcode release}. */
  claim(job: ResourceUser): void {
    this.#usedProcs += job.procs;
    this.#usedMem += job.mem;
    if (job.gpuIds) { for (const device of job.gpuIds) this.#gpuHolders.set(device, job.id); }
    this.#ownerProcs(job, job.procs);
    this.#queueProcs(job, 1);
  }

  /** A running job gives back what it {@linkcode claim}ed. */
  release(job: ResourceUser): void {
    this.#usedProcs -= job.procs;
    this.#usedMem -= job.mem;
    if (job.gpuIds) {
      for (const d of job.gpuIds) {
        if (this.#gpuHolders.get(d) === job.id) this.#gpuHolders.delete(d);
      }
    }
    this.#ownerProcs(job, -job.procs);
    this.#queueProcs(job, -1);
  }

  #ownerProcs(job: ResourceUser, procs: number): void {
    if (job.owner === undefined) return;
    const o = this.#owners.get(job.owner) ?? { procs: 0, active: 0 };
    o.procs += procs;
    this.#setOwner(job.owner, o);
  }

  #setOwner(owner: number, o: { procs: number; active: number }): void {
    if (o.active === 0 && o.procs === 0) this.#owners.delete(owner);
    else this.#owners.set(owner, o);
  }

  #queueProcs(job: ResourceUser, by: 1 | -1): void {
    if (job.queue === undefined) return;
    const q = this.#queueUsed.get(job.queue) ?? { procs: 0, mem: 0 };
    q.procs += by * job.procs;
    q.mem += by * job.mem;
    if (q.procs === 0 && q.mem === 0) this.#queueUsed.delete(job.queue);
    else this.#queueUsed.set(job.queue, q);
  }
}

/**
 * One scheduling pass's view of what is free: what the running jobs leave,
 * less what the jobs admitted earlier in the same pass take.
 */
export class Admission {
  readonly #resources: Resources;
  #freeProcs: number;
  #freeMem: number;
  /** Free devices, in `sjq.gpus` order (listed at the first GPU job). */
  #freeGpus: string[] | undefined;
  /** Procs each owner gains in this pass. */
  readonly #gained = new Map<number, number>();
  /** Procs and memory each limited queue gains in this pass. */
  readonly #queueGained = new Map<string, { procs: number; mem: number }>();

  constructor(resources: Resources) {
    this.#resources = resources;
    const { capacity, used } = resources;
    this.#freeProcs = capacity.procs - used.procs;
    this.#freeMem = capacity.mem === null ? Infinity : capacity.mem - used.mem;
  }

  /** Whether no procs are left for any job. */
  get full(): boolean {
    return this.#freeProcs <= 0;
  }

  /**
   * Whether `job` may start: its procs, memory and GPUs fit into what is
   * free, its owner stays within `userProcs` and its queue within its limits.
   */
  admits(job: ResourceUser): boolean {
    if (job.procs > this.#freeProcs || job.mem > this.#freeMem) return false;
    if (job.gpus && job.gpus > (this.#freeGpus ??= this.#resources.freeGpus()).length) return false;
    const owner = this.#limitedOwner(job);
    if (owner !== undefined) {
      const held = this.#resources.procsOf(owner) + (this.#gained.get(owner) ?? 0);
      if (held + job.procs > this.#resources.capacity.userProcs!) return false;
    }
    // A full queue skips its job, as a full machine does: the jobs of other queues go on.
    const limits = this.#resources.queueLimits(job);
    if (limits !== undefined) {
      const used = this.#resources.queueUsed(job.queue!);
      const more = this.#queueGained.get(job.queue!);
      const procs = used.procs + (more?.procs ?? 0) + job.procs;
      const mem = used.mem + (more?.mem ?? 0) + job.mem;
      if (limits.maxprocs !== null && procs > limits.maxprocs) return false;
      if (limits.maxmem !== null && mem > limits.maxmem) return false;
    }
    return true;
  }

  /** Takes what `job` (admitted) needs out of what is free; the GPU devices it gets, if it needs any. */
  admit(job: ResourceUser): string[] | undefined {
    const owner = this.#limitedOwner(job);
    if (owner !== undefined) this.#gained.set(owner, (this.#gained.get(owner) ?? 0) + job.procs);
    if (this.#resources.queueLimits(job) !== undefined) {
      const more = this.#queueGained.get(job.queue!) ?? { procs: 0, mem: 0 };
      this.#queueGained.set(job.queue!, { procs: more.procs + job.procs, mem: more.mem + job.mem });
    }
    this.#freeProcs -= job.procs;
    this.#freeMem -= job.mem;
    return job.gpus ? this.#freeGpus!.splice(0, job.gpus) : undefined;
  }

  /** The job's owner, when owners are limited. */
  #limitedOwner(job: ResourceUser): number | undefined {
    return (this.#resources.capacity.userProcs ?? null) === null ? undefined : job.owner;
  }
}
