/**
 * The store: durable job state in SQLite (`node:sqlite`, WAL journal). The
 * daemon opens one transaction per tick, commits it, and waits for
 * `durable()` (an fdatasync of the WAL off the main thread) before it
 * answers anyone (group commit; see docs/durability.md).
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { type ActiveState, type FinalState, isFinal, type JobRecord, type State } from "./job.ts";
import { ownerOnly } from "./daemon_files.ts";
import { WalSync } from "./wal_sync.ts";
import { EnvironmentRows } from "./environment_rows.ts";
import {
  COLUMNS_BUT_ENV,
  columnValue,
  type JobUpdate,
  parseDeps,
  type Row,
  rowToRecord,
  UPDATE_COLUMNS,
} from "./job_rows.ts";
import { parseArraySpec, taskCount, type TaskRange } from "./array_spec.ts";
import { expandOutputName } from "./output_path.ts";
import type { EndedJob } from "./restart.ts";

/** How an earlier attempt of a restarted job ended. */
export interface Attempt {
  state: FinalState;
  started: number | null;
  ended: number | null;
  exitCode: number | null;
  reason: string | null;
  /** Its accounting (see {@linkcode JobRecord.cpuUser}); null when not measured. */
  cpuUser: number | null;
  cpuSystem: number | null;
  maxRss: number | null;
  signal: number | null;
}

const SCHEMA_VERSION = "1";

/**
 * Changes to the schema after version 1, applied in order at open, each once
 * (its name is kept in `migrations`), in the same transaction as its record.
 * Append new ones at the end; never edit or reorder one that has shipped.
 */
const MIGRATIONS: readonly { name: string; sql: string }[] = [
  // The executor's handle of a running job (src/executor.ts): a pid, a Slurm job id.
  { name: "jobs.handle", sql: "ALTER TABLE jobs ADD COLUMN handle TEXT" },
  // The script's arguments (ARG), a JSON array; NULL for none.
  { name: "jobs.args", sql: "ALTER TABLE jobs ADD COLUMN args TEXT" },
  // Extra sbatch options of a job for the Slurm backend (JSON array), null for none.
  { name: "jobs.slurm_opts", sql: "ALTER TABLE jobs ADD COLUMN slurm_opts TEXT" },
  // The final state of every job `clean` (or sjq.keepdone) deleted, for jobs that depend on it.
  {
    name: "forgotten",
    sql: "CREATE TABLE forgotten (id INTEGER PRIMARY KEY, state TEXT NOT NULL)",
  },
  // Job arrays (src/arrays.ts): the head's spec; each task's array and task id. A task's row
  // is light: its environment, output patterns and script are its head's. Tasks are counted
  // in state_counts by insertArray, all at once, not row by row.
  {
    name: "jobs.array",
    sql: `ALTER TABLE jobs ADD COLUMN array_spec TEXT;
      ALTER TABLE jobs ADD COLUMN array_id INTEGER;
      ALTER TABLE jobs ADD COLUMN array_task INTEGER;
      DROP TRIGGER IF EXISTS jobs_counted;
      CREATE TRIGGER jobs_counted AFTER INSERT ON jobs WHEN NEW.array_id IS NULL BEGIN
        INSERT INTO state_counts (state, n) VALUES (NEW.state, 1)
          ON CONFLICT (state) DO UPDATE SET n = n + 1;
      END;`,
  },
  // Restarts (src/restart.ts): the ends of a job's earlier attempts; SUBMIT's RETRIES and
  // RETRYDELAY, and when a failed job waiting in U to be retried is due (retry_at, ms).
  {
    name: "attempts",
    sql: `CREATE TABLE attempts (job_id INTEGER NOT NULL, attempt INTEGER NOT NULL,
        state TEXT NOT NULL, started INTEGER, ended INTEGER, exit_code INTEGER, reason TEXT,
        PRIMARY KEY (job_id, attempt));
      ALTER TABLE jobs ADD COLUMN retries INTEGER;
      ALTER TABLE jobs ADD COLUMN retry_delay REAL;
      ALTER TABLE jobs ADD COLUMN retry_at INTEGER;`,
  },
  // PRIORITY (src/scheduler.ts rankOf); NULL is 0. A task's is its head's, copied at submit.
  { name: "jobs.priority", sql: "ALTER TABLE jobs ADD COLUMN priority INTEGER" },
  // NOTIFY: a command run when the job ends (src/notify.ts); NULL for none.
  { name: "jobs.notify", sql: "ALTER TABLE jobs ADD COLUMN notify TEXT" },
  // GPUS (src/gpus.ts): how many a job needs (NULL is 0), and the device ids it was given
  // when it started, comma-joined, so that a new daemon knows which devices running jobs hold.
  {
    name: "jobs.gpus",
    sql: `ALTER TABLE jobs ADD COLUMN gpus INTEGER;
      ALTER TABLE jobs ADD COLUMN gpu_ids TEXT;`,
  },
  // QUEUE: the named queue of a job (src/queue_config.ts); NULL for a job from before queues.
  // A task's row has none: it is its head's.
  { name: "jobs.queue", sql: "ALTER TABLE jobs ADD COLUMN queue TEXT" },
  // MAIL: an address mailed when the job ends (src/mail.ts); NULL for none.
  { name: "jobs.mail", sql: "ALTER TABLE jobs ADD COLUMN mail TEXT" },
  // Accounting (docs/accounting.md): CPU seconds (user, system), the whole job's peak RSS in
  // bytes, and the signal that ended it; the same for each earlier attempt. NULL: not measured.
  {
    name: "usage",
    sql: `ALTER TABLE jobs ADD COLUMN cpu_user REAL;
      ALTER TABLE jobs ADD COLUMN cpu_system REAL;
      ALTER TABLE jobs ADD COLUMN max_rss INTEGER;
      ALTER TABLE jobs ADD COLUMN signal INTEGER;
      ALTER TABLE attempts ADD COLUMN cpu_user REAL;
      ALTER TABLE attempts ADD COLUMN cpu_system REAL;
      ALTER TABLE attempts ADD COLUMN max_rss INTEGER;
      ALTER TABLE attempts ADD COLUMN signal INTEGER;`,
  },
  // Each distinct environment once (a submitter sends the same one with every job): a job from
  // now on names its row (env_id) and keeps '' in env; an older job keeps its own copy in env.
  {
    name: "envs",
    sql: `CREATE TABLE envs (id INTEGER PRIMARY KEY, json TEXT NOT NULL UNIQUE);
      ALTER TABLE jobs ADD COLUMN env_id INTEGER;`,
  },
];

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  state TEXT NOT NULL,
  procs INTEGER NOT NULL,
  mem INTEGER NOT NULL,
  deps TEXT NOT NULL,
  cwd TEXT NOT NULL,
  stdout TEXT NOT NULL,
  stderr TEXT NOT NULL,
  env TEXT NOT NULL,
  uid INTEGER NOT NULL,
  gid INTEGER NOT NULL,
  timeout REAL,
  submitted INTEGER NOT NULL,
  started INTEGER,
  ended INTEGER,
  exit_code INTEGER,
  reason TEXT,
  pid INTEGER,
  stopping TEXT
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
CREATE INDEX IF NOT EXISTS jobs_ended ON jobs (ended) WHERE ended IS NOT NULL;
CREATE TABLE IF NOT EXISTS scripts (id INTEGER PRIMARY KEY, body BLOB NOT NULL);
-- Jobs per state, kept by triggers in the same transactions, so that PING costs
-- nothing however many jobs are stored. Recounted at every open.
CREATE TABLE IF NOT EXISTS state_counts (state TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS jobs_counted AFTER INSERT ON jobs BEGIN
  INSERT INTO state_counts (state, n) VALUES (NEW.state, 1)
    ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS jobs_recounted AFTER UPDATE OF state ON jobs
  WHEN OLD.state <> NEW.state BEGIN
  UPDATE state_counts SET n = n - 1 WHERE state = OLD.state;
  INSERT INTO state_counts (state, n) VALUES (NEW.state, 1)
    ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS jobs_uncounted AFTER DELETE ON jobs BEGIN
  UPDATE state_counts SET n = n - 1 WHERE state = OLD.state;
END;
`;

/** A job as the STATUS columns: id, name, state, dependency ids joined by `:`. */
export type StatusRow = [number, string, State, string];

/** A consistent read-only view of the jobs (see {@linkcode Store.snapshot}). */
export interface Snapshot extends Disposable {
  /** As {@linkcode Store.statusRows}. */
  statusRows(id: number | null, last?: number | null): Generator<StatusRow>;
  /** As {@linkcode Store.records}. */
  records(id: number | null, last?: number | null): Generator<Omit<JobRecord, "env">>;
  /** As {@linkcode Store.attempts}. */
  attempts(id: number | null, last?: number | null): Map<number, Attempt[]>;
}

/** Read-only connections kept open for the next snapshots. */
const MAX_IDLE_READERS = 4;

/** Job state on disk. One instance per daemon; not safe to share between processes. */
export class Store implements Disposable {
  readonly #db: DatabaseSync;
  readonly #updates = new Map<string, StatementSync>();
  readonly #insert: StatementSync;
  readonly #insertScript: StatementSync;
  readonly #get: StatementSync;
  readonly #state: StatementSync;
  readonly #forgottenState: StatementSync;
  readonly #script: StatementSync;
  readonly #counts: StatementSync;
  readonly #wal: WalSync;
  /** What the tasks of each array inherit from its head, by head id (read once). */
  readonly #heads = new Map<number, Pick<JobRecord, "env" | "stdout" | "stderr" | "queue">>();
  readonly #path: string;
  /** Idle read-only connections for snapshots. */
  readonly #readers: DatabaseSync[] = [];
  #closed = false;
  #inTransaction = false;
  #noticesOf: StatementSync | undefined;
  readonly #envs: EnvironmentRows;

  /** Opens (creating if needed) the database at `path`. */
  constructor(path: string) {
    this.#path = path;
    // Owner-only before SQLite opens it: the WAL and shared memory it creates take the database's mode.
    Deno.openSync(path, { write: true, create: true, mode: 0o600 }).close();
    for (const file of [path, `${path}-wal`, `${path}-shm`]) ownerOnly(file);
    this.#db = new DatabaseSync(path);
    this.#db.exec("PRAGMA journal_mode = WAL");
    // Commits do not wait for the disk; `durable()` does, off the main thread (src/wal_sync.ts).
    this.#db.exec("PRAGMA synchronous = NORMAL");
    this.#db.exec("PRAGMA busy_timeout = 5000");
    this.#db.exec(SCHEMA);
    this.#migrate();
    this.#wal = new WalSync(`${path}-wal`);
    this.#db.exec(`BEGIN; DELETE FROM state_counts;
      INSERT INTO state_counts SELECT state, count(*) FROM jobs GROUP BY state; COMMIT`);
    const version = this.#db.prepare("SELECT value FROM meta WHERE key = 'schema'").get();
    if (version === undefined) {
      this.#db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(SCHEMA_VERSION);
    } else if (version.value !== SCHEMA_VERSION) {
      throw new Error(
        `Database ${path} has schema ${version.value}, this sjq knows ${SCHEMA_VERSION}`,
      );
    }
    this.#insert = this.#db.prepare(
      `INSERT INTO jobs (id, name, state, procs, mem, deps, cwd, stdout, stderr, env, uid, gid,
         timeout, submitted, started, ended, exit_code, reason, pid, stopping, args, array_spec,
         priority, queue, env_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#envs = new EnvironmentRows(this.#db);
    this.#insertScript = this.#db.prepare("INSERT INTO scripts (id, body) VALUES (?, ?)");
    this.#get = this.#db.prepare(
      `SELECT jobs.*, envs.json AS env_json FROM jobs LEFT JOIN envs ON envs.id = jobs.env_id
       WHERE jobs.id = ?`,
    );
    this.#state = this.#db.prepare("SELECT state FROM jobs WHERE id = ?");
    this.#forgottenState = this.#db.prepare("SELECT state FROM forgotten WHERE id = ?");
    // A task of an array runs its head's script.
    this.#script = this.#db.prepare(
      "SELECT body FROM scripts WHERE id = coalesce((SELECT array_id FROM jobs WHERE id = ?1), ?1)",
    );
    this.#counts = this.#db.prepare("SELECT state, n FROM state_counts");
  }

  /** Applies the migrations this database has not had yet. */
  #migrate(): void {
    const done = new Set(
      this.#db.prepare("SELECT name FROM migrations").all().map((r) => String(r.name)),
    );
    const record = this.#db.prepare("INSERT INTO migrations (name) VALUES (?)");
    for (const { name, sql } of MIGRATIONS) {
      if (done.has(name)) continue;
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        this.#db.exec(sql);
        record.run(name);
        this.#db.exec("COMMIT");
      } catch (e) {
        this.#db.exec("ROLLBACK");
        throw new Error(`Cannot migrate the database (${name}): ${(e as Error).message}`);
      }
    }
  }

  /** A value of the `meta` table, or null. */
  meta(key: string): string | null {
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = ?").get(key);
    return row === undefined ? null : String(row.value);
  }

  /** Sets a value of the `meta` table (in the open transaction, if any). */
  setMeta(key: string, value: string): void {
    this.#db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)").run(key, value);
  }

  /** The highest job id ever given out (ids are never reused, even after `clean`). */
  lastId(): number {
    const row = this.#db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'jobs'").get();
    return Number(row?.seq ?? 0);
  }

  /** Opens a transaction unless one is open. */
  begin(): void {
    if (this.#inTransaction) return;
    this.#db.exec("BEGIN IMMEDIATE");
    this.#inTransaction = true;
  }

  /** Whether a transaction is open. */
  get inTransaction(): boolean {
    return this.#inTransaction;
  }

  /**
   * Commits the open transaction, without waiting for the disk (see
   * `durable`). Throws on failure; then call `rollback`.
   */
  commit(): void {
    if (!this.#inTransaction) return;
    this.#db.exec("COMMIT");
    this.#inTransaction = false;
  }

  /** Resolves once every commit made before the call is on disk; rejects if the disk fails. */
  durable(): Promise<void> {
    return this.#wal.flush();
  }

  /** Abandons the open transaction. */
  rollback(): void {
    if (!this.#inTransaction) return;
    this.#inTransaction = false;
    this.#envs.forget(); // rows it added may be undone
    if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
  }

  /** Adds a new job with its script. */
  insert(job: JobRecord, script: Uint8Array): void {
    this.#insert.run(
      job.id,
      job.name,
      job.state,
      job.procs,
      job.mem,
      JSON.stringify(job.deps.map((d) => [d.id, d.kind])),
      job.cwd,
      job.stdout,
      job.stderr,
      job.uid,
      job.gid,
      job.timeout,
      job.submitted,
      job.started,
      job.ended,
      job.exitCode,
      job.reason,
      job.pid,
      job.stopping,
      job.args?.length ? JSON.stringify(job.args) : null,
      job.array ?? null,
      job.priority || null,
      job.queue ?? null,
      this.#envs.rowOf(job.env),
    );
    this.#insertScript.run(job.id, script);
    if (job.slurmOpts !== undefined && job.slurmOpts.length > 0) {
      this.#db.prepare("UPDATE jobs SET slurm_opts = ? WHERE id = ?")
        .run(JSON.stringify(job.slurmOpts), job.id);
    }
  }

  /**
   * Adds an array: its head (with the script, the environment and the
   * output path patterns its tasks share), and one light row per task, ids
   * `first`, `first + 1`, … for the task ids of `ranges`, in state `state`.
   */
  insertArray(
    head: JobRecord,
    script: Uint8Array,
    tasks: { first: number; ranges: readonly TaskRange[]; state: State; reason: string | null },
  ): void {
    this.insert(head, script);
    const insertRange = this.#db.prepare(
      `WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < ?1 - 1)
       INSERT INTO jobs (id, name, state, procs, mem, deps, cwd, stdout, stderr, env, uid, gid,
         timeout, submitted, ended, reason, array_id, array_task, priority)
       SELECT ?2 + n, name, ?3, procs, mem, deps, cwd, '', '', '{}', uid, gid,
         timeout, submitted, ?4, ?5, id, ?6 + n * ?7, priority
       FROM k, (SELECT * FROM jobs WHERE id = ?8)`,
    );
    const ended = isFinal(tasks.state) ? head.submitted : null;
    let id = tasks.first;
    for (const r of tasks.ranges) {
      const count = (r.to - r.from) / r.step + 1;
      insertRange.run(count, id, tasks.state, ended, tasks.reason, r.from, r.step, head.id);
      id += count;
    }
    this.#db.prepare(
      `INSERT INTO state_counts (state, n) VALUES (?1, ?2)
         ON CONFLICT (state) DO UPDATE SET n = n + ?2`,
    ).run(tasks.state, id - tasks.first);
  }

  /** How many of the tasks `first`…`last` of array `head` ended in each state. */
  arrayTally(head: number, first: number, last: number): Partial<Record<FinalState, number>> {
    const rows = this.#db.prepare(
      `SELECT state, count(*) AS n FROM jobs WHERE id BETWEEN ? AND ? AND array_id = ?
         AND state IN ('S', 'F', 'A', 'K', 'E') GROUP BY state`,
    ).all(first, last, head);
    return Object.fromEntries(rows.map((r) => [String(r.state), Number(r.n)]));
  }

  /** Changes some columns of a job. */
  update(id: number, fields: JobUpdate): void {
    const keys = Object.keys(fields) as (keyof JobUpdate)[];
    const cacheKey = keys.join(",");
    let stmt = this.#updates.get(cacheKey);
    if (stmt === undefined) {
      const sets = keys.map((k) => `${UPDATE_COLUMNS[k]} = ?`).join(", ");
      stmt = this.#db.prepare(`UPDATE jobs SET ${sets} WHERE id = ?`);
      this.#updates.set(cacheKey, stmt);
    }
    stmt.run(...keys.map((k) => columnValue(fields[k])), id);
  }

  /** One job, or undefined. */
  get(id: number): JobRecord | undefined {
    const row = this.#get.get(id) as Row | undefined;
    return row && this.#toRecord(_withEnv(row));
  }

  /** A job's state, or undefined when unknown. */
  state(id: number): State | undefined {
    return (this.#state.get(id) as { state: State } | undefined)?.state;
  }

  /**
   * The state a job ended in, also for a job `clean` has forgotten (what its
   * dependents need); undefined for a job that has not ended or was never known.
   */
  endedState(id: number): FinalState | undefined {
    const state = this.state(id) ??
      (this.#forgottenState.get(id) as { state: State } | undefined)?.state;
    return state !== undefined && isFinal(state) ? state : undefined;
  }

  /** A job's script. */
  script(id: number): Uint8Array {
    const row = this.#script.get(id) as { body: Uint8Array } | undefined;
    if (row === undefined) throw new Error(`No script stored for job ${id}`);
    return row.body;
  }

  /**
   * Every job that has not ended, in id order, without its environment (see
   * `get` for that). A row that cannot be read is passed to `damaged` and
   * left out.
   */
  active(
    damaged: (id: number, error: Error) => void = (_, e) => {
      throw e;
    },
  ): (Omit<JobRecord, "env"> & { state: ActiveState })[] {
    const jobs: (Omit<JobRecord, "env"> & { state: ActiveState })[] = [];
    const rows = this.#db.prepare(
      `SELECT ${COLUMNS_BUT_ENV} FROM jobs WHERE state IN ('Q', 'H', 'U', 'R') ORDER BY id`,
    ).all() as Row[];
    for (const row of rows) {
      try {
        jobs.push(this.#toRecord(row, true) as JobRecord & { state: ActiveState });
      } catch (e) {
        damaged(Number(row.id), e instanceof Error ? e : new Error(String(e)));
      }
    }
    return jobs;
  }

  /** Every job (or those from `id` to `last`), in id order, as the STATUS columns: id, name, state, dependency ids. */
  statusRows(id: number | null, last = id): Generator<StatusRow> {
    return this.#statusRows(this.#db, id, last);
  }

  *#statusRows(db: DatabaseSync, id: number | null, last: number | null): Generator<StatusRow> {
    const stmt = id === null
      ? db.prepare("SELECT id, name, state, deps FROM jobs ORDER BY id")
      : db.prepare("SELECT id, name, state, deps FROM jobs WHERE id BETWEEN ? AND ? ORDER BY id");
    const rows = (id === null ? stmt.iterate() : stmt.iterate(id, last)) as Iterable<Row>;
    for (const row of rows) {
      const deps = row.deps === "[]" ? "" : parseDeps(row.deps, false).map((d) => d.id).join(":");
      yield [row.id as number, row.name as string, row.state as State, deps];
    }
  }

  /** Every job (or those from `id` to `last`) with all its fields but the environment, in id order. */
  records(id: number | null, last = id): Generator<Omit<JobRecord, "env">> {
    return this.#records(this.#db, id, last);
  }

  *#records(
    db: DatabaseSync,
    id: number | null,
    last: number | null,
  ): Generator<Omit<JobRecord, "env">> {
    const stmt = id === null
      ? db.prepare(`SELECT ${COLUMNS_BUT_ENV} FROM jobs ORDER BY id`)
      : db.prepare(`SELECT ${COLUMNS_BUT_ENV} FROM jobs WHERE id BETWEEN ? AND ? ORDER BY id`);
    for (const row of (id === null ? stmt.iterate() : stmt.iterate(id, last)) as Iterable<Row>) {
      yield this.#toRecord(row);
    }
  }

  /**
   * The jobs as last committed, from a read-only connection of its own: its
   * listings see that one state however long they take to read, while this
   * store goes on committing. Dispose of it soon (a snapshot held open keeps
   * the WAL from being checkpointed).
   */
  snapshot(): Snapshot {
    const db = this.#readers.pop() ?? new DatabaseSync(this.#path, { readOnly: true });
    db.exec("BEGIN");
    // A read transaction's snapshot is taken by its first read.
    db.prepare("SELECT 1 FROM jobs LIMIT 1").get();
    let open = true;
    return {
      statusRows: (id, last = id) => this.#statusRows(db, id, last),
      records: (id, last = id) => this.#records(db, id, last),
      attempts: (id, last = id) => this.#attempts(db, id, last),
      [Symbol.dispose]: () => {
        if (!open) return;
        open = false;
        db.exec("COMMIT");
        if (this.#closed || this.#readers.length >= MAX_IDLE_READERS) db.close();
        else this.#readers.push(db);
      },
    };
  }

  /** Number of jobs in each state that has any. */
  counts(): Partial<Record<State, number>> {
    const out: Partial<Record<State, number>> = {};
    const rows = this.#counts.all();
    for (const row of rows) if (Number(row.n) > 0) out[row.state as State] = Number(row.n);
    return out;
  }

  /**
   * Deletes ended jobs in `states` that ended before `before` (ms since the
   * epoch), of `uid` only unless it is null; returns their ids.
   */
  deleteEnded(before: number, states: readonly FinalState[], uid: number | null = null): number[] {
    const marks = states.map(() => "?").join(", ");
    const own = uid === null ? "" : " AND uid = ?";
    const rows = this.#db.prepare(
      `SELECT id FROM jobs WHERE ended IS NOT NULL AND ended < ? AND state IN (${marks})${own}`,
    ).all(before, ...states, ...(uid === null ? [] : [uid]));
    const remember = this.#db.prepare(
      "INSERT OR REPLACE INTO forgotten (id, state) SELECT id, state FROM jobs WHERE id = ?",
    );
    const del = this.#db.prepare("DELETE FROM jobs WHERE id = ?");
    const delScript = this.#db.prepare("DELETE FROM scripts WHERE id = ?");
    const delAttempts = this.#db.prepare("DELETE FROM attempts WHERE job_id = ?");
    const ids = this.#keepHeads(rows.map((r) => Number(r.id)));
    for (const id of ids) {
      remember.run(id);
      del.run(id);
      delScript.run(id);
      delAttempts.run(id);
    }
    if (ids.length > 0) this.#envs.deleteUnused();
    return ids;
  }

  /**
   * Keeps the end of a job's current attempt in its history and makes it a
   * job that has not run: its end fields are cleared, its state is `state`.
   */
  restartJob(id: number, state: State): void {
    this.#db.prepare(
      `INSERT INTO attempts (job_id, attempt, state, started, ended, exit_code, reason, cpu_user,
         cpu_system, max_rss, signal)
       SELECT id, (SELECT count(*) FROM attempts WHERE job_id = ?1) + 1, state, started, ended,
         exit_code, reason, cpu_user, cpu_system, max_rss, signal FROM jobs WHERE id = ?1`,
    ).run(id);
    this.update(id, {
      state,
      started: null,
      ended: null,
      exitCode: null,
      reason: null,
      pid: null,
      stopping: null,
      handle: null,
      retryAt: null,
      gpuIds: [],
      cpuUser: null,
      cpuSystem: null,
      maxRss: null,
      signal: null,
    });
  }

  /** Sets the command run when a job ends (NOTIFY). */
  setNotify(id: number, command: string): void {
    this.#db.prepare("UPDATE jobs SET notify = ? WHERE id = ?").run(command, id);
  }

  /** Sets the address mailed when a job ends (MAIL). */
  setMail(id: number, address: string): void {
    this.#db.prepare("UPDATE jobs SET mail = ? WHERE id = ?").run(address, id);
  }

  /** What is due when a job ends: its NOTIFY command and MAIL address, and whether it is an array's task. */
  noticesOf(id: number): { notify: string | null; mail: string | null; task: boolean } {
    this.#noticesOf ??= this.#db.prepare("SELECT notify, mail, array_id FROM jobs WHERE id = ?");
    const row = this.#noticesOf.get(id) as Row | undefined;
    return {
      notify: (row?.notify ?? null) as string | null,
      mail: (row?.mail ?? null) as string | null,
      task: row?.array_id != null,
    };
  }

  /** Sets how many GPUs jobs `id`…`last` need (GPUS; an array's head and its tasks at once). */
  setGpus(id: number, last: number, gpus: number): void {
    this.#db.prepare("UPDATE jobs SET gpus = ? WHERE id BETWEEN ? AND ?").run(gpus, id, last);
  }

  /** Sets a job's automatic retries (RETRIES) and the delay before each (RETRYDELAY, seconds). */
  setRetries(id: number, retries: number, delay: number | null): void {
    this.#db.prepare("UPDATE jobs SET retries = ?, retry_delay = ? WHERE id = ?")
      .run(retries, delay, id);
  }

  /** The earlier attempts of the jobs from `id` to `last` (all with `id` null), by job id, in order. */
  attempts(id: number | null, last = id): Map<number, Attempt[]> {
    return this.#attempts(this.#db, id, last);
  }

  #attempts(db: DatabaseSync, id: number | null, last: number | null): Map<number, Attempt[]> {
    const rows = id === null
      ? db.prepare("SELECT * FROM attempts ORDER BY job_id, attempt").all()
      : db.prepare(
        "SELECT * FROM attempts WHERE job_id BETWEEN ? AND ? ORDER BY job_id, attempt",
      ).all(id, last);
    const out = new Map<number, Attempt[]>();
    for (const r of rows) {
      const list = out.get(Number(r.job_id)) ?? [];
      list.push({
        state: r.state as FinalState,
        started: r.started === null ? null : Number(r.started),
        ended: r.ended === null ? null : Number(r.ended),
        exitCode: r.exit_code === null ? null : Number(r.exit_code),
        reason: r.reason as string | null,
        cpuUser: r.cpu_user == null ? null : Number(r.cpu_user),
        cpuSystem: r.cpu_system == null ? null : Number(r.cpu_system),
        maxRss: r.max_rss == null ? null : Number(r.max_rss),
        signal: r.signal == null ? null : Number(r.signal),
      });
      out.set(Number(r.job_id), list);
    }
    return out;
  }

  /**
   * Ended jobs after `after` (ascending ids) with what a restart plan needs
   * (src/restart.ts).
   */
  *endedAfter(after: number): Generator<EndedJob> {
    const rows = this.#db.prepare(
      `SELECT id, state, deps, reason FROM jobs WHERE id > ? AND state IN ('S', 'F', 'A', 'K', 'E')
       ORDER BY id`,
    ).iterate(after) as Iterable<Row>;
    for (const row of rows) {
      yield {
        id: Number(row.id),
        state: row.state as State,
        deps: parseDeps(row.deps, false),
        reason: row.reason as string | null,
      };
    }
  }

  /** `ids` without the heads of arrays some of whose tasks are not among them: tasks need their head. */
  #keepHeads(ids: number[]): number[] {
    const going = new Set(ids);
    const heads = this.#db.prepare(
      "SELECT id, array_spec FROM jobs WHERE array_spec IS NOT NULL AND ended IS NOT NULL",
    );
    const tasks = this.#db.prepare("SELECT id FROM jobs WHERE id BETWEEN ? AND ? AND array_id = ?");
    for (const h of heads.all()) {
      const id = Number(h.id);
      if (!going.has(id)) continue;
      const last = id + taskCount(parseArraySpec(String(h.array_spec)));
      if (tasks.all(id + 1, last, id).some((t) => !going.has(Number(t.id)))) going.delete(id);
    }
    return ids.filter((id) => going.has(id));
  }

  /** A record from a row; a task's inherited fields filled from its head. */
  #toRecord(row: Row, strict = false): JobRecord {
    const job = rowToRecord(row, strict);
    if (job.arrayId === undefined) return job;
    let head = this.#heads.get(job.arrayId);
    if (head === undefined) {
      const h = this.#db.prepare(
        `SELECT env, envs.json AS env_json, stdout, stderr, queue FROM jobs
         LEFT JOIN envs ON envs.id = jobs.env_id WHERE jobs.id = ?`,
      ).get(job.arrayId) as Row | undefined;
      if (h !== undefined) _withEnv(h);
      head = {
        env: h ? JSON.parse(h.env as string) : {},
        stdout: (h?.stdout as string | undefined) ?? "",
        stderr: (h?.stderr as string | undefined) ?? "",
        ...(typeof h?.queue === "string" ? { queue: h.queue } : {}),
      };
      this.#heads.set(job.arrayId, head);
    }
    // The head's names keep only the fields that differ by task (see src/arrays.ts).
    const facts = {
      id: job.id,
      name: job.name,
      user: "",
      array: { id: job.arrayId, index: job.arrayTask! },
    };
    job.stdout = expandOutputName(head.stdout, facts);
    job.stderr = expandOutputName(head.stderr, facts);
    if (row.env !== undefined) job.env = head.env;
    if (head.queue !== undefined) job.queue = head.queue;
    return job;
  }

  [Symbol.dispose](): void {
    this.rollback();
    this.#closed = true;
    for (const reader of this.#readers.splice(0)) reader.close();
    this.#db.close();
    this.#wal[Symbol.dispose]();
  }
}

/** A row with its environment in `env`: its envs row's JSON, or its own copy (a job from before envs). */
function _withEnv(row: Row): Row {
  if (row.env_json != null) row.env = row.env_json;
  delete row.env_json;
  return row;
}
