/**
 * `sjq.enforce = memory`: each job of the local executor in a cgroup v2 of
 * its own whose `memory.max` is the memory it declared, so that the kernel
 * ends a job that takes more (and `memory.peak` counts its peak exactly).
 * The cgroups are `<cgroup2 mount>/sjq-<spool tag>/job-<id>`: that needs
 * the memory controller in cgroup v2 and the right to create cgroups at the
 * top of its hierarchy (root, or a hierarchy delegated to the daemon's
 * user); {@linkcode cgroupProblem} says why not where it cannot be used.
 *
 * @module
 */

/** Where the cgroup v2 hierarchy is mounted, or null. */
function cgroup2Mount(): string | null {
  try {
    for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
      const [left, right] = line.split(" - ");
      if (right?.split(" ")[0] === "cgroup2") return left!.split(" ")[4] ?? null;
    }
  } catch { /* no /proc */ }
  return null;
}

/** Whether a cgroup v1 hierarchy has the memory controller (to say so). */
function memoryInV1(): boolean {
  try {
    return Deno.readTextFileSync("/proc/self/mountinfo").split("\n").some((line) => {
      const right = line.split(" - ")[1]?.split(" ");
      return right?.[0] === "cgroup" && (right[2] ?? "").split(",").includes("memory");
    });
  } catch {
    return false;
  }
}

/**
 * Why jobs cannot be put into cgroups with a memory limit here, in a
 * sentence; null when they can. Creates (and leaves) the parent cgroup
 * `sjq-<tag>` with the memory controller enabled for its children.
 */
export function cgroupProblem(tag: string): string | null {
  const mount = cgroup2Mount();
  if (mount === null) return "no cgroup v2 hierarchy is mounted";
  let controllers = "";
  try {
    controllers = Deno.readTextFileSync(`${mount}/cgroup.controllers`);
  } catch (e) {
    return `cannot read ${mount}/cgroup.controllers: ${(e as Error).message}`;
  }
  if (!controllers.split(/\s+/).includes("memory")) {
    return `cgroup v2 (${mount}) has no memory controller` +
      (memoryInV1() ? " (it is bound to cgroup v1, which sjq does not use)" : "");
  }
  try {
    const subtree = Deno.readTextFileSync(`${mount}/cgroup.subtree_control`);
    if (!subtree.split(/\s+/).includes("memory")) {
      Deno.writeTextFileSync(`${mount}/cgroup.subtree_control`, "+memory");
    }
    const parent = `${mount}/sjq-${tag}`;
    Deno.mkdirSync(parent, { recursive: true });
    Deno.writeTextFileSync(`${parent}/cgroup.subtree_control`, "+memory");
  } catch (e) {
    return `cannot create a cgroup with the memory controller under ${mount} ` +
      `(it needs root, or a hierarchy delegated to this user): ${(e as Error).message}`;
  }
  return null;
}

/** The cgroups of one shepherd's jobs (its spool's tag). */
export class JobCgroups {
  readonly #parent: string | null;

  constructor(tag: string) {
    const mount = cgroup2Mount();
    this.#parent = mount === null ? null : `${mount}/sjq-${tag}`;
  }

  /** The cgroup directory of job `id`. */
  #dir(id: number): string {
    return `${this.#parent}/job-${id}`;
  }

  /** Makes job `id`'s cgroup with `memory.max` = `bytes` (no swap); its directory, or why not. */
  create(id: number, bytes: number): { dir: string } | { problem: string } {
    if (this.#parent === null) return { problem: "no cgroup v2 hierarchy is mounted" };
    const dir = this.#dir(id);
    try {
      Deno.mkdirSync(dir, { recursive: true });
      Deno.writeTextFileSync(`${dir}/memory.max`, String(bytes));
      try {
        Deno.writeTextFileSync(`${dir}/memory.swap.max`, "0");
      } catch { /* no swap accounting */ }
      return { dir };
    } catch (e) {
      return { problem: `cannot make its cgroup ${dir}: ${(e as Error).message}` };
    }
  }

  /**
   * Job `id`'s peak memory (`memory.peak`, bytes; null where the kernel has
   * none) and whether the kernel killed one of its processes for its limit;
   * then its cgroup is removed.
   */
  finish(id: number): { peak: number | null; oomKilled: boolean } {
    const dir = this.#dir(id);
    let peak: number | null = null;
    let oomKilled = false;
    try {
      peak = Number(Deno.readTextFileSync(`${dir}/memory.peak`).trim()) || null;
    } catch { /* before Linux 5.19 */ }
    try {
      const m = /^oom_kill (\d+)$/m.exec(Deno.readTextFileSync(`${dir}/memory.events`));
      oomKilled = m !== null && Number(m[1]) > 0;
    } catch { /* gone */ }
    try {
      Deno.removeSync(dir);
    } catch { /* processes left: removed when the shepherd starts again */ }
    return { peak, oomKilled };
  }
}

/** The argv that moves itself into the cgroup `dir`, then execs `argv`. */
export function inCgroup(dir: string, argv: readonly string[]): string[] {
  return ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, ...argv];
}
