/**
 * This machine's processes as /proc shows them (start times, groups,
 * children, the processes a job's tag marks, the boot), and signals to
 * them; for the shepherd (src/shepherd.ts).
 *
 * @module
 */

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

/**
 * The fields of /proc/<pid>/stat from the third (the state) on, so that
 * field N of proc(5) is at index N - 3; null when the process is gone. (The
 * command name before them may hold spaces and parentheses.)
 */
export function statFields(pid: number | string): string[] | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** Field 22 of /proc/<pid>/stat (start time), or undefined. */
export function startTicks(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** Whether `pid` is still the process that started at `ticks` (and not a zombie). */
export function sameProcess(pid: number, ticks: string | undefined): boolean {
  const fields = statFields(pid);
  if (fields === null || fields[0] === "Z") return false;
  return ticks === undefined || fields[19] === ticks;
}

/** The process group of `pid`, or null when it is gone. */
export function groupOf(pid: number): number | null {
  const fields = statFields(pid);
  return fields === null ? null : Number(fields[2]);
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

/** The job id in the `SJQ_JOB_TAG` of process `pid` when it carries `tag`, or null. */
export function jobOf(tag: string, pid: number | string): number | null {
  try {
    const env = `\0${Deno.readTextFileSync(`/proc/${pid}/environ`)}`;
    const mark = `\0SJQ_JOB_TAG=${tag}.`;
    const at = env.indexOf(mark);
    if (at < 0) return null;
    const m = /^(\d+)\0/.exec(env.slice(at + mark.length));
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}
