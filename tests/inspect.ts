/**
 * Looking into jobs from end-to-end tests: INFO records, spool files and
 * whether processes still live.
 *
 * @module
 */

import type { JobInfo } from "../src/info.ts";
import type { RawClient } from "./harness.ts";

/** The INFO records of every job, or of job `id` (empty when unknown). */
export async function info(c: RawClient, id?: number): Promise<JobInfo[]> {
  const head = await c.request(id === undefined ? "INFO\r\n" : `INFO ${id}\r\n`);
  const m = /^OK (\d+)\r\n$/.exec(head);
  if (m === null) throw new Error(`Bad INFO reply: ${JSON.stringify(head)}`);
  return JSON.parse(new TextDecoder().decode(await c.bytes(Number(m[1])))) as JobInfo[];
}

/** The INFO record of job `id`, which must exist. */
export async function infoOf(c: RawClient, id: number): Promise<JobInfo> {
  const [job] = await info(c, id);
  if (job === undefined) throw new Error(`Job ${id} is unknown`);
  return job;
}

/** The job id in an `OK <id>` SUBMIT reply; throws on any other reply. */
export function jobId(reply: string): number {
  const m = /^OK (\d+)$/.exec(reply);
  if (m === null) throw new Error(`SUBMIT failed: ${reply}`);
  return Number(m[1]);
}

/** The spool directory of a daemon using the default database in `home`. */
export function spoolOf(home: string): string {
  return `${home}/.sjq.db-spool`;
}

/** Whether process `pid` lives (a zombie does not count). */
export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
