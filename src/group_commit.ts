/**
 * Group commit: changes are gathered into ticks, and nobody hears of a change
 * before the tick that holds it is durable.
 *
 * The first change after an idle moment opens a tick (the caller's `begin`:
 * a store transaction, a scheduler journal). Every change that arrives before
 * the tick closes joins it; it closes in a microtask, so everything the event
 * loop has already delivered (other connections' bytes, job exits) is in.
 * Closing runs `beforeCommit` (the scheduling pass), then `commit`; only
 * then do the replies go out and the after-commit work runs (spawns,
 * signals, cleanup). When anything in the tick throws, or the commit fails,
 * `rollback` undoes it all: changing requests are answered with the
 * caller's failure reply, read-only ones are run again on the state as it was.
 *
 * @module
 */

/** What a group commit needs from its owner. */
export interface TickHooks<R> {
  /** Opens the transaction(s); may throw. */
  begin(): void;
  /** The last changes of a tick, made just before it commits. */
  beforeCommit(): void;
  /** Makes the tick durable; throws when it cannot. */
  commit(): void;
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
  after: (() => void)[];
  failure: Error | null;
}

/** Ticks of changes, each durable before anyone hears of it. */
export class GroupCommit<R> {
  readonly #hooks: TickHooks<R>;
  #tick: Tick<R> | null = null;

  constructor(hooks: TickHooks<R>) {
    this.#hooks = hooks;
  }

  /** Whether a tick is open. */
  get open(): boolean {
    return this.#tick !== null;
  }

  /** Answers a read-only request now, or after the open tick commits (it may see that tick's changes). */
  read(run: () => R | Promise<R>): Promise<R> {
    if (this.#tick === null) return Promise.resolve(run());
    const tick = this.#tick;
    return new Promise((resolve) =>
      tick.pending.push({ run, readOnly: true, reply: run(), resolve })
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

  /** Work to do once the open tick has committed; dropped if it rolls back. */
  afterCommit(fn: () => void): void {
    if (this.#tick === null) throw new Error("afterCommit outside a tick");
    this.#tick.after.push(fn);
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
    const tick: Tick<R> = { pending: [], after: [], failure: null };
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
      for (const p of tick.pending) p.resolve(p.readOnly ? p.run() : reply);
    } else {
      for (const fn of tick.after) {
        try {
          fn();
        } catch (e) {
          this.#hooks.onAfterCommitError(e);
        }
      }
      for (const p of tick.pending) p.resolve(p.reply!);
    }
    this.#hooks.afterTick();
  }
}
