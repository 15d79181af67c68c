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
  /** Replies pushed and not yet written, in order. */
  readonly #queue: _Entry[] = [];
  /** The writing of the queue, while it runs. */
  #pump: Promise<void> | null = null;
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
    if (!this.mustWait(listing)) return;
    // Then down to half the bounds: letting one request in per reply written would make a tick of each.
    while (
      !this.broken && (this.#outstanding > MAX_OUTSTANDING / 2 ||
        this.#queued > MAX_QUEUED_BYTES / 2 || (listing && this.#outstanding > 0))
    ) await new Promise<void>((r) => this.#wake = r);
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
    const entry: _Entry = { reply, ready: undefined };
    reply.then((r) => entry.ready = r, () => {});
    this.#queue.push(entry);
    this.#pump ??= this.#writeAll();
  }

  /**
   * Writes the queued replies in order until none is left: each waits for
   * the first, then goes out together with every reply after it that is
   * ready too (a tick's replies come at once), in one write.
   */
  async #writeAll(): Promise<void> {
    try {
      await this.#writeQueue();
    } finally {
      this.#pump = null;
    }
  }

  async #writeQueue(): Promise<void> {
    while (this.#queue.length > 0) {
      // Once the connection is broken, nothing pending is waited for: it may never come.
      const first = await Promise.race([this.#queue[0]!.reply, this.#broken]).catch(() => null);
      if (first === null || this.broken) return this.#drop();
      this.#queue[0]!.ready = first;
      let n = 0;
      let size = 0;
      while (n < this.#queue.length && size < WRITE_CHUNK) {
        const r = this.#queue[n]!.ready;
        if (r === undefined) break;
        n++;
        size += r.line.length + (r.payload === undefined ? 0 : WRITE_CHUNK);
        if (r.close) break;
      }
      const batch = this.#queue.splice(0, n).map((e) => e.ready!);
      const parts = encodeReplies(batch);
      const bytes = parts.reduce((k, p) => k + p.length, 0);
      this.#queued += bytes;
      this.#writing = true;
      try {
        for (const part of parts) await this.#write(part);
      } catch {
        this.#break();
      } finally {
        this.#writing = false;
        this.#queued -= bytes;
      }
      this.#outstanding -= n;
      this.#wake?.();
      this.#wake = null;
      if (this.broken) return this.#drop();
      if (batch[batch.length - 1]!.close) {
        this.#break();
        return this.#drop();
      }
    }
  }

  /** Forgets the replies still queued: the connection cannot take them any more. */
  #drop(): void {
    this.#outstanding -= this.#queue.length;
    this.#queue.length = 0;
    this.#wake?.();
    this.#wake = null;
  }

  /** Gives up on the connection: no more replies are written, and it is closed. */
  abandon(): void {
    this.#break();
  }

  /** Resolves once every reply pushed has been written (or can no longer be). */
  async finished(): Promise<void> {
    while (this.#pump !== null) await this.#pump;
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

const encoder = new TextEncoder();

/** Replies' bytes, each its line, then its payload (one buffer or several); lines in a row share one buffer. */
function encodeReplies(replies: readonly Reply[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let lines = "";
  for (const reply of replies) {
    lines += `${reply.line.replace(LINE_BREAKS, " ")}\r\n`;
    if (reply.payload === undefined) continue;
    parts.push(encoder.encode(lines));
    lines = "";
    if (reply.payload instanceof Uint8Array) parts.push(reply.payload);
    else parts.push(...reply.payload);
  }
  if (lines !== "") parts.push(encoder.encode(lines));
  return parts;
}

/** A reply pushed, and its value once it is ready. */
interface _Entry {
  reply: Promise<Reply>;
  ready: Reply | undefined;
}
