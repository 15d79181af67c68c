/**
 * The sockets of a daemon that serves several users: one per user,
 * `<dir>/<uid>.sock`, owned by that user with mode 0600, in a directory
 * only root can change. The kernel lets only the owner (and root) connect,
 * so the socket a request came through is the proof of who sent it
 * (docs/security.md).
 *
 * Every account of /etc/passwd but system accounts (src/authorization.ts
 * `isSystemUid`) gets one, and root; the accounts are read again when /etc/passwd or
 * /etc/group change.
 *
 * @module
 */

import { type Caller, isSystemUid } from "./authorization.ts";
import { type Handler, Server, type ServerLimits } from "./server.ts";
import { readAccounts, type UserAccount } from "./user_accounts.ts";

/** How often the account files are looked at for changes. */
const RESCAN_MS = 2000;

/** What {@linkcode UserSockets.open} needs. */
export interface UserSocketsOptions {
  /** The directory of the sockets (`sjq.userdir`). */
  dir: string;
  handler: Handler;
  limits: ServerLimits;
  /** The lowest uid but root's that gets a socket (`sjq.user.minuid`). */
  minUid: number;
  log: { info(message: string): void; error(message: string): void };
}

/** The path of `uid`'s socket in `dir`. */
export function userSocketPath(dir: string, uid: number): string {
  return `${dir.replace(/\/+$/, "")}/${uid}.sock`;
}

/** One listening socket per user, kept in step with the account files. */
export class UserSockets {
  readonly #options: UserSocketsOptions;
  readonly #servers = new Map<number, Server>();
  #stamp = "";
  #timer: ReturnType<typeof setInterval> | undefined;
  #lock: Deno.FsFile | null = null;

  private constructor(options: UserSocketsOptions) {
    this.#options = options;
  }

  /**
   * Makes the directory (root's, mode 0755) if needed, refuses one that
   * anyone but root could change, and listens for every user.
   */
  static open(options: UserSocketsOptions): UserSockets {
    if (Deno.uid() !== 0) {
      throw new Error("sjq.multiuser needs a daemon running as root");
    }
    Deno.mkdirSync(options.dir, { recursive: true, mode: 0o755 });
    checkRootOnly(options.dir);
    const lock = Deno.openSync(`${options.dir}/.lock`, { write: true, create: true, mode: 0o600 });
    if (!lock.tryLockSync(true)) {
      lock.close();
      throw new Error(`another sjq daemon serves the users' sockets in ${options.dir}`);
    }
    const sockets = new UserSockets(options);
    sockets.#lock = lock;
    sockets.#clearStale();
    sockets.#rescan();
    sockets.#timer = setInterval(() => sockets.#rescan(), RESCAN_MS);
    return sockets;
  }

  /** The uids that have a socket now. */
  get uids(): number[] {
    return [...this.#servers.keys()].sort((a, b) => a - b);
  }

  /** Stops listening and removes every socket. */
  close(): void {
    clearInterval(this.#timer);
    for (const server of this.#servers.values()) server.close();
    this.#servers.clear();
    this.#lock?.close();
    this.#lock = null;
  }

  /** Sockets and bind directories left by a daemon that died. */
  #clearStale(): void {
    for (const e of Deno.readDirSync(this.#options.dir)) {
      if (/^\d+\.sock$/.test(e.name) || e.name.startsWith(".sjq-bind-")) {
        Deno.removeSync(`${this.#options.dir}/${e.name}`, { recursive: true });
      }
    }
  }

  /** Adds a socket for each new user and removes those of users gone; repairs changed modes. */
  #rescan(): void {
    const stamp = ["/etc/passwd", "/etc/group"].map(mtimeOf).join(" ");
    if (stamp === this.#stamp) return this.#repair();
    this.#stamp = stamp;
    const wanted = new Map<number, UserAccount | null>([[0, null]]);
    for (const account of readAccounts().values()) {
      if (!isSystemUid(account.uid, this.#options.minUid)) {
        wanted.set(account.uid, account);
      }
    }
    for (const [uid, server] of this.#servers) {
      if (!wanted.has(uid)) {
        server.close();
        this.#servers.delete(uid);
        this.#options.log.info(`uid ${uid} is no longer a user: its socket is removed`);
      }
    }
    for (const uid of wanted.keys()) {
      if (this.#servers.has(uid)) continue;
      const caller: Caller = { uid };
      const path = userSocketPath(this.#options.dir, uid);
      try {
        this.#servers.set(
          uid,
          Server.listen(path, this.#options.handler, this.#options.limits, caller),
        );
      } catch (e) {
        this.#options.log.error(`cannot listen on ${path}: ${(e as Error).message}`);
      }
    }
  }

  /**
   * A user may chmod their own socket (which gives away only their own
   * identity, as a relay of theirs could); it is put back to 0600.
   */
  #repair(): void {
    for (const uid of this.#servers.keys()) {
      const path = userSocketPath(this.#options.dir, uid);
      try {
        const st = Deno.lstatSync(path);
        if (((st.mode ?? 0) & 0o777) !== 0o600) Deno.chmodSync(path, 0o600);
      } catch { /* removed: only root can, and then it is root's business */ }
    }
  }
}

/**
 * Refuses a socket directory that a user could change: the directory must
 * be root's and not writable by group or others, and so must every
 * directory above it, unless that one is sticky (like /tmp: then no one
 * can rename or remove what root made in it).
 */
export function checkRootOnly(dir: string): void {
  let path = Deno.realPathSync(dir);
  let first = true;
  for (;;) {
    const st = Deno.statSync(path);
    const mode = st.mode ?? 0;
    const writable = (mode & 0o022) !== 0;
    const sticky = (mode & 0o1000) !== 0;
    if (st.uid !== 0 || (writable && (first || !sticky))) {
      throw new Error(
        `Unsafe sjq.userdir ${dir}: ${path} must belong to root and be writable by root alone` +
          (first ? "" : " (or be sticky, like /tmp)"),
      );
    }
    if (path === "/") return;
    path = path.slice(0, path.lastIndexOf("/")) || "/";
    first = false;
  }
}

function mtimeOf(path: string): string {
  try {
    const st = Deno.statSync(path);
    return `${st.mtime?.getTime()}:${st.ino}:${st.size}`;
  } catch {
    return "none";
  }
}
