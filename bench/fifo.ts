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

import { deadline, run } from "./proc.ts";

/** A line a job wrote and when the driver read it. */
interface _Event {
  text: string;
  at: number;
}

/** A FIFO read for as long as it is open. */
export class FifoClock implements AsyncDisposable {
  readonly path: string;
  readonly #file: Deno.FsFile;
  readonly #events: _Event[] = [];
  readonly #waiters: ((e: _Event) => void)[] = [];
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

  #next(): Promise<_Event> {
    const e = this.#events.shift();
    if (e) return Promise.resolve(e);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The next line, which must be `expected` and come within a minute. */
  async expect(expected: string): Promise<number> {
    const e = await deadline(this.#next(), 60_000, `No "${expected}" on ${this.path} within 60 s`);
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

/**
 * A FIFO that a job blocks on (`read _ <GATE`) until {@linkcode FifoGate.release}
 * writes it a line. The driver keeps the FIFO open for reading and writing, so
 * a job opening it never sees end-of-file and a release never waits: a line
 * written before the job arrives waits in the pipe for it. (The shell's `read`
 * takes one byte at a time, so a job never takes the next job's line.)
 */
export class FifoGate implements Disposable {
  private constructor(readonly path: string, readonly file: Deno.FsFile) {}

  /** Makes a FIFO at `path` and holds it open. */
  static async make(path: string): Promise<FifoGate> {
    await run("mkfifo", [path]);
    return new FifoGate(path, await Deno.open(path, { read: true, write: true }));
  }

  /** Lets the job waiting at the gate, or the next to arrive, through. */
  async release(): Promise<void> {
    await this.file.write(new TextEncoder().encode("go\n"));
  }

  [Symbol.dispose](): void {
    this.file.close();
  }
}
