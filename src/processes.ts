/**
 * This machine's processes as /proc shows them (start times, groups,
 * children, the processes a job's tag marks, the boot), and signals to
 * them; for the shepherd (src/shepherd.ts).
 *
 * @module
 */

import { jobOf } from "./memory_sampler.ts";

/** Sends `signal` to process group `pid`; a group that is gone is no error. */
export function signalGroup(pid: number, signal: number): void {
  try {
    Deno.kill(-pid, signal as unknown as Deno.Signal);
  } catch { /* gone, or not a group leader */ }
}

/** Sends `signal` to process `pid`; a process that is gone is no error. */
export function signalOne(pid: number, signal: number): void {
  try {
    Deno.kill(pid, signal as unknown as Deno.Signal);
  } catch { /* gone */ }
}

/** Field 22 of /proc/<pid>/stat (start time), or undefined. */
export function startTicks(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Whether `pid` is still the process that started at `ticks` (and not a zombie). */
export function sameProcess(pid: number, ticks: string | undefined): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z") return false;
    return ticks === undefined || fields[19] === ticks;
  } catch {
    return false;
  }
}

/** The process group of `pid`, or null when it is gone. */
export function groupOf(pid: number): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
  } catch {
    return null;
  }
}

/** The shepherd's children (orphans are reparented to the main thread). */
export function ownChildren(): number[] {
  try {
    const text = Deno.readTextFileSync(`/proc/self/task/${Deno.pid}/children`).trim();
    return text === "" ? [] : text.split(" ").map(Number);
  } catch {
    return [];
  }
}

/** Every process whose environment names job `id` of this spool (its descendants, wherever they went). */
export function markedProcesses(tag: string, id: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const pid = Number(e.name);
    if (pid !== Deno.pid && jobOf(tag, pid) === id) out.push(pid);
  }
  return out;
}

/** This boot of the machine. */
export function bootId(): string {
  try {
    return Deno.readTextFileSync("/proc/sys/kernel/random/boot_id").trim();
  } catch {
    return "unknown";
  }
}
