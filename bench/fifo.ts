/**
 * Named pipes between the driver and its jobs, used from the shell with
 * builtins only (no fork): a clock that jobs write one line to
 * (`echo s7 >FIFO`) and that the driver timestamps on arrival, so that every
 * latency is a difference of two readings of one clock, `performance.now()`
 * in the driver; and a gate that jobs wait at (`read _ <GATE`) until the
 * driver lets one through.
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
    // between two writers.
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
    // A write through a second descriptor wakes the pending read (the file
    // itself is busy with that read until it returns).
    using waker = await Deno.open(this.path, { write: true });
    await waker.write(new TextEncoder().encode("\n"));
    await this.#reading;
    this.#file.close();
  }
}

/** A FIFO that a job blocks on (`read _ <GATE`) until {@linkcode FifoGate.release}. */
export class FifoGate {
  private constructor(readonly path: string) {}

  /** Makes a FIFO at `path`. */
  static async make(path: string): Promise<FifoGate> {
    await run("mkfifo", [path]);
    return new FifoGate(path);
  }

  /** Lets the job waiting at the gate (or the next to arrive) through. */
  async release(): Promise<void> {
    // Opening for writing waits for the job to open for reading.
    using f = await Deno.open(this.path, { write: true });
    await f.write(new TextEncoder().encode("go\n"));
  }
}
