/**
 * What the daemon's local executor (src/local_executor.ts) and its shepherd
 * (src/shepherd.ts) say to each other over `<spool>/shepherd.sock`: one
 * JSON object per line, both ways. The shepherd's journal holds the same
 * kind of lines.
 *
 * @module
 */

import type { Outcome, Usage } from "./executor.ts";
import { concatBytes } from "./bytes.ts";

/** A job to run, as the local executor hands it over. */
export interface StartMessage {
  t: "start";
  id: number;
  /** The script as text, or `scriptBase64` when it is not valid UTF-8. */
  script?: string;
  scriptBase64?: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  stdout: string;
  stderr: string;
  /** Lookahead: start it when one of the shepherd's jobs ends (src/executor.ts `Launch.ahead`). */
  ahead?: boolean;
  /** `sjq.enforce = memory`: the job runs in a cgroup with this `memory.max` (src/memory_cgroup.ts). */
  memMax?: number;
}

/** Daemon → shepherd. */
export type ToShepherd =
  | StartMessage
  | { t: "kill"; id: number; signal: number }
  | { t: "forget"; id: number }
  /** A lookahead job it holds has a slot (one freed elsewhere): start it now. */
  | { t: "go"; id: number }
  /**
   * A job of a shepherd that died, reaped by the daemon (its subreaper,
   * src/orphan_reaper.ts): journaled as the job's end.
   */
  | { t: "adopted"; id: number; at: number; outcome: Outcome; usage: Usage | null }
  /** Whether a job's escaped descendants are ended with it (`sjq.contain`). */
  | { t: "config"; contain: boolean };

/** Shepherd → daemon (and, but `hello`/`ready`, the shepherd's knowledge of each job). */
export type FromShepherd =
  /** First line on a connection: whether the machine restarted since the journal was written. */
  | { t: "hello"; rebooted: boolean }
  /** `ticks`: the process's start time (/proc stat field 22), to recognise it later. */
  | { t: "running"; id: number; pid: number; at: number; ticks?: string }
  | { t: "ended"; id: number; at: number; outcome: Outcome; usage: Usage | null }
  /**
   * `pid`/`ticks`: the process that was lost, when there was one (the daemon
   * may have reaped it); `spawning`: when a shepherd that died began to spawn
   * it, its pid unknown (the daemon may find it among its children).
   */
  | {
    t: "lost";
    id: number;
    at: number;
    reason: string;
    pid?: number;
    ticks?: string;
    spawning?: number;
  }
  /** The end of the snapshot sent after `hello`: every job the shepherd knows has been named. */
  | { t: "ready" };

const encoder = new TextEncoder();

/** One message as a line of bytes. */
export function encodeLine(
  message: ToShepherd | FromShepherd | Record<string, unknown>,
): Uint8Array {
  return encoder.encode(`${JSON.stringify(message)}\n`);
}

/** Splits a byte stream into JSON lines; a partial last line waits for the next chunk. */
export class LineReader<T> {
  #buf = "";
  readonly #decoder = new TextDecoder();

  /** The complete messages in `chunk` (with what was left over before); bad lines are skipped. */
  push(chunk: Uint8Array): T[] {
    this.#buf += this.#decoder.decode(chunk, { stream: true });
    const out: T[] = [];
    let nl = this.#buf.indexOf("\n");
    while (nl >= 0) {
      const line = this.#buf.slice(0, nl);
      this.#buf = this.#buf.slice(nl + 1);
      if (line !== "") {
        try {
          out.push(JSON.parse(line) as T);
        } catch { /* a torn line from a crash: nothing was acted on */ }
      }
      nl = this.#buf.indexOf("\n");
    }
    return out;
  }
}

/**
 * Writes lines to whichever connection `current` returns, in order; what
 * queues while a write is under way goes out with the next write. A write
 * to a connection that is no longer current stops, and what is left goes to
 * the new one.
 */
export class LineWriter {
  readonly #current: () => Deno.UnixConn | null;
  #out: Uint8Array[] = [];
  #writing = false;
  /** A write is due at the end of this turn of the event loop. */
  #queued = false;

  constructor(current: () => Deno.UnixConn | null) {
    this.#current = current;
  }

  /** Whether anything is queued or being written. */
  get busy(): boolean {
    return this.#writing || this.#queued || this.#out.length > 0;
  }

  /**
   * Queues a line. Lines queued in one turn of the event loop go out in one
   * write, at the end of that turn (a microtask), unless a write is under
   * way (then with the next) or there is no connection.
   */
  send(line: Uint8Array): void {
    this.#out.push(line);
    if (this.#writing || this.#queued) return;
    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      const conn = this.#current();
      if (!this.#writing && conn !== null && this.#out.length > 0) void this.#drain(conn);
    });
  }

  /** Drops what is queued and not yet being written. */
  clear(): void {
    this.#out = [];
  }

  async #drain(conn: Deno.UnixConn): Promise<void> {
    this.#writing = true;
    try {
      while (this.#out.length > 0 && this.#current() === conn) {
        const chunks = this.#out;
        this.#out = [];
        const bytes = chunks.length === 1 ? chunks[0]! : concatBytes(chunks);
        let off = 0;
        while (off < bytes.length) off += await conn.write(bytes.subarray(off));
      }
    } catch { /* the peer went away: its owner reconnects or waits for a new one */ }
    this.#writing = false;
    const next = this.#current();
    if (this.#out.length > 0 && next !== null && next !== conn) void this.#drain(next);
  }
}
