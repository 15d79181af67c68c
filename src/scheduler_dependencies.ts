/**
 * The scheduler's dependency graph: which jobs wait for each job that has
 * not ended, and what a new job's dependencies mean for it (how many are
 * pending, or the ended one that aborts it).
 *
 * @module
 */

import { type Dependency, dependencySatisfied, type FinalState } from "./job.ts";

/** The dependents of each job that has not ended, by its id; every change is journaled. */
export class DependencyGraph {
  readonly #dependents = new Map<number, number[]>();
  /** The jobs that have not ended. */
  readonly #active: ReadonlyMap<number, unknown>;
  /** The scheduler's journal: every change here is undone with the scheduler's. */
  readonly #record: (undo: () => void) => void;

  constructor(active: ReadonlyMap<number, unknown>, record: (undo: () => void) => void) {
    this.#active = active;
    this.#record = record;
  }

  /**
   * Pending dependencies of new job `id`, or the ended one that aborts it.
   * Dependencies that are not active are looked up with `ended`.
   */
  probe(
    deps: readonly Dependency[],
    id: number,
    ended: (id: number) => FinalState | undefined,
  ): { pending: number } | { state: "A"; cause: number; causeState: FinalState } {
    let pending = 0;
    for (const dep of deps) {
      if (this.#active.has(dep.id)) {
        pending++;
        continue;
      }
      const state = ended(dep.id);
      if (state === undefined) throw new RangeError(`Unknown dependency ${dep.id} of job ${id}`);
      if (!dependencySatisfied(dep.kind, state)) {
        return { state: "A", cause: dep.id, causeState: state };
      }
    }
    return { pending };
  }

  /** Lists job `id` as a dependent of each of its dependencies that is active. */
  link(id: number, deps: readonly Dependency[]): void {
    for (const dep of deps) {
      if (!this.#active.has(dep.id)) continue;
      const list = this.#dependents.get(dep.id);
      if (list) list.push(id);
      else this.#dependents.set(dep.id, [id]);
    }
    this.#record(() => {
      for (const dep of deps) {
        const list = this.#dependents.get(dep.id);
        if (list?.at(-1) === id) list.pop();
      }
    });
  }

  /** The jobs that depend on job `id`. */
  dependentsOf(id: number): readonly number[] {
    return this.#dependents.get(id) ?? [];
  }

  /** Forgets the dependents of job `id` (it ended). */
  forget(id: number): void {
    const list = this.#dependents.get(id);
    if (list === undefined) return;
    this.#dependents.delete(id);
    this.#record(() => this.#dependents.set(id, list));
  }
}
