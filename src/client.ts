/**
 * The client side of the protocol: a connection to a daemon that sends
 * requests and reads replies (lines and counted payloads).
 *
 * @module
 */

import { encodeBase64 } from "./base64.ts";

/** Raised when no daemon answers on the socket. */
export class NoDaemonError extends Error {
  /**
   * @param socket The socket nobody answered on.
   * @param cause Why connecting failed.
   * @param startCommand The command line that starts a daemon there, for the hint.
   */
  constructor(
    readonly socket: string,
    cause: unknown,
    readonly startCommand = "sjq daemon --detach",
  ) {
    super(`no sjq daemon at ${socket}`, { cause });
    this.name = "NoDaemonError";
  }
}

/** Raised when the daemon closes the connection before it has answered. */
export class DaemonClosedError extends Error {
  constructor(message = "the daemon closed the connection") {
    super(message);
    this.name = "DaemonClosedError";
  }
}

/**
 * Raised when the daemon answers `ERROR Unknown command: WORD`: a request our
 * daemon knows but this one does not, so probably an original SJQ daemon.
 */
export class UnsupportedError extends Error {
  constructor(readonly command: string) {
    super(`the daemon does not support ${command} (an original SJQ daemon?)`);
    this.name = "UnsupportedError";
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

/** Requests an original SJQ daemon does not know. */
const EXTENSIONS = new Set(["INFO", "WAIT", "HOLD", "CONFIG", "RELOAD", "SCRIPT"]);

/** The longest ENV line sent; the daemon refuses lines over 64 KiB. */
const MAX_ENV_LINE = 60 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Raised when a value cannot be put into a request as it is: it would change
 * the request's framing (a line break would start a new protocol line), or
 * the daemon would not read it back unchanged (white space around a value is
 * trimmed). Nothing has been sent.
 */
export class UnsendableError extends RangeError {
  /**
   * @param key The SUBMIT option (`NAME`, `CWD`…), `ENV` for an environment variable's name, or `request`.
   * @param value The value as given.
   * @param why What is wrong with it.
   */
  constructor(readonly key: string, readonly value: string, readonly why: string) {
    super(`Cannot send ${key} ${JSON.stringify(value)}: ${why}`);
    this.name = "UnsendableError";
  }
}

/** What ends a line for the daemon or for some reader of its replies: LF, CR, U+2028, U+2029. */
const LINE_BREAK = /[\n\r\u2028\u2029]/;
/** White space the daemon trims from either end of an option value. */
const EDGE_SPACE = /^\s|\s$/;

/**
 * Why an environment variable name cannot travel in an ENV line (it would
 * end its pair or its line early, or be trimmed), or null when it can.
 */
export function envNameProblem(name: string): string | null {
  if (name === "" || /[=;\0]/.test(name)) {
    return "an ENV name may not be empty or hold '=', ';' or NUL";
  }
  if (LINE_BREAK.test(name)) return "it holds a line break";
  if (/^\s/.test(name)) return "it starts with white space";
  return null;
}

/** Why a SUBMIT option value cannot be sent as it is, or null when it can. */
export function optionValueProblem(key: string, value: string): string | null {
  if (LINE_BREAK.test(value)) return "it holds a line break (newline, CR, U+2028 or U+2029)";
  // The daemon trims every value; for a name that is documented and harmless.
  if (key !== "NAME" && EDGE_SPACE.test(value)) return "it starts or ends with white space";
  return null;
}

/**
 * The bytes of a SUBMIT request. The environment goes on as many ENV lines
 * as it takes to keep each under the daemon's line limit; values are
 * base64-encoded, so any value survives. Option values and environment
 * names are sent as they are, so one that would change the request's
 * framing is refused.
 *
 * @throws {UnsendableError} When an option value or environment name cannot be sent as it is.
 * @throws {RangeError} When one environment variable is too large for an ENV line.
 */
export function encodeSubmit(s: Submission): Uint8Array {
  let head = "SUBMIT\r\n";
  for (const [k, v] of s.options) {
    const problem = optionValueProblem(k, v);
    if (problem !== null) throw new UnsendableError(k, v, problem);
    head += v === "" ? `${k}\r\n` : `${k} ${v}\r\n`;
  }
  let env = "";
  for (const [k, v] of Object.entries(s.env ?? {})) {
    const problem = envNameProblem(k);
    if (problem !== null) throw new UnsendableError("ENV", k, problem);
    const pair = `${k}=${encodeBase64(v)}`;
    if (pair.length > MAX_ENV_LINE) {
      throw new RangeError(
        `Environment variable ${k} is too large to send: ${v.length} characters`,
      );
    }
    if (env.length + pair.length + 1 > MAX_ENV_LINE) {
      head += `ENV ${env}\r\n`;
      env = "";
    }
    env += env === "" ? pair : `;${pair}`;
  }
  if (env !== "") head += `ENV ${env}\r\n`;
  head += `SRC ${s.script.length}\r\n`;
  const h = encoder.encode(head);
  const all = new Uint8Array(h.length + s.script.length);
  all.set(h);
  all.set(s.script, h.length);
  return all;
}

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
      // A daemon may be there, but the socket is another user's (docs/security.md).
      if (e instanceof Deno.errors.PermissionDenied) {
        throw new Error(`cannot connect to ${socket}: permission denied (the socket is not yours)`);
      }
      throw new NoDaemonError(socket, e);
    }
  }

  /** Sends raw bytes. */
  async send(bytes: Uint8Array): Promise<void> {
    for (let off = 0; off < bytes.length;) off += await this.#conn.write(bytes.subarray(off));
  }

  /**
   * Sends a one-line request and reads its reply.
   *
   * @throws {UnsendableError} When `line` holds a line break.
   */
  async request(line: string, counted = false): Promise<ClientReply> {
    if (LINE_BREAK.test(line)) throw new UnsendableError("request", line, "it holds a line break");
    await this.send(encoder.encode(`${line}\r\n`));
    return this.reply(counted, line);
  }

  /**
   * Reads one reply; with `counted`, an `OK n` line is followed by n payload
   * bytes. `request` names what was asked, for clearer errors: an original
   * daemon answers requests it does not know with ERROR or by closing.
   *
   * @throws {UnsupportedError} When the daemon does not know the request.
   * @throws {DaemonClosedError} When the daemon closes before answering.
   */
  async reply(counted = false, request = ""): Promise<ClientReply> {
    let line: string;
    try {
      line = await this.#line();
    } catch (e) {
      const word = request.split(" ")[0]!.toUpperCase();
      if (e instanceof DaemonClosedError && EXTENSIONS.has(word)) {
        throw new DaemonClosedError(
          `the daemon closed the connection after ${word} (an original SJQ daemon does not support it)`,
        );
      }
      throw e;
    }
    const ok = line.startsWith("OK");
    const text = line.replace(/^(OK|ERROR) ?/, "");
    const unknown = /^Unknown command: (\S+)/i.exec(text);
    if (!ok && unknown) throw new UnsupportedError(unknown[1]!.toUpperCase());
    if (!ok || !counted) return { ok, text };
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new Error(`unexpected reply from the daemon: ${line}`);
    }
    return { ok, text, payload: await this.#bytes(n) };
  }

  /** Sends a SUBMIT (without waiting for its reply); see {@linkcode encodeSubmit}. */
  async sendSubmit(s: Submission): Promise<void> {
    await this.send(encodeSubmit(s));
  }

  async #fill(): Promise<void> {
    const chunk = new Uint8Array(256 * 1024);
    const n = await this.#conn.read(chunk);
    if (n === null) throw new DaemonClosedError();
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
    if (this.#buf.length >= n) {
      const out = this.#buf.slice(0, n);
      this.#buf = this.#buf.subarray(n);
      return out;
    }
    // Read straight into the payload: appending chunk by chunk would copy megabytes over and over.
    const out = new Uint8Array(n);
    out.set(this.#buf);
    let have = this.#buf.length;
    this.#buf = new Uint8Array(0);
    while (have < n) {
      const got = await this.#conn.read(out.subarray(have));
      if (got === null) throw new DaemonClosedError();
      have += got;
    }
    return out;
  }

  [Symbol.dispose](): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}
