/**
 * GPUs as a resource: the devices of `sjq.gpus` (a count or a list of
 * device ids, detected with `nvidia-smi -L` when not set), and what a job
 * that holds some of them runs with. The scheduler hands them out
 * (src/scheduler.ts); this file only reads and writes their names.
 *
 * @module
 */

/** How a device id may be written: an index, a UUID (`GPU-…`, `MIG-…`), a name without commas or spaces. */
const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/;

/**
 * The devices of a `sjq.gpus` value: a whole number N means devices `0`…`N-1`
 * (`0`: none); a comma list names them (`0,1,3`, `GPU-8f3c…,GPU-1a2b…`; a
 * single numeric id is written with a trailing comma, `3,`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGpus } from "./gpus.ts";
 *
 * assert.deepEqual(parseGpus("2"), ["0", "1"]);
 * assert.deepEqual(parseGpus("0,1,3"), ["0", "1", "3"]);
 * assert.deepEqual(parseGpus("3,"), ["3"]);
 * assert.deepEqual(parseGpus("0"), []);
 * ```
 *
 * @throws {SyntaxError} When it is neither, or names a device twice.
 */
export function parseGpus(text: string): string[] {
  const value = text.trim();
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n > 4096) {
      throw new SyntaxError(`Cannot parse GPUs "${text}": too many devices`);
    }
    return Array.from({ length: n }, (_, i) => String(i));
  }
  const ids = value.split(",").map((s) => s.trim());
  if (ids.length > 1 && ids.at(-1) === "") ids.pop();
  const seen = new Set<string>();
  for (const id of ids) {
    if (!DEVICE_ID.test(id)) {
      throw new SyntaxError(`Cannot parse GPUs "${text}": bad device id "${id}"`);
    }
    if (seen.has(id)) throw new SyntaxError(`Cannot parse GPUs "${text}": "${id}" named twice`);
    seen.add(id);
  }
  return ids;
}

/**
 * The GPUs of an `nvidia-smi -L` listing, by UUID (what `CUDA_VISIBLE_DEVICES`
 * takes whatever the CUDA device order; the index where a line has no UUID).
 * Only whole GPUs (`GPU n: …` lines), not their MIG instances.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNvidiaSmi } from "./gpus.ts";
 *
 * const listing = "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-5f3c0a1e-aaaa)\n" +
 *   "GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-77d2b9c4-bbbb)\n";
 * assert.deepEqual(parseNvidiaSmi(listing), ["GPU-5f3c0a1e-aaaa", "GPU-77d2b9c4-bbbb"]);
 * ```
 */
export function parseNvidiaSmi(listing: string): string[] {
  const ids: string[] = [];
  for (const line of listing.split("\n")) {
    const m = /^GPU (\d+):.*?(?:\(UUID: ([^)\s]+)\))?\s*$/.exec(line.trim());
    if (m === null) continue;
    const id = m[2] ?? m[1]!;
    if (DEVICE_ID.test(id) && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

/**
 * The GPUs of this machine as `nvidia-smi -L` lists them; none when the
 * command is not installed or fails. The default of `sjq.gpus`, read by a
 * daemon when it starts (and reloads), never by clients.
 */
export function detectGpus(): string[] {
  try {
    const { success, stdout } = new Deno.Command("nvidia-smi", {
      args: ["-L"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    return success ? parseNvidiaSmi(new TextDecoder().decode(stdout)) : [];
  } catch {
    return [];
  }
}

/**
 * What a job holding GPUs runs with: exactly its devices in
 * `CUDA_VISIBLE_DEVICES` and `SJQ_GPUS` (comma lists). A job without GPUs
 * gets neither set by sjq (as Slurm leaves them to the job's environment
 * when no GPU is requested).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gpuEnvironment } from "./gpus.ts";
 *
 * assert.deepEqual(gpuEnvironment({ gpus: 2, gpuIds: ["0", "3"] }), {
 *   CUDA_VISIBLE_DEVICES: "0,3",
 *   SJQ_GPUS: "0,3",
 * });
 * assert.deepEqual(gpuEnvironment({}), {});
 * ```
 */
export function gpuEnvironment(
  job: { gpus?: number; gpuIds?: readonly string[] },
): Record<string, string> {
  if (!job.gpus) return {};
  const list = (job.gpuIds ?? []).join(",");
  return { CUDA_VISIBLE_DEVICES: list, SJQ_GPUS: list };
}

/** Why a job needing `gpus` GPUs can never start on `devices`, or null. */
export function gpuRefusal(gpus: number, devices: readonly string[]): string | null {
  if (gpus <= devices.length) return null;
  return `GPUS ${gpus} is more than sjq.gpus (${devices.length} device${
    devices.length === 1 ? "" : "s"
  })`;
}
