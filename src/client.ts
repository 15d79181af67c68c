/**
 * The client side of the protocol: a connection to a daemon that sends
 * requests and reads replies (lines and counted payloads).
 *
 * @module
 */

import { encodeBase64 } from "./protocol.ts";

/** Raised when no daemon answers on the socket. */
export class NoDaemonError extends Error {
  constructor(readonly socket: string, cause: unknown) {
    super(`no sjq daemon at ${socket}`, { cause });
    this.name = "NoDaemonError";
  }
}

/** A reply: `ok`, the text after `OK `/`ERROR `, and the payload of counted replies. */
export interface ClientReply {
  ok: boolean;
  text: string;
  payload?: Uint8Array;
}

/** What `submit` sends; fields map to SUBMIT options. */
export interface Submission {
  script: Uint8Array;
  options: [string, string][];
  env?: Record<string, string>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One connection to a daemon. */
export class Client implements Disposable {
  readonly #conn: Deno.UnixConn;
  #buf = new Uint8Array(0);

  private constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
  }

  /** Connects to the daemon at `socket`; throws `NoDaemonError` when none answers there. */
  static async connect(socket: string): Promise<Client> {
    try {
      return new Client(await Deno.connect({ transport: "unix", path: socket }));
    } catch (e) {
      throw new NoDaemonError(socket, e);
    }
  }

  /** Sends raw bytes. */
  async send(bytes: Uint8Array): Promise<void> {
    for (let off = 0; off < bytes.length;) off += await this.#conn.write(bytes.subarray(off));
  }

  /** Sends a one-line request and reads its reply. */
  async request(line: string, counted = false): Promise<ClientReply> {
    await this.send(encoder.encode(`${line}\r\n`));
    return this.reply(counted);
  }

  /** Reads one reply; with `counted`, an `OK n` line is followed by n payload bytes. */
  async reply(counted = false): Promise<ClientReply> {
    const line = await this.#line();
    const ok = line.startsWith("OK");
    const text = line.replace(/^(OK|ERROR) ?/, "");
    if (!ok || !counted) return { ok, text };
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`Unexpected reply from the daemon: ${line}`);
    return { ok, text, payload: await this.#bytes(n) };
  }

  /** Sends a SUBMIT (without waiting for its reply). */
  async sendSubmit(s: Submission): Promise<void> {
    let head = "SUBMIT\r\n";
    for (const [k, v] of s.options) head += `${k} ${v}\r\n`;
    if (s.env && Object.keys(s.env).length > 0) {
      const pairs = Object.entries(s.env).map(([k, v]) => `${k}=${encodeBase64(v)}`);
      head += `ENV ${pairs.join(";")}\r\n`;
    }
    head += `SRC ${s.script.length}\r\n`;
    const h = encoder.encode(head);
    const all = new Uint8Array(h.length + s.script.length);
    all.set(h);
    all.set(s.script, h.length);
    await this.send(all);
  }

  async #fill(): Promise<void> {
    const chunk = new Uint8Array(256 * 1024);
    const n = await this.#conn.read(chunk);
    if (n === null) throw new Error("The daemon closed the connection");
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
  }

  async #line(): Promise<string> {
    for (;;) {
      const i = this.#buf.indexOf(10);
      if (i >= 0) {
        const line = decoder.decode(this.#buf.subarray(0, i)).replace(/\r$/, "");
        this.#buf = this.#buf.subarray(i + 1);
        return line;
      }
      await this.#fill();
    }
  }

  async #bytes(n: number): Promise<Uint8Array> {
    while (this.#buf.length < n) await this.#fill();
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  [Symbol.dispose](): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}
