/**
 * Looking into jobs from end-to-end tests: INFO records, spool files and
 * whether processes still live.
 *
 * @module
 */

import type { JobInfo } from "../src/info.ts";
import type { RawClient } from "./harness.ts";
import { sameProcess, statFields } from "../src/processes.ts";

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
  return sameProcess(pid, undefined);
}

/** The parent of process `pid`, or null when it is gone. */
export function parentOf(pid: number): number | null {
  const fields = statFields(pid);
  return fields === null ? null : Number(fields[1]);
}

/**
 * The pid of the shepherd serving `spool`, found by its command line, or
 * null. A job the shepherd is spawning shows the shepherd's command line
 * until its exec (the child shares its parent's memory): a match whose
 * parent also matches is such a child, never the shepherd.
 */
export function shepherdPid(spool: string): number | null {
  const matches: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0");
      if (argv.includes("__shepherd") && argv.includes(spool)) matches.push(Number(e.name));
    } catch { /* gone */ }
  }
  const parents = new Set(matches);
  return matches.find((pid) => !parents.has(parentOf(pid) ?? 0)) ?? null;
}

/**
 * CPU time of process `pid` in ms from /proc (USER_HZ ticks): its own
 * (utime + stime) and that of its reaped children (cutime + cstime).
 */
export function processCpuMs(pid: number): { self: number; children: number } {
  const f = statFields(pid);
  if (f === null) throw new Error(`no process ${pid}`);
  const ms = (i: number) => Number(f[i]) * 10;
  return { self: ms(11) + ms(12), children: ms(13) + ms(14) };
}
