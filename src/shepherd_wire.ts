/**
 * What the daemon's local executor (src/local_executor.ts) and its shepherd
 * (src/shepherd.ts) say to each other over `<spool>/shepherd.sock`: one
 * JSON object per line, both ways. The shepherd's journal holds the same
 * kind of lines.
 *
 * @module
 */

import type { Outcome, Usage } from "./executor.ts";

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
}

/** Daemon → shepherd. */
export type ToShepherd =
  | StartMessage
  | { t: "kill"; id: number; signal: number }
  | { t: "forget"; id: number }
  /** Whether a job's escaped descendants are ended with it (`sjq.contain`). */
  | { t: "config"; contain: boolean };

/** Shepherd → daemon (and, but `hello`/`ready`, the shepherd's knowledge of each job). */
export type FromShepherd =
  /** First line on a connection: whether the machine restarted since the journal was written. */
  | { t: "hello"; rebooted: boolean }
  | { t: "running"; id: number; pid: number; at: number }
  | { t: "ended"; id: number; at: number; outcome: Outcome; usage: Usage | null }
  | { t: "lost"; id: number; at: number; reason: string }
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
