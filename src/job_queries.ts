/**
 * The requests that only read: PING, STATUS, INFO, SCRIPT and WAIT, and
 * which job a request names (an array task is named `id_task`).
 *
 * @module
 */

import { isFinal, STATES } from "./job.ts";
import { infoListing, statusListing } from "./listing.ts";
import { error, type Reply, waitReply } from "./reply.ts";
import type { Store } from "./store.ts";
import type { Waiters } from "./waiters.ts";
import { taskIds, taskJobId } from "./arrays.ts";

/**
 * The job id a request names: its id, or the job of the array task it
 * names (0 when there is none; ids start at 1).
 */
export function resolveJob(store: Store, req: { id: number | null; task?: number }): number | null {
  if (req.id === null || req.task === undefined) return req.id;
  const head = store.get(req.id);
  return (head?.array !== undefined && taskJobId(head, req.task)) || 0;
}

/** PING (`sjq ping`): job counts by state. */
export function ping(store: Store): Reply {
  const counts = store.counts();
  const stats = STATES.filter((s) => (counts[s] ?? 0) > 0)
    .sort()
    .map((s) => `${s}:${counts[s]}`)
    .join(" ");
  return { line: `OK ${stats}` };
}

/** The last job a STATUS or INFO of `id` shows: the last task of an array's head. */
function _lastShown(store: Store, id: number | null): number | null {
  const head = id === null ? undefined : store.get(id);
  return head?.array === undefined ? id : taskIds(head).last;
}

/** STATUS [id] (`sjq status --raw`): the protocol's job table, built in slices (src/listing.ts). */
export function status(store: Store, id: number | null, gone?: AbortSignal): Promise<Reply> {
  return statusListing(store, id, _lastShown(store, id), gone);
}

/**
 * INFO [id] (`sjq status`, `sjq status --json`): every field of the jobs, as
 * JSON, built in slices; `memoryWaits` are the queued jobs the last pass held
 * back for memory, with the MemAvailable it saw (src/scheduler.ts `memoryShort`).
 */
export function info(
  store: Store,
  id: number | null,
  gone?: AbortSignal,
  memoryWaits: ReadonlyMap<number, number> = new Map(),
): Promise<Reply> {
  return infoListing(store, id, _lastShown(store, id), gone, memoryWaits);
}

/** SCRIPT id (`sjq show`): the job's script. */
export function script(store: Store, id: number): Reply {
  if (store.state(id) === undefined) return error(`Unknown job ${id}`);
  const body = store.script(id);
  return { line: `OK ${body.length}`, payload: body };
}

/** WAIT id (`sjq wait`): answers when the job has ended (or once `gone` is aborted). */
export function wait(
  store: Store,
  waiters: Waiters<Reply>,
  id: number,
  gone?: AbortSignal,
): Reply | Promise<Reply> {
  const job = store.get(id);
  if (job === undefined) return error(`Unknown job ${id}`);
  if (isFinal(job.state)) return waitReply(job);
  return waiters.wait(id, gone);
}
