/**
 * Named queues (`sjq submit --queue NAME`, pueue's groups, Slurm's
 * partitions): their own CPU and memory limits, from the rc file's
 * `[sjq.queue.NAME]` sections (or dotted `sjq.queue.NAME.maxprocs` keys).
 * A job submitted without a queue goes to `sjq.defaults.queue`, which
 * always exists; any other name must be configured.
 *
 * @module
 */

import { parseSize } from "./size.ts";

/** The limits of one queue; null fields are not limited (the machine's limits still apply). */
export interface QueueLimits {
  /** `sjq.queue.NAME.maxprocs`: CPUs the queue's running jobs may hold together. */
  maxprocs: number | null;
  /** `sjq.queue.NAME.maxmem`: memory the queue's running jobs may hold together. */
  maxmem: number | null;
  /** `sjq.queue.NAME.partition`: the Slurm partition of its jobs (default: the queue's name). */
  partition: string | null;
}

/** The keys a queue section may hold. */
export const QUEUE_KEYS = ["maxprocs", "maxmem", "partition"] as const;

/** A queue's name: lower case (rc keys are), letters, digits, `_` and `-`. */
export const QUEUE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** The queue keys of an rc entry: `sjq.queue.NAME.KEY`, or null for another key. */
export function queueKey(key: string): { queue: string; field: string } | null {
  const m = /^sjq\.queue\.([^.]+)\.([^.]+)$/.exec(key);
  return m === null ? null : { queue: m[1]!, field: m[2]! };
}

/**
 * The configured queues from the rc file's `sjq.queue.NAME.KEY` entries.
 * `place` names an entry in messages; problems are thrown as `fail(message)`.
 * Unknown keys of a queue section come back as warnings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseQueues } from "./queue_config.ts";
 *
 * const { queues } = parseQueues(
 *   [{ key: "sjq.queue.gpu.maxprocs", value: "2", line: 3 }],
 *   (line) => `sjqrc:${line}`,
 *   (message) => new Error(message),
 * );
 * assert.deepEqual(queues, { gpu: { maxprocs: 2, maxmem: null, partition: null } });
 * ```
 */
export function parseQueues(
  entries: readonly { key: string; value: string; line: number }[],
  place: (line: number) => string,
  fail: (message: string) => Error,
): { queues: Record<string, QueueLimits>; warnings: string[] } {
  const queues: Record<string, QueueLimits> = {};
  const warnings: string[] = [];
  for (const entry of entries) {
    const key = queueKey(entry.key);
    if (key === null) continue;
    const where = place(entry.line);
    if (!QUEUE_NAME.test(key.queue)) {
      throw fail(
        `Invalid queue name "${key.queue}" in ${where}: expected letters, digits, _ and -`,
      );
    }
    const limits = queues[key.queue] ??= { maxprocs: null, maxmem: null, partition: null };
    const text = entry.value.trim();
    const invalid = (expected: string) =>
      fail(`Invalid value "${entry.value}" for ${entry.key} in ${where}: expected ${expected}`);
    switch (key.field) {
      case "maxprocs":
        if (text === "") limits.maxprocs = null;
        else if (!/^\d+$/.test(text) || Number(text) < 1) throw invalid("a whole number ≥ 1");
        else limits.maxprocs = Number(text);
        break;
      case "maxmem": {
        if (text === "") {
          limits.maxmem = null;
          break;
        }
        let bytes: number;
        try {
          bytes = parseSize(text);
        } catch {
          throw invalid("a size such as 512M, 2G or 1.5T");
        }
        if (bytes === 0) throw invalid("a size above 0");
        limits.maxmem = bytes;
        break;
      }
      case "partition":
        if (/\s/.test(text)) throw invalid("a Slurm partition name");
        limits.partition = text === "" ? null : text;
        break;
      default:
        warnings.push(
          `Unknown queue key "${entry.key}" in ${where} (ignored; a queue has ${
            QUEUE_KEYS.join(", ")
          })`,
        );
    }
  }
  return { queues, warnings };
}

/**
 * The CONFIG rows of the queues (`sjq config`): one per key of each queue,
 * sorted by queue name, values as the rc file writes them.
 */
export function queueSettings(
  queues: Readonly<Record<string, QueueLimits>>,
  formatSize: (bytes: number) => string,
): { key: string; value: string }[] {
  const rows: { key: string; value: string }[] = [];
  for (const name of Object.keys(queues).sort()) {
    const q = queues[name]!;
    rows.push({ key: `sjq.queue.${name}.maxprocs`, value: q.maxprocs?.toString() ?? "" });
    rows.push({
      key: `sjq.queue.${name}.maxmem`,
      value: q.maxmem === null ? "" : formatSize(q.maxmem),
    });
    rows.push({ key: `sjq.queue.${name}.partition`, value: q.partition ?? "" });
  }
  return rows;
}

/**
 * The limits of queue `name`, or null when no such queue exists: the
 * default queue (`sjq.defaults.queue`) always does, unlimited unless it has
 * a section; others exist when configured.
 */
export function queueLimits(
  config: { readonly defaultQueue: string; readonly queues: Readonly<Record<string, QueueLimits>> },
  name: string,
): QueueLimits | null {
  const limits = Object.hasOwn(config.queues, name) ? config.queues[name]! : undefined;
  if (limits !== undefined) return limits;
  return name === config.defaultQueue ? { maxprocs: null, maxmem: null, partition: null } : null;
}

/**
 * Why a job of `procs` CPUs and `mem` bytes cannot go to queue `name`: an
 * unknown queue (with the Slurm backend any name is a partition, and
 * accepted), or a size its limits can never hold. Empty when it can.
 */
export function queueRefusals(
  config: {
    readonly defaultQueue: string;
    readonly queues: Readonly<Record<string, QueueLimits>>;
    readonly backend: string;
  },
  name: string,
  procs: number,
  mem: number,
  formatSize: (bytes: number) => string,
): string[] {
  const limits = queueLimits(config, name);
  if (limits === null) {
    if (config.backend === "slurm") return [];
    const known = [...new Set([config.defaultQueue, ...Object.keys(config.queues)])].sort();
    return [
      `Unknown queue "${name}" (queues: ${known.join(", ")}); ` +
      `a queue is configured by a [sjq.queue.${name}] section in the rc file`,
    ];
  }
  const over: string[] = [];
  if (limits.maxprocs !== null && procs > limits.maxprocs) {
    over.push(`PROCS ${procs} is more than sjq.queue.${name}.maxprocs (${limits.maxprocs})`);
  }
  if (limits.maxmem !== null && mem > limits.maxmem) {
    over.push(
      `MEM ${formatSize(mem)} is more than sjq.queue.${name}.maxmem (${formatSize(limits.maxmem)})`,
    );
  }
  return over;
}
