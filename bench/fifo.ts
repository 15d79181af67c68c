/**
 * A named pipe that jobs write one line to (`echo "s $ID" >FIFO`, a shell
 * builtin and one open, no fork) and that the benchmark timestamps on
 * arrival. Every latency is then a difference of two readings of one clock,
 * `performance.now()` in the driver.
 *
 * @module
 */

import { run } from "./proc.ts";

/** A line a job wrote and when the driver read it. */
export interface Event {
  text: string;
  at: number;
}

/** A FIFO read for as long as it is open. */
export class FifoClock implements AsyncDisposable {
  readonly path: string;
  readonly #file: Deno.FsFile;
  readonly #events: Event[] = [];
  readonly #waiters: ((e: Event) => void)[] = [];
  readonly #reading: Promise<void>;
  #closed = false;

  private constructor(path: string, file: Deno.FsFile) {
    this.path = path;
    this.#file = file;
    this.#reading = this.#read();
  }

  /** Makes a FIFO at `path` and starts reading it. */
  static async open(path: string): Promise<FifoClock> {
    await run("mkfifo", [path]);
    // Opened for writing too, so that the pipe never reports end-of-file
    // between two writers, and so that close can wake the pending read.
    return new FifoClock(path, await Deno.open(path, { read: true, write: true }));
  }

  async #read(): Promise<void> {
    const buf = new Uint8Array(65536);
    const dec = new TextDecoder();
    let partial = "";
    while (!this.#closed) {
      const n = await this.#file.read(buf);
      const at = performance.now();
      if (n === null) return;
      const lines = (partial + dec.decode(buf.subarray(0, n), { stream: true })).split("\n");
      partial = lines.pop()!;
      for (const text of lines) {
        if (this.#closed) return;
        const e = { text, at };
        const w = this.#waiters.shift();
        if (w) w(e);
        else this.#events.push(e);
      }
    }
  }

  /** The next line written, in order. */
  next(): Promise<Event> {
    const e = this.#events.shift();
    if (e) return Promise.resolve(e);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The next line, which must be `expected`. */
  async expect(expected: string): Promise<number> {
    const e = await this.next();
    if (e.text !== expected) {
      throw new Error(`Expected "${expected}" on ${this.path}, got "${e.text}"`);
    }
    return e.at;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#closed = true;
    await this.#file.write(new TextEncoder().encode("\n"));
    await this.#reading;
    this.#file.close();
  }
}
