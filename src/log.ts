/**
 * The daemon's log: one timestamped line per event, appended to the log file
 * or written to stderr. Environment values are never logged.
 *
 * @module
 */

/** Writes timestamped event lines. */
export class Logger {
  readonly #file: Deno.FsFile | null;
  readonly #encoder = new TextEncoder();

  /** Logs to `path` (appending, created with mode 0600), or to stderr when null. */
  constructor(path: string | null) {
    this.#file = path === null
      ? null
      : Deno.openSync(path, { append: true, create: true, mode: 0o600 });
    // A log names jobs, paths and errors: owner-only, also when an older one was not.
    if (this.#file?.statSync().isFile) Deno.chmodSync(path!, 0o600);
  }

  /** Logs one event. */
  info(message: string): void {
    this.#write("info", message);
  }

  /** Logs a problem. */
  error(message: string): void {
    this.#write("error", message);
  }

  #write(level: string, message: string): void {
    const line = this.#encoder.encode(`${new Date().toISOString()} ${level} ${message}\n`);
    try {
      const out = this.#file ?? Deno.stderr;
      // A write may take part of the line (a full pipe): the rest follows.
      for (let off = 0; off < line.length;) off += out.writeSync(line.subarray(off));
    } catch { /* a log that cannot be written must not stop the daemon */ }
  }

  /** Closes the log file. */
  close(): void {
    this.#file?.close();
  }
}
