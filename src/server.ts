/**
 * The socket server: accepts connections on the Unix socket, feeds their
 * bytes to the protocol parser, hands each request to the daemon and writes
 * the replies back in order (pipelining).
 *
 * A connection's output is bounded: the server stops reading a connection's
 * requests while too much of its output waits (see `#admit`), and a client
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
/** A connection whose client reads nothing of a pending reply for this long is dropped. */
const WRITE_STALL_TIMEOUT_MS = 30_000;
/** Unhandled request bytes read ahead while a request waits for earlier replies. */
const MAX_UNHANDLED_BYTES = 1024 * 1024;
/** How long replies still pending are waited for once the client has closed its side. */
const AFTER_CLOSE_GRACE_MS = 30_000;
/** Replies a connection may have outstanding before the server stops reading from it. */
const MAX_OUTSTANDING = 1024;
/** Reply bytes a connection may have waiting (computed, not yet taken by the client) before the server stops reading from it. */
const MAX_QUEUED_BYTES = 256 * 1024;
/** Bytes handed to the socket per write. */
const WRITE_CHUNK = 64 * 1024;
/** How often a connection with replies pending is looked at for a client that has gone. */
const PROBE_MS = 1000;
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
            // Requests read ahead while the handler waits are not a request left half-sent.
            if (done || handling) return;
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
 * The replies of one connection, written in order as the client takes them:
 * each is written in chunks, each chunk only once the socket took the last.
 */
class Outbox {
  readonly #conn: Deno.UnixConn;
  readonly #gone = new AbortController();
  /** Resolves once the connection is broken: pending replies are not waited for any more. */
  readonly #broken: Promise<null>;
  #chain: Promise<void> = Promise.resolve();
  /** Replies pushed and not yet fully written. */
  #outstanding = 0;
  /** Bytes of computed replies not yet taken by the socket. */
  #queued = 0;
  /** Wakes `admit` when a reply has been written. */
  #wake: (() => void) | null = null;
  /** A reply is being written (which finds out by itself when the client has gone). */
  #writing = false;
  /** A look at whether the client has gone is under way. */
  #probing = false;
  #prober: ReturnType<typeof setInterval> | undefined;

  constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
    this.#broken = new Promise((resolve) =>
      this.#gone.signal.addEventListener("abort", () => resolve(null), { once: true })
    );
  }

  /** No more replies can be written (the client is gone, or a reply closed the connection). */
  get broken(): boolean {
    return this.#gone.signal.aborted;
  }

  /** Aborted once no more replies can be written: what is pending need not be worked on. */
  get gone(): AbortSignal {
    return this.#gone.signal;
  }

  /** Marks the connection broken (aborting `gone`) and closes it. */
  #break(): void {
    if (!this.broken) this.#gone.abort();
    clearInterval(this.#prober);
    try {
      this.#conn.close();
    } catch { /* closed */ }
    this.#wake?.();
    this.#wake = null;
  }

  /**
   * Looks whether the client has gone for good, unless a write is under way
   * (it fails by itself then): an empty write fails once the client has
   * closed its connection, not when it has only closed its sending side.
   */
  probe(): void {
    if (this.broken || this.#writing || this.#probing || this.#outstanding === 0) return;
    this.#probing = true;
    this.#conn.write(new Uint8Array(0)).then(
      () => this.#probing = false,
      () => this.#break(),
    );
  }

  /**
   * Waits until this connection may take another request: fewer than
   * MAX_OUTSTANDING replies and MAX_QUEUED_BYTES of output waiting, and, for
   * a listing (large reply), nothing at all waiting before it. So a client
   * that does not read holds at most one listing's worth of the daemon's
   * memory, and stops being read from.
   */
  async admit(listing: boolean): Promise<void> {
    while (this.mustWait(listing)) await new Promise<void>((r) => this.#wake = r);
  }

  /** Whether a request must wait before it is handled (see `admit`). */
  mustWait(listing: boolean): boolean {
    return !this.broken &&
      (this.#outstanding >= MAX_OUTSTANDING || this.#queued > MAX_QUEUED_BYTES ||
        (listing && this.#outstanding > 0));
  }

  /** Queues a reply, written once those before it are. */
  push(reply: Promise<Reply>): void {
    this.#outstanding++;
    // Replies that stay pending (a WAIT, a listing) are looked at now and then for a client gone.
    this.#prober ??= setInterval(() => {
      if (this.#outstanding > 0) return this.probe();
      clearInterval(this.#prober);
      this.#prober = undefined;
    }, PROBE_MS);
    this.#chain = this.#chain.then(async () => {
      // Once the connection is broken, nothing pending is waited for: it may never come.
      const r = await Promise.race([reply, this.#broken]);
      if (r === null || this.broken) return;
      const parts = encodeReply(r);
      const size = parts.reduce((n, p) => n + p.length, 0);
      this.#queued += size;
      this.#writing = true;
      try {
        for (const part of parts) await this.#write(part);
      } finally {
        this.#writing = false;
        this.#queued -= size;
      }
      if (r.close) this.#break();
    }).catch(() => {
      this.#break();
    }).finally(() => {
      this.#outstanding--;
      this.#wake?.();
      this.#wake = null;
    });
  }

  /** Gives up on the connection: no more replies are written, and it is closed. */
  abandon(): void {
    this.#break();
  }

  /** Resolves once every reply pushed has been written (or can no longer be). */
  finished(): Promise<void> {
    return this.#chain;
  }

  /** Writes `bytes` as the socket takes them; drops the client if it takes nothing for too long. */
  async #write(bytes: Uint8Array): Promise<void> {
    for (let off = 0; off < bytes.length;) {
      const stalled = setTimeout(() => this.#break(), WRITE_STALL_TIMEOUT_MS);
      try {
        off += await this.#conn.write(bytes.subarray(off, off + WRITE_CHUNK));
      } finally {
        clearTimeout(stalled);
      }
    }
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

/** Line ends inside a reply line (an echoed value) would split it for the client. */
const LINE_BREAKS = /[\r\n\u2028\u2029]/g;

/** A reply's bytes: its line, then its payload (one buffer or several). */
function encodeReply(reply: Reply): Uint8Array[] {
  const head = new TextEncoder().encode(`${reply.line.replace(LINE_BREAKS, " ")}\r\n`);
  if (reply.payload === undefined) return [head];
  return [head, ...(reply.payload instanceof Uint8Array ? [reply.payload] : reply.payload)];
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
