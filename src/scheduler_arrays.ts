/**
 * The scheduler's job arrays: each array under its head, how many of its
 * tasks run and how many ended in each state, and the state its head ends in.
 *
 * @module
 */

import type { FinalState } from "./job.ts";

/** How many tasks of an array ended in each state. */
export type Tally = Partial<Record<FinalState, number>>;

/**
 * An array of tasks (jobs `first`…`last`, consecutive ids) under its head, a
 * job of its own that stays in H until every task has ended, and then ends
 * itself: S when every task succeeded (see {@linkcode arrayOutcome}).
 */
export interface ArrayState {
  readonly first: number;
  readonly last: number;
  /** How many tasks may run at once, or null. */
  readonly max: number | null;
  running: number;
  tally: Tally;
}

/** The state an array's head ends in: S if every task succeeded, A if all aborted, K if all others were killed, F otherwise. */
export function arrayOutcome(tally: Tally): FinalState {
  const { S = 0, A = 0, K = 0, F = 0, E = 0 } = tally;
  if (A + K + F + E === 0) return "S";
  if (S + K + F + E === 0) return "A";
  if (F + E + A === 0) return "K";
  return "F";
}

/** The arrays whose head has not ended, by head id; every change is journaled. */
export class ArrayTable {
  readonly #arrays = new Map<number, ArrayState>();
  /** The scheduler's journal: every change here is undone with the scheduler's. */
  readonly #record: (undo: () => void) => void;

  constructor(record: (undo: () => void) => void) {
    this.#record = record;
  }

  /** The array under head `id`, if it has not ended. */
  get(id: number): ArrayState | undefined {
    return this.#arrays.get(id);
  }

  /** Whether `id` is the head of an array that has not ended. */
  has(id: number): boolean {
    return this.#arrays.has(id);
  }

  /** The heads of the arrays that have not ended. */
  heads(): IterableIterator<number> {
    return this.#arrays.keys();
  }

  /** Adds the array of tasks `first`…`last` under head `id`, with the tally of its tasks ended. */
  add(id: number, first: number, last: number, max: number | null, tally: Tally): void {
    this.#arrays.set(id, { first, last, max, running: 0, tally: { ...tally } });
    this.#record(() => this.#arrays.delete(id));
  }

  /** Takes away the array under head `id` (its head ended), if there is one. */
  delete(id: number): void {
    const array = this.#arrays.get(id);
    if (array === undefined) return;
    this.#arrays.delete(id);
    this.#record(() => this.#arrays.set(id, array));
  }

  /** Replaces an array's tally. */
  setTally(a: ArrayState, tally: Tally): void {
    const old = a.tally;
    a.tally = { ...tally };
    this.#record(() => a.tally = old);
  }

  /** Counts a task of array `a` that ended in `state`. */
  countEnded(a: ArrayState, state: FinalState): void {
    const old = a.tally[state];
    a.tally[state] = (old ?? 0) + 1;
    this.#record(() => {
      if (old === undefined) delete a.tally[state];
      else a.tally[state] = old;
    });
  }
}
