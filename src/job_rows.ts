/**
 * The `jobs` table's rows and the job records they hold: which columns a
 * field is stored in, and how a row is read back (src/store.ts).
 *
 * @module
 */

import type { Dependency, JobRecord, State } from "./job.ts";

/** Columns of `jobs` that change after a submit. */
export type JobUpdate = Partial<
  Pick<
    JobRecord,
    | "state"
    | "started"
    | "ended"
    | "exitCode"
    | "reason"
    | "pid"
    | "stopping"
    | "handle"
    | "retryAt"
    | "gpuIds"
    | "cpuUser"
    | "cpuSystem"
    | "maxRss"
    | "signal"
  >
>;

/** The column of each field of {@linkcode JobUpdate}. */
export const UPDATE_COLUMNS: Record<keyof JobUpdate, string> = {
  state: "state",
  started: "started",
  ended: "ended",
  exitCode: "exit_code",
  reason: "reason",
  retryAt: "retry_at",
  pid: "pid",
  stopping: "stopping",
  handle: "handle",
  gpuIds: "gpu_ids",
  cpuUser: "cpu_user",
  cpuSystem: "cpu_system",
  maxRss: "max_rss",
  signal: "signal",
};

/** A row of `jobs` as node:sqlite returns it. */
export type Row = Record<string, string | number | null | Uint8Array>;

/** Environments can be large: listings leave them out. */
export const COLUMNS_BUT_ENV =
  `id, name, state, procs, mem, deps, cwd, stdout, stderr, uid, gid, timeout,
  submitted, started, ended, exit_code, reason, pid, stopping, args, handle, array_spec, array_id,
  array_task, retries, retry_delay, retry_at, priority, gpus, gpu_ids, queue, cpu_user, cpu_system,
  max_rss, signal`;

/**
 * The dependencies column. A damaged one throws when `strict` (recovery must
 * know), and reads as none otherwise (listings must go on).
 */
export function parseDeps(text: unknown, strict: boolean): Dependency[] {
  try {
    const deps = JSON.parse(text as string) as [number, Dependency["kind"]][];
    if (!Array.isArray(deps)) throw new TypeError(`Not a list of dependencies: ${text}`);
    return deps.map(([id, kind]) => {
      if (!Number.isSafeInteger(id) || !["afterok", "afterany", "afternotok"].includes(kind)) {
        throw new TypeError(`Bad dependency: ${JSON.stringify([id, kind])}`);
      }
      return { id, kind };
    });
  } catch (e) {
    if (strict) throw new TypeError(`Cannot read the dependencies: ${(e as Error).message}`);
    return [];
  }
}

function _parseEnv(text: unknown, strict: boolean): Record<string, string> {
  try {
    return JSON.parse(text as string) as Record<string, string>;
  } catch (e) {
    if (strict) throw new TypeError(`Cannot read the environment: ${(e as Error).message}`);
    return {};
  }
}

const WAITING: ReadonlySet<State> = new Set(["Q", "H", "U"]);

/** A JobUpdate value as its column holds it: lists (GPU ids) comma-joined, none as NULL. */
export function columnValue(value: JobUpdate[keyof JobUpdate]): string | number | null {
  if (Array.isArray(value)) return value.length === 0 ? null : value.join(",");
  return (value ?? null) as string | number | null;
}

/**
 * The record of a `jobs` row (a task's inherited fields as stored: the
 * store fills them from its head). A damaged column throws when `strict`.
 */
export function rowToRecord(row: Row, strict = false): JobRecord {
  // Listings select no env column: they get an empty one.
  const num = (v: unknown) => (v === null ? null : Number(v));
  return {
    id: Number(row.id),
    name: row.name as string,
    state: row.state as State,
    procs: Number(row.procs),
    mem: Number(row.mem),
    deps: parseDeps(row.deps, strict),
    cwd: row.cwd as string,
    stdout: row.stdout as string,
    stderr: row.stderr as string,
    env: row.env === undefined ? {} : _parseEnv(row.env, strict),
    uid: Number(row.uid),
    gid: Number(row.gid),
    timeout: num(row.timeout),
    submitted: Number(row.submitted),
    started: num(row.started),
    ended: num(row.ended),
    exitCode: num(row.exit_code),
    reason: row.reason as string | null,
    pid: num(row.pid),
    stopping: row.stopping as JobRecord["stopping"],
    ...(typeof row.args === "string" ? { args: JSON.parse(row.args) as string[] } : {}),
    ...(typeof row.slurm_opts === "string" ? { slurmOpts: JSON.parse(row.slurm_opts) } : {}),
    handle: (row.handle ?? null) as string | null,
    ...(row.retries == null ? {} : { retries: Number(row.retries) }),
    ...(row.retry_delay == null ? {} : { retryDelay: Number(row.retry_delay) }),
    ...(row.retry_at == null ? {} : { retryAt: Number(row.retry_at) }),
    ...(row.priority == null ? {} : { priority: Number(row.priority) }),
    ...(row.gpus == null || row.gpus === 0 ? {} : { gpus: Number(row.gpus) }),
    // Devices are held while a job runs and shown once it ran; a job queued again holds none.
    ...(typeof row.gpu_ids === "string" && row.gpu_ids !== "" && !WAITING.has(row.state as State)
      ? { gpuIds: row.gpu_ids.split(",") }
      : {}),
    ...(row.queue == null ? {} : { queue: row.queue as string }),
    ...(row.cpu_user == null ? {} : { cpuUser: Number(row.cpu_user) }),
    ...(row.cpu_system == null ? {} : { cpuSystem: Number(row.cpu_system) }),
    ...(row.max_rss == null ? {} : { maxRss: Number(row.max_rss) }),
    ...(row.signal == null ? {} : { signal: Number(row.signal) }),
    ...(typeof row.array_spec === "string" ? { array: row.array_spec } : {}),
    ...(row.array_id == null
      ? {}
      : { arrayId: Number(row.array_id), arrayTask: Number(row.array_task) }),
  };
}
