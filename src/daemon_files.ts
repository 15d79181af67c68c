/**
 * The daemon's own files (database, log, pid file, socket): checked before
 * the daemon touches any of them, so that a path given by mistake (`--db`
 * naming the socket, `--logfile` naming the database) is a clear error and
 * never destroys a file; and kept owner-only, since the database holds every
 * job's script and environment.
 *
 * @module
 */

/** The paths a daemon writes to. */
export interface DaemonPaths {
  db: string;
  socket: string;
  logfile: string | null;
  pidfile: string | null;
}

const SQLITE_HEADER = "SQLite format 3\0";

/**
 * Throws when a path would make the daemon damage a file it does not own:
 * a database path holding something that is not an SQLite database, a log
 * or pid file that is one of the daemon's other files, a database, or (for
 * the pid file) anything but a pid. The socket is checked when it is bound
 * (src/server.ts).
 *
 * @throws {Error} Naming the path and what is wrong with it.
 */
export function checkDaemonPaths(paths: DaemonPaths): void {
  const { db, socket, logfile, pidfile } = paths;
  const own = new Map<string, string>([
    [db, "the database"],
    [`${db}-wal`, "the database's WAL"],
    [`${db}-shm`, "the database's shared memory"],
    [`${db}.lock`, "the database's lock"],
    [socket, "the socket"],
  ]);
  if (socket === db) throw new Error(`the socket and the database are the same file: ${db}`);
  const files: [string, string | null][] = [
    ["database", db],
    ["log file", logfile],
    ["pid file", pidfile],
  ];
  for (const [what, path] of files) {
    if (path === null) continue;
    const dir = path.slice(0, path.lastIndexOf("/")) || "/";
    if (inspect(dir) === null) {
      throw new Error(`the directory of the ${what} ${path} does not exist`);
    }
  }
  const dbFile = inspect(db);
  if (dbFile !== null) {
    if (dbFile.kind !== "file") throw new Error(`database ${db} is ${dbFile.kind}, not a file`);
    if (dbFile.head !== "" && !dbFile.head.startsWith(SQLITE_HEADER)) {
      throw new Error(`database ${db} is not an sjq database (not SQLite): refusing to use it`);
    }
  }
  for (const [what, path] of [["log file", logfile], ["pid file", pidfile]] as const) {
    if (path === null) continue;
    const clash = own.get(path);
    if (clash !== undefined) throw new Error(`the ${what} ${path} is ${clash}`);
    const file = inspect(path);
    if (file === null) continue;
    // A log may go to a device (/dev/null); a pid file, removed at exit, must be a file of its own.
    if (file.kind !== "file" && (what === "pid file" || file.kind !== "a device")) {
      throw new Error(`the ${what} ${path} is ${file.kind}, not a file`);
    }
    if (file.head.startsWith(SQLITE_HEADER)) {
      throw new Error(`the ${what} ${path} is a database: refusing to write to it`);
    }
    if (what === "pid file" && !/^\s*\d*\s*$/.test(file.head)) {
      throw new Error(
        `the pid file ${path} holds something else than a pid: refusing to replace it`,
      );
    }
  }
}

/** A file's kind and first bytes (as text), or null when nothing is there. */
function inspect(path: string): { kind: string; head: string } | null {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  if (!info.isFile) {
    const kind = info.isDirectory
      ? "a directory"
      : info.isSocket
      ? "a socket"
      : info.isCharDevice || info.isBlockDevice
      ? "a device"
      : "not a file";
    return { kind, head: "" };
  }
  using file = Deno.openSync(path, { read: true });
  const buf = new Uint8Array(64);
  const n = file.readSync(buf) ?? 0;
  return { kind: "file", head: new TextDecoder().decode(buf.subarray(0, n)) };
}

/**
 * Makes an existing file or directory owner-only (0600, or 0700 for a
 * directory), whatever the umask made it; nothing there is fine.
 */
export function ownerOnly(path: string): void {
  try {
    Deno.chmodSync(path, Deno.statSync(path).isDirectory ? 0o700 : 0o600);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
