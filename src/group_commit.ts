/**
 * Group commit: changes are gathered into ticks, and nobody hears of a change
 * before the tick that holds it is durable.
 *
 * The first change after an idle moment opens a tick (the caller's `begin`:
 * a store transaction, a scheduler journal). Every change that arrives before
 * the tick closes joins it; it closes in a microtask, so everything the event
 * loop has already delivered (other connections' bytes, job exits) is in.
 * Closing runs `beforeCommit` (the scheduling pass), then `commit`, then
 * waits for `durable` (the disk) without blocking: the next tick may gather
 * and commit meanwhile. Only once the tick is durable do its replies go out
 * and its after-commit work run (spawns, signals, cleanup), in tick order.
 * Read-only requests are answered no earlier than the last commit is durable,
 * so nobody hears of a change before it is on disk.
 *
 * When anything in the tick throws, or the commit fails, `rollback` undoes it
 * all: changing requests are answered with the caller's failure reply,
 * read-only ones are run again on the state as it was. When the disk fails
 * after a commit (`durable` rejects), nothing of that tick has been told to
 * anyone, but it cannot be undone either: `onFatal` must stop the daemon.
 *
 * @module
 */

/** What a group commit needs from its owner. */
export interface TickHooks<R> {
  /** Opens the transaction(s); may throw. */
  begin(): void;
  /** The last changes of a tick, made just before it commits. */
  beforeCommit(): void;
  /** Commits the tick; throws when it cannot. */
  commit(): void;
  /** Resolves once every commit so far is on disk. */
  durable(): Promise<void>;
  /** The disk failed after a commit: the state on disk is unknown. */
  onFatal(error: unknown): void;
  /** Undoes the tick; returns the reply for the changing requests in it. */
  rollback(failure: Error): R;
  /** Called after every tick, committed or not. */
  afterTick(): void;
  /** Reports a failure of after-commit work (which cannot be undone any more). */
  onAfterCommitError(error: unknown): void;
}

interface Pending<R> {
  run: () => R | Promise<R>;
  readOnly: boolean;
  reply: R | Promise<R> | undefined;
  resolve: (reply: R | Promise<R>) => void;
}

interface Tick<R> {
  pending: Pending<R>[];
  committed: (() => void)[];
  after: (() => void)[];
  failure: Error | null;
}

/** Ticks of changes, each durable before anyone hears of it. */
export class GroupCommit<R> {
  readonly #hooks: TickHooks<R>;
  #tick: Tick<R> | null = null;
  /** Ticks committed and waiting for the disk. */
  #flushing = 0;
  /** Resolves when the last committed tick is on disk. */
  #lastDurable: Promise<void> = Promise.resolve();

  constructor(hooks: TickHooks<R>) {
    this.#hooks = hooks;
  }

  /** Whether a tick is open or waiting for the disk. */
  get busy(): boolean {
    return this.#tick !== null || this.#flushing > 0;
  }

  /**
   * Answers a read-only request now, or, while a tick is open, on that
   * tick's state once it has committed (a reader may read the store from a
   * connection of its own, which sees only what is committed).
   */
  read(run: () => R | Promise<R>): Promise<R> {
    if (this.#tick === null) {
      const reply = settle(run);
      return this.#lastDurable.then(() => reply);
    }
    const tick = this.#tick;
    return new Promise((resolve) =>
      tick.pending.push({ run, readOnly: true, reply: undefined, resolve })
    );
  }

  /** Applies a changing request in the open tick (opening one); answers after the commit. */
  write(run: () => R): Promise<R> {
    const tick = this.#open();
    return new Promise((resolve) => {
      const entry: Pending<R> = { run, readOnly: false, reply: undefined, resolve };
      tick.pending.push(entry);
      entry.reply = this.#guard(tick, run);
    });
  }

  /** Applies a change nobody waits for (a job event) in the open tick. */
  event(run: () => void): void {
    this.#guard(this.#open(), run);
  }

  /** Work to do once the open tick is durable; dropped if it rolls back. */
  afterCommit(fn: () => void): void {
    if (this.#tick === null) throw new Error("afterCommit outside a tick");
    this.#tick.after.push(fn);
  }

  /**
   * Work to do as soon as the open tick has committed, while the disk is
   * still catching up: only what prepares an effect without making it (a
   * job's supervisor that waits for the go of an `afterCommit`).
   */
  whenCommitted(fn: () => void): void {
    if (this.#tick === null) throw new Error("whenCommitted outside a tick");
    this.#tick.committed.push(fn);
  }

  /** Runs `fn`; whatever it throws fails the whole tick. */
  #guard<T>(tick: Tick<R>, fn: () => T): T | undefined {
    if (tick.failure) return undefined;
    try {
      return fn();
    } catch (e) {
      tick.failure = e instanceof Error ? e : new Error(String(e));
      return undefined;
    }
  }

  #open(): Tick<R> {
    if (this.#tick) return this.#tick;
    const tick: Tick<R> = { pending: [], committed: [], after: [], failure: null };
    this.#tick = tick;
    this.#guard(tick, () => this.#hooks.begin());
    queueMicrotask(() => this.#close(tick));
    return tick;
  }

  #close(tick: Tick<R>): void {
    this.#guard(tick, () => this.#hooks.beforeCommit());
    this.#guard(tick, () => this.#hooks.commit());
    this.#tick = null;
    if (tick.failure) {
      const reply = this.#hooks.rollback(tick.failure);
      // Every request is answered: one read that throws must not strand those after it.
      for (const p of tick.pending) p.resolve(p.readOnly ? settle(p.run) : reply);
      this.#hooks.afterTick();
      return;
    }
    for (const p of tick.pending) if (p.readOnly) p.reply = settle(p.run);
    this.#flushing++;
    this.#lastDurable = this.#hooks.durable();
    this.#runAll(tick.committed);
    this.#lastDurable.then(() => {
      this.#flushing--;
      this.#runAll(tick.after);
      for (const p of tick.pending) p.resolve(p.reply!);
      this.#hooks.afterTick();
    }, (e) => this.#hooks.onFatal(e));
  }

  /** Runs work that follows a commit; it cannot be undone, so a failure is only reported. */
  #runAll(work: (() => void)[]): void {
    for (const fn of work) {
      try {
        fn();
      } catch (e) {
        this.#hooks.onAfterCommitError(e);
      }
    }
  }
}

/**
 * What `run` returns, or a rejection with what it throws (marked handled:
 * it is handed on to the request's promise only once the disk has caught up).
 */
function settle<R>(run: () => R | Promise<R>): R | Promise<R> {
  try {
    return run();
  } catch (e) {
    const rejected = Promise.reject(e);
    rejected.catch(() => {});
    return rejected;
  }
}
