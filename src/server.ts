/**
 * The socket server: accepts connections on the Unix socket, feeds their
 * bytes to the protocol parser, hands each request to the daemon and writes
 * the replies back in order (pipelining).
 *
 * @module
 */

import type { Reply } from "./daemon.ts";
import { type ParserLimits, type Request, RequestParser } from "./protocol.ts";

/** What the server asks of the daemon. */
export type Handler = (req: Request) => Promise<Reply>;

/** A connection idle for this long in the middle of a request is dropped. */
const MID_REQUEST_TIMEOUT_MS = 30_000;
/** Replies a connection may have outstanding before the server stops reading from it. */
const MAX_OUTSTANDING = 1024;

/** Listens on a Unix socket with mode 0600. */
export class Server {
  readonly #listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>;
  readonly #path: string;
  #closed = false;

  private constructor(listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>, path: string) {
    this.#listener = listener;
    this.#path = path;
  }

  /**
   * Binds `path` atomically with mode 0600: the socket is made in a private
   * directory beside it, restricted, then renamed over any stale file.
   */
  static listen(path: string, handler: Handler, limits: ParserLimits): Server {
    const dir = Deno.makeTempDirSync({ dir: dirname(path), prefix: ".sjq-bind-" });
    try {
      const tmp = `${dir}/sock`;
      const listener = Deno.listen({ transport: "unix", path: tmp });
      Deno.chmodSync(tmp, 0o600);
      Deno.renameSync(tmp, path);
      const server = new Server(listener, path);
      server.#accept(handler, limits);
      return server;
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  }

  async #accept(handler: Handler, limits: ParserLimits): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#serve(conn, handler, limits).finally(() => {
          try {
            conn.close();
          } catch { /* already closed */ }
        });
      }
    } catch (e) {
      if (!this.#closed) throw e;
    }
  }

  async #serve(conn: Deno.UnixConn, handler: Handler, limits: ParserLimits): Promise<void> {
    const parser = new RequestParser(limits);
    const buf = new Uint8Array(64 * 1024);
    let chain: Promise<void> = Promise.resolve();
    let outstanding = 0;
    let done = false; // no more requests are read
    let broken = false; // no more replies can be written
    const respond = (reply: Promise<Reply>) => {
      outstanding++;
      chain = chain.then(async () => {
        const r = await reply;
        outstanding--;
        if (broken) return;
        await writeAll(conn, encodeReply(r));
        if (r.close) {
          done = broken = true;
          conn.close();
        }
      }).catch(() => {
        done = broken = true;
      });
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      while (!done) {
        timer = setTimeout(() => {
          if (!parser.midRequest || done) return;
          respond(
            Promise.resolve({ line: "ERROR Timed out in the middle of a request", close: true }),
          );
        }, MID_REQUEST_TIMEOUT_MS);
        const n = await conn.read(buf).catch(() => null);
        clearTimeout(timer);
        if (n === null) break;
        parser.push(buf.subarray(0, n));
        for (let req = parser.next(); req !== null; req = parser.next()) {
          const reply = handler(req);
          respond(reply);
          if (req.kind === "exit" || req.kind === "shutdown" || req.kind === "fatal") {
            done = true;
            break;
          }
        }
        if (outstanding >= MAX_OUTSTANDING) await chain;
      }
    } finally {
      clearTimeout(timer);
      await chain;
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
      Deno.removeSync(this.#path);
    } catch { /* gone */ }
  }
}

/** Line ends inside a reply line (an echoed value) would split it for the client. */
const LINE_BREAKS = /[\r\n\u2028\u2029]/g;

function encodeReply(reply: Reply): Uint8Array {
  const head = new TextEncoder().encode(`${reply.line.replace(LINE_BREAKS, " ")}\r\n`);
  if (!reply.payload) return head;
  const out = new Uint8Array(head.length + reply.payload.length);
  out.set(head);
  out.set(reply.payload, head.length);
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}
