/**
 * Scratch directories under `bench/.work/`. Every process the benchmark
 * starts (daemons, queue servers, jobs, shell loops) runs in one of them or
 * names one on its command line, so that disposing a directory can end every
 * process that belongs to it before removing it.
 *
 * @module
 */

const ROOT = new URL("./.work/", import.meta.url).pathname;

/** A directory removed, with every process inside it, on dispose. */
export interface Scratch extends AsyncDisposable {
  readonly path: string;
}

/** Makes a new scratch directory; `prefix` names it for a reader of `ps`. */
export async function scratchDir(prefix: string): Promise<Scratch> {
  await Deno.mkdir(ROOT, { recursive: true });
  const path = await Deno.makeTempDir({ dir: ROOT, prefix: `${prefix}-` });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await _killProcessesUnder(path);
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** Ends every process started under any scratch directory and removes them all. */
export async function removeAllScratch(): Promise<void> {
  await _killProcessesUnder(ROOT);
  await Deno.remove(ROOT, { recursive: true }).catch(() => {});
}

async function _belongsTo(pid: number, dir: string): Promise<boolean> {
  try {
    const cwd = await Deno.readLink(`/proc/${pid}/cwd`);
    if (cwd === dir.replace(/\/$/, "") || cwd.startsWith(dir.endsWith("/") ? dir : `${dir}/`)) {
      return true;
    }
    return (await Deno.readTextFile(`/proc/${pid}/cmdline`)).includes(dir);
  } catch {
    return false; // gone, or not ours to read
  }
}

/**
 * Sends SIGKILL to every process whose working directory is under `dir` or
 * whose command line names it, until none is left (a dying shell loop may
 * have started one more).
 */
async function _killProcessesUnder(dir: string): Promise<void> {
  for (let round = 0; round < 10; round++) {
    let found = 0;
    for await (const e of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      const pid = Number(e.name);
      if (pid === Deno.pid || !await _belongsTo(pid, dir)) continue;
      found++;
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
    }
    if (found === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
