/**
 * A connection's replies, for src/server.ts: written in order as the client
 * takes them, its output bounded, and the signal that tells the request
 * handlers when the client has gone.
 *
 * @module
 */

import type { Reply } from "./reply.ts";

/** A connection whose client reads nothing of a pending reply for this long is dropped. */
const WRITE_STALL_TIMEOUT_MS = 30_000;
/** Replies a connection may have outstanding before the server stops reading from it. */
const MAX_OUTSTANDING = 1024;
/** Reply bytes a connection may have waiting (computed, not yet taken by the client) before the server stops reading from it. */
const MAX_QUEUED_BYTES = 256 * 1024;
/** Bytes handed to the socket per write. */
const WRITE_CHUNK = 64 * 1024;
/** How often a connection with replies pending is looked at for a client that has gone. */
const PROBE_MS = 1000;

/**
 * The replies of one connection, written in order as the client takes them:
 * each is written in chunks, each chunk only once the socket took the last.
 */
export class Outbox {
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

/** Line ends inside a reply line (an echoed value) would split it for the client. */
const LINE_BREAKS = /[\r\n\u2028\u2029]/g;

/** A reply's bytes: its line, then its payload (one buffer or several). */
function encodeReply(reply: Reply): Uint8Array[] {
  const head = new TextEncoder().encode(`${reply.line.replace(LINE_BREAKS, " ")}\r\n`);
  if (reply.payload === undefined) return [head];
  return [head, ...(reply.payload instanceof Uint8Array ? [reply.payload] : reply.payload)];
}
