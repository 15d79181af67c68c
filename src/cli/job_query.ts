/**
 * What `status`, `show` and `wait` ask the daemon about jobs: INFO for jobs
 * and their dependencies, CONFIG for the limits, and the reasons built from
 * them (./reasons.ts).
 *
 * @module
 */

import { type Client, UnsupportedError } from "../client.ts";
import type { JobInfo } from "../info.ts";
import type { DaemonSettings } from "../live_config.ts";
import { parseSize } from "../size.ts";
import { type Limits, limitsOf, type ReasonContext } from "./reasons.ts";

/** Sends every request at once (pipelined) and returns the counted payloads in order. */
export async function fetchAll(client: Client, requests: string[]): Promise<Uint8Array[]> {
  const sending = client.send(new TextEncoder().encode(requests.map((r) => `${r}\r\n`).join("")));
  try {
    const payloads: Uint8Array[] = [];
    for (const request of requests) {
      const reply = await client.reply(true, request);
      if (!reply.ok) throw new Error(reply.text);
      payloads.push(reply.payload!);
    }
    return payloads;
  } finally {
    await sending.catch(() => {});
  }
}

/**
 * INFO of these jobs (every job when `ids` is null), in the order asked;
 * unknown ids are left out, an array's id brings its tasks too.
 */
export async function fetchJobs(
  client: Client,
  ids: readonly (number | string)[] | null,
): Promise<JobInfo[]> {
  const requests = ids === null ? ["INFO"] : ids.map((id) => `INFO ${id}`);
  const decoder = new TextDecoder();
  return (await fetchAll(client, requests)).flatMap((p) => JSON.parse(decoder.decode(p)));
}

/** The daemon's limits, or null when it cannot say (an original SJQ daemon). */
export async function fetchLimits(client: Client): Promise<Limits | null> {
  try {
    const reply = await client.request("CONFIG", true);
    if (!reply.ok) return null;
    const settings = JSON.parse(new TextDecoder().decode(reply.payload)) as DaemonSettings;
    return limitsOf(settings.settings, parseSize);
  } catch (e) {
    if (e instanceof UnsupportedError) return null;
    throw e;
  }
}

/**
 * What the reasons of `jobs` need: the limits, and every dependency or abort
 * cause not among them (fetched). `complete` says `jobs` is every job.
 */
export async function reasonContext(
  client: Client,
  jobs: JobInfo[],
  complete: boolean,
): Promise<ReasonContext> {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const wanted = new Set<number>();
  for (const job of jobs) {
    if (job.state === "H") job.depends.forEach((id) => wanted.add(id));
    const cause = /^dependency (\d+) ended/.exec(job.reason ?? "")?.[1];
    if (cause !== undefined) wanted.add(Number(cause));
  }
  const missing = [...wanted].filter((id) => !byId.has(id)).slice(0, 1000);
  const needLimits = jobs.some((j) => j.state === "Q");
  const limits = needLimits ? await fetchLimits(client) : null;
  for (const job of missing.length > 0 ? await fetchJobs(client, missing) : []) {
    byId.set(job.id, job);
  }
  return { jobs: byId, complete, limits };
}
