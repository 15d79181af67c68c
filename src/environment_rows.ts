/**
 * Each distinct environment stored once (the `envs` table of src/store.ts):
 * a submitter sends the same environment with every job, so a job's row
 * names an envs row instead of carrying 1–4 KB of its own. The rows of
 * environments stored lately are remembered by their JSON, within a bound,
 * so that a submit with one of them needs no lookup.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";

/**
 * Characters of environments (JSON) whose envs row is remembered: many
 * distinct large ones must not fill the memory.
 */
const MAX_KNOWN_ENV_CHARS = 1024 * 1024;

/** The envs table of one database, and the rows it has lately stored or found. */
export class EnvironmentRows {
  readonly #db: DatabaseSync;
  readonly #find: StatementSync;
  readonly #insert: StatementSync;
  /** The envs row of each environment stored lately, by its JSON. */
  readonly #known = new Map<string, number>();
  #knownChars = 0;

  /** Works on `db`, whose schema has the envs table. */
  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#find = db.prepare("SELECT id FROM envs WHERE json = ?");
    this.#insert = db.prepare("INSERT INTO envs (json) VALUES (?) RETURNING id");
  }

  /** The id of the envs row holding `env`, added (in the open transaction) if there is none. */
  rowOf(env: Record<string, string>): number {
    const json = JSON.stringify(env);
    let id = this.#known.get(json);
    if (id !== undefined) return id;
    const row = (this.#find.get(json) ?? this.#insert.get(json)) as { id: number };
    id = Number(row.id);
    if (this.#knownChars + json.length > MAX_KNOWN_ENV_CHARS) this.forget();
    if (json.length <= MAX_KNOWN_ENV_CHARS) {
      this.#known.set(json, id);
      this.#knownChars += json.length;
    }
    return id;
  }

  /** Deletes the rows no job names any more (after jobs were deleted). */
  deleteUnused(): void {
    this.#db.exec(
      "DELETE FROM envs WHERE id NOT IN (SELECT env_id FROM jobs WHERE env_id IS NOT NULL)",
    );
    this.forget();
  }

  /** Forgets the rows remembered: a rollback may have undone some. */
  forget(): void {
    this.#known.clear();
    this.#knownChars = 0;
  }
}
