/**
 * STATUS and INFO replies, built from a snapshot of the store in slices of
 * a few milliseconds: a listing of 100,000 jobs takes a while, but never
 * holds the event loop for longer than a slice, so every other client is
 * answered meanwhile. The payload is kept in chunks that the server writes
 * as the client takes them. A listing whose client has gone (its `gone`
 * signal aborted) stops at the next slice.
 *
 * @module
 */

import type { Reply } from "./reply.ts";
import { jobInfo } from "./info.ts";
import type { Store } from "./store.ts";

/** The longest the listing works before it lets the event loop run. */
const SLICE_MS = 3;
/** Text gathered before it is encoded into a payload chunk. */
const CHUNK_CHARS = 64 * 1024;
/** Rows between two looks at the clock. */
const ROWS_PER_CHECK = 32;

const encoder = new TextEncoder();

/**
 * `STATUS [id]`: the protocol's job table, one `ID\tNAME\tSTATE\tDEPS\r\n`
 * line per job (every job, or those from `id` to `last`).
 */
export function statusListing(
  store: Store,
  id: number | null,
  last = id,
  gone?: AbortSignal,
): Promise<Reply> {
  if (gone?.aborted) return Promise.resolve(DROPPED);
  const snapshot = store.snapshot();
  return counted(
    (function* () {
      for (const [jobId, name, state, deps] of snapshot.statusRows(id, last)) {
        yield `${jobId}\t${name}\t${state}\t${deps}\r\n`;
      }
    })(),
    snapshot,
    gone,
  );
}

/** `INFO [id]`: every field of the jobs (all, or from `id` to `last`) but their environment, as one JSON array. */
export function infoListing(
  store: Store,
  id: number | null,
  last = id,
  gone?: AbortSignal,
  memoryWaits: ReadonlyMap<number, number> = new Map(),
): Promise<Reply> {
  if (gone?.aborted) return Promise.resolve(DROPPED);
  const snapshot = store.snapshot();
  // A copy: the listing is built in slices, while passes go on.
  const waits = new Map(memoryWaits);
  return counted(
    (function* () {
      let first = true;
      yield "[";
      const attempts = snapshot.attempts(id, last);
      for (const job of snapshot.records(id, last)) {
        const info = jobInfo(job, attempts.get(job.id), waits.get(job.id) ?? null);
        yield `${first ? "" : ","}${JSON.stringify(info)}`;
        first = false;
      }
      yield "]";
    })(),
    snapshot,
    gone,
  );
}

/** The reply of a listing given up because its client has gone (nobody reads it). */
const DROPPED: Reply = { line: "ERROR The client has gone" };

/**
 * A counted reply of the text `pieces` make, gathered in slices; `source`
 * (the snapshot they are read from) is disposed of once they are all read,
 * or once `gone` is aborted.
 */
async function counted(
  pieces: Iterator<string>,
  source: Disposable,
  gone?: AbortSignal,
): Promise<Reply> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let text = "";
  try {
    let sliceStart = performance.now();
    for (let n = 1;; n++) {
      const next = pieces.next();
      if (next.done) break;
      text += next.value;
      if (text.length >= CHUNK_CHARS) {
        const chunk = encoder.encode(text);
        chunks.push(chunk);
        size += chunk.length;
        text = "";
      }
      if (n % ROWS_PER_CHECK === 0 && performance.now() - sliceStart >= SLICE_MS) {
        await pause();
        if (gone?.aborted) return DROPPED;
        sliceStart = performance.now();
      }
    }
  } finally {
    pieces.return?.(); // a listing given up: its statements are reset before the snapshot ends
    source[Symbol.dispose]();
  }
  const last = encoder.encode(text);
  chunks.push(last);
  size += last.length;
  return { line: `OK ${size}`, payload: chunks };
}

/** Lets the event loop run (socket I/O, timers, other requests) before going on. */
function pause(): Promise<void> {
  // Not a MessageChannel or setImmediate: measured, neither lets Deno poll sockets in between.
  return new Promise((resolve) => setTimeout(resolve, 0));
}
