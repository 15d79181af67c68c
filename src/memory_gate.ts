/**
 * Memory that is really there: the adapter between /proc/meminfo and the
 * scheduler's passes (src/scheduler.ts `MemoryRoom`). Before a pass with
 * queued jobs it reads MemAvailable, so that no job starts while the
 * machine lacks what it declares plus `sjq.memmargin`, whatever else runs
 * on it. While a job waits for memory, a pass is made every second:
 * memory frees without any event of sjq's. Jobs of the Slurm backend run
 * elsewhere: no gate.
 *
 * @module
 */

import type { Config } from "./config.ts";
import type { MemoryRoom, MemoryShort } from "./scheduler.ts";
import { formatSize } from "./size.ts";

/** How soon a pass is made again while a job waits for memory. */
const RECHECK_MS = 1000;
/** How long one reading of MemAvailable serves the passes that follow. */
const READING_MS = 100;

/** MemAvailable of /proc/meminfo in bytes, or null where it cannot be read. */
export function memAvailable(meminfo = "/proc/meminfo"): number | null {
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(Deno.readTextFileSync(meminfo));
    return m === null ? null : Number(m[1]) * 1024;
  } catch {
    return null;
  }
}

/** MemTotal of /proc/meminfo in bytes, or null where it cannot be read (read once). */
export function memTotal(): number | null {
  if (_memTotal === undefined) {
    try {
      const m = /^MemTotal:\s+(\d+) kB$/m.exec(Deno.readTextFileSync("/proc/meminfo"));
      _memTotal = m === null ? null : Number(m[1]) * 1024;
    } catch {
      _memTotal = null;
    }
  }
  return _memTotal;
}
let _memTotal: number | null | undefined;

/** The memory check of one daemon's scheduling passes. */
export class MemoryGate {
  readonly #config: Readonly<Config>;
  readonly #log: { info(message: string): void };
  readonly #pass: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #logged = new Set<number>();
  /** The last reading of MemAvailable, and when it was read. */
  #reading: { available: number; at: number } | null = null;

  /** `pass` makes a scheduling pass (a tick of its own). */
  constructor(config: Readonly<Config>, log: { info(message: string): void }, pass: () => void) {
    this.#config = config;
    this.#log = log;
    this.#pass = pass;
  }

  /**
   * The room for a pass, or null for none (no gate: Slurm, or no
   * MemAvailable to read). A reading serves the passes of the next
   * READING_MS: a busy queue does not read /proc/meminfo at every tick.
   * (Jobs started meanwhile are not taken off it: a reading made just
   * after their start would not show them either, they have not
   * allocated yet; each pass takes off what it starts itself.)
   */
  room(): MemoryRoom | null {
    if (this.#config.backend !== "local") return null;
    const now = performance.now();
    if (this.#reading === null || now - this.#reading.at >= READING_MS) {
      const available = memAvailable();
      this.#reading = available === null ? null : { available, at: now };
    }
    if (this.#reading === null) return null;
    return { available: this.#reading.available, margin: this.#config.memmargin };
  }

  /**
   * After a pass: logs the jobs it started short of memory and those it
   * first held back, and makes another pass soon while any is held back.
   */
  passed(short: MemoryShort, margin: number): void {
    for (const id of short.forced) {
      this.#log.info(
        `job ${id} starts although MemAvailable is short of what it declares (+ ${
          formatSize(margin)
        } margin): no other job runs, waiting would free nothing`,
      );
    }
    for (const [id, available] of short.waiting) {
      if (this.#logged.has(id)) continue;
      this.#log.info(`job ${id} waits for memory: MemAvailable ${formatSize(available)}`);
    }
    this.#logged = new Set(short.waiting.keys());
    if (short.waiting.size === 0 || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pass();
    }, RECHECK_MS);
  }

  /** Stops the timer (the daemon stops). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
