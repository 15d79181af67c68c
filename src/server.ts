/**
 * The socket server: accepts connections on the Unix socket, feeds their
 * bytes to the protocol parser, hands each request to the daemon and writes
 * the replies back in order (pipelining).
 *
 * A connection's output is bounded: the server stops reading a connection's
 * requests while too much of its output waits (src/outbox.ts), and a client
 * that reads nothing of a pending reply for `WRITE_STALL_TIMEOUT_MS` is
 * dropped. Connections beyond the cap are answered with one ERROR and closed.
 *
 * A client that has gone is let go at once, with whatever it asked for: the
 * server looks (an empty write fails only once the client has closed for
 * good, not when it has only finished sending) when the client's side ends
 * and every `PROBE_MS` while replies are pending, and then aborts the
 * signal each request was handed, so a listing stops being built and a
 * WAIT stops being waited for.
 *
 * @module
 */

import type { Caller } from "./authorization.ts";
import type { Reply } from "./reply.ts";
import { Outbox } from "./outbox.ts";
import { type ParserLimits, type Request, RequestParser } from "./protocol.ts";

/**
 * What the server asks of the daemon: a request, and who sent it (the owner
 * of the socket). `gone` is aborted once nobody can read the reply any more
 * (the client has gone, or its connection was dropped).
 */
export type Handler = (req: Request, caller: Caller, gone: AbortSignal) => Promise<Reply>;

/** How the server treats its clients. */
export interface ServerLimits extends ParserLimits {
  /** Connections served at once; more are refused with an ERROR. */
  maxConnections: number;
}

/** A connection idle for this long in the middle of a request is dropped. */
const MID_REQUEST_TIMEOUT_MS = 30_000;
/** Unhandled request bytes read ahead while a request waits for earlier replies. */
const MAX_UNHANDLED_BYTES = 1024 * 1024;
/** How long replies still pending are waited for once the client has closed its side. */
const AFTER_CLOSE_GRACE_MS = 30_000;
/** How long the server waits before it accepts again after accept failed (out of file descriptors). */
const ACCEPT_RETRY_MS = 100;

/** Listens on a Unix socket with mode 0600. */
export class Server {
  readonly #listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>;
  readonly #path: string;
  /** The bound socket's identity, so that close removes it and nothing else. */
  readonly #inode: number | null;
  #closed = false;
  #open = 0;

  private constructor(
    listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>,
    path: string,
    inode: number | null,
  ) {
    this.#listener = listener;
    this.#path = path;
    this.#inode = inode;
  }

  /**
   * Binds `path` atomically with mode 0600: the socket is made in a private
   * directory beside it, restricted (and given to `caller` when that is
   * another user), then renamed over a stale socket. Any other file at
   * `path` is left alone. Only `caller` (and root) can connect, so every
   * request on it comes from `caller`.
   *
   * @throws {Error} When something that is not a socket is at `path`.
   */
  static listen(
    path: string,
    handler: Handler,
    limits: ServerLimits,
    caller: Caller = { uid: Deno.uid() ?? 0 },
  ): Server {
    refuseNonSocket(path);
    const dir = bindDir(path);
    try {
      const tmp = `${dir}/sock`;
      const listener = Deno.listen({ transport: "unix", path: tmp });
      Deno.chmodSync(tmp, 0o600);
      if (caller.uid !== Deno.uid()) Deno.chownSync(tmp, caller.uid, null);
      // Checked once more: a file may have appeared at `path` meanwhile.
      refuseNonSocket(path, () => listener.close());
      Deno.renameSync(tmp, path);
      const server = new Server(listener, path, Deno.lstatSync(path).ino);
      server.#accept((req, gone) => handler(req, caller, gone), limits);
      return server;
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  }

  /** Connections being served now. */
  get connections(): number {
    return this.#open;
  }

  async #accept(
    handler: (req: Request, gone: AbortSignal) => Promise<Reply>,
    limits: ServerLimits,
  ): Promise<void> {
    while (!this.#closed) {
      let conn: Deno.UnixConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        if (this.#closed) return;
        // Out of file descriptors (EMFILE): the clients wait in the backlog until some close.
        await new Promise((r) => setTimeout(r, ACCEPT_RETRY_MS));
        continue;
      }
      if (this.#open >= limits.maxConnections) {
        void refuse(conn, limits.maxConnections);
        continue;
      }
      this.#open++;
      let counted = true;
      const release = () => {
        if (counted) this.#open--;
        counted = false;
      };
      this.#serve(conn, handler, limits, release).finally(() => {
        release();
        try {
          conn.close();
        } catch { /* already closed */ }
      });
    }
  }

  /**
   * Serves one connection: one task reads (and notices when the client has
   * sent all it will, even while requests wait for earlier replies), one
   * hands requests to the daemon in order. `release` gives up the
   * connection's place under the cap once its client has closed its side;
   * replies still pending then get AFTER_CLOSE_GRACE_MS to come.
   */
  async #serve(
    conn: Deno.UnixConn,
    handler: (req: Request, gone: AbortSignal) => Promise<Reply>,
    limits: ParserLimits,
    release: () => void,
  ): Promise<void> {
    const parser = new RequestParser(limits);
    const out = new Outbox(conn);
    let done = false; // no more requests are handled
    let eof = false; // the client sent all it will
    let handling = false; // the handler waits for earlier replies (admit)
    let wakeHandler = null as (() => void) | null;
    let wakeReader = null as (() => void) | null;
    const wake = () => {
      wakeHandler?.();
      wakeHandler = null;
    };
    let grace: ReturnType<typeof setTimeout> | undefined;
    const reading = (async () => {
      const buf = new Uint8Array(64 * 1024);
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        while (!done && !out.broken) {
          // Bytes of requests not yet handled are bounded while the handler waits.
          while (handling && parser.buffered > MAX_UNHANDLED_BYTES && !done && !out.broken) {
            await new Promise<void>((r) => wakeReader = r);
          }
          // A timer only while a request is half-read: none per read at a request's boundary.
          timer = !parser.midRequest ? undefined : setTimeout(() => {
            // Requests read ahead while the handler waits are not a request left half-sent,
            // nor are whole ones the handler had not taken yet when the timer was set.
            if (done || handling || !parser.midRequest) return;
            out.push(
              Promise.resolve({ line: "ERROR Timed out in the middle of a request", close: true }),
            );
          }, MID_REQUEST_TIMEOUT_MS);
          const n = await conn.read(buf).catch(() => null);
          clearTimeout(timer);
          if (n === null) break;
          parser.push(buf.subarray(0, n));
          wake();
        }
      } finally {
        clearTimeout(timer);
        eof = true;
        release();
        // Gone for good, or only done sending (and still reading)? Its pending replies depend on it.
        out.probe();
        // A WAIT for a job that never ends must not hold the connection for good once its client has gone.
        grace = setTimeout(() => out.abandon(), AFTER_CLOSE_GRACE_MS);
        wake();
      }
    })();
    try {
      while (!done && !out.broken) {
        const req = parser.next();
        if (req === null) {
          if (eof) break;
          await new Promise<void>((r) => wakeHandler = r);
          continue;
        }
        // Without waiting when it need not: requests that arrived together join one tick.
        if (out.mustWait(isListing(req))) {
          handling = true;
          await out.admit(isListing(req));
          handling = false;
          wakeReader?.();
          wakeReader = null;
        }
        if (out.broken) break;
        out.push(answer(handler, req, out.gone));
        if (req.kind === "exit" || req.kind === "shutdown" || req.kind === "fatal") done = true;
      }
      await out.finished();
    } finally {
      done = true;
      wakeReader?.();
      if (!eof) out.abandon(); // the reader is blocked in read: closing the connection ends it
      await reading;
      clearTimeout(grace);
    }
  }

  /** Stops accepting and removes the socket file; open connections finish their requests. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch { /* closed */ }
    try {
      // Only our own socket: whatever replaced it since is not ours to remove.
      const now = Deno.lstatSync(this.#path);
      if (now.isSocket && now.ino === this.#inode) Deno.removeSync(this.#path);
    } catch { /* gone */ }
  }
}

/**
 * The handler's reply to `req`; what it throws (a bug, a database it could
 * not open for want of file descriptors) is answered as an ERROR.
 */
function answer(
  handler: (req: Request, gone: AbortSignal) => Promise<Reply>,
  req: Request,
  gone: AbortSignal,
): Promise<Reply> {
  const failed = (e: unknown): Reply => ({ line: `ERROR ${(e as Error)?.message ?? e}` });
  try {
    return handler(req, gone).catch(failed);
  } catch (e) {
    return Promise.resolve(failed(e));
  }
}

/** Requests whose reply lists every job, and so can be large. */
function isListing(req: Request): boolean {
  return (req.kind === "status" || req.kind === "info") && req.id === null;
}

/** Answers a connection past the cap with one ERROR line, then closes it. */
async function refuse(conn: Deno.UnixConn, max: number): Promise<void> {
  const line = `ERROR Too many connections: this daemon serves at most ${max} at once\r\n`;
  const bytes = new TextEncoder().encode(line);
  try {
    // A write may take only part of what it is given.
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
  } catch { /* the client has gone */ }
  try {
    conn.close();
  } catch { /* closed */ }
}

/**
 * Throws, in one sentence, when no socket can be bound at `path`: its
 * directory is missing or not one, or something that is not a socket is
 * there. For a daemon to check before it makes any file.
 */
export function checkSocketPath(path: string): void {
  refuseNonSocket(path);
  try {
    if (Deno.statSync(dirname(path)).isDirectory) return;
  } catch (e) {
    throw bindError(path, e);
  }
  throw bindError(path, new Deno.errors.NotADirectory());
}

/** Makes the private directory the socket is bound in, beside `path`. */
function bindDir(path: string): string {
  try {
    return Deno.makeTempDirSync({ dir: dirname(path), prefix: ".sjq-bind-" });
  } catch (e) {
    throw bindError(path, e);
  }
}

/** Why the socket `path` cannot be made, as one sentence where the cause is a known one. */
function bindError(path: string, e: unknown): unknown {
  const parent = dirname(path);
  if (e instanceof Deno.errors.NotFound) {
    return new Error(`the socket's directory ${parent} does not exist (sjq.socket is ${path})`);
  }
  if (e instanceof Deno.errors.NotADirectory) {
    return new Error(`the socket's directory ${parent} is not a directory (sjq.socket is ${path})`);
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return new Error(`cannot make the socket ${path}: permission denied in ${parent}`);
  }
  return e;
}

/**
 * Throws when something other than a socket is at `path` (a stale socket
 * may be replaced; a file, directory or link never is). `cleanup` runs first.
 */
function refuseNonSocket(path: string, cleanup: () => void = () => {}): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (e) {
    // Nothing there, or no directory to hold it: binding says which.
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return;
    cleanup();
    throw e;
  }
  if (info.isSocket) return;
  cleanup();
  const what = info.isFile ? "a file" : info.isDirectory ? "a directory" : "not a socket";
  throw new Error(`${path} is ${what}, not a socket: refusing to replace it`);
}

/**
 * The file-descriptor limit of this process (`ulimit -n`), or null when
 * unknown; the default connection cap is derived from it.
 */
export function openFileLimit(): number | null {
  try {
    const limits = Deno.readTextFileSync("/proc/self/limits");
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    return m && m[1] !== "unlimited" ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * The default of `sjq.maxconnections`: half the file-descriptor limit (the
 * rest is for running jobs, the database and logs), at least 16, at most 4096.
 */
export function defaultMaxConnections(fdLimit = openFileLimit()): number {
  if (fdLimit === null) return 512;
  return Math.min(4096, Math.max(16, Math.floor(fdLimit / 2)));
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}
