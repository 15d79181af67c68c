/**
 * Flushes SQLite's write-ahead log to disk off the main thread.
 *
 * The store runs SQLite with `synchronous=NORMAL`: a commit appends to the
 * WAL without waiting for the disk (microseconds instead of a millisecond).
 * Durability comes from here: `flush()` resolves once an fdatasync of the
 * WAL file that started after the call has finished, so everything committed
 * before the call is on disk. Calls made while a flush runs share the next
 * one: one fsync for all the commits of that moment.
 *
 * @module
 */

/** fdatasync of one file, coalescing concurrent requests. */
export class WalSync implements Disposable {
  readonly #file: Deno.FsFile;
  #running = false;
  #queued: PromiseWithResolvers<void> | null = null;

  /** Opens the WAL file at `path` (it must exist: SQLite creates it with the first table). */
  constructor(path: string) {
    this.#file = Deno.openSync(path, { read: true, write: true });
  }

  /** Resolves when everything written to the file before this call is on disk. */
  flush(): Promise<void> {
    if (!this.#running) return this.#start();
    this.#queued ??= Promise.withResolvers<void>();
    return this.#queued.promise;
  }

  #start(): Promise<void> {
    this.#running = true;
    const done = this.#file.syncData();
    done.finally(() => {
      this.#running = false;
      const queued = this.#queued;
      this.#queued = null;
      if (queued) this.#start().then(queued.resolve, queued.reject);
    }).catch(() => {});
    return done;
  }

  [Symbol.dispose](): void {
    this.#file.close();
  }
}
