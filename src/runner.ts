/**
 * The process runner: starts each job under its supervisor (src/supervisor.ts)
 * in a session of its own, signals its process group, and reads how it ended.
 * All process and spool-directory I/O of the daemon lives here.
 *
 * @module
 */

import { type DropTools, envScript, findDropTools, SAFE_ENV, userStageArgv } from "./as_user.ts";
import { type Outcome, parseOutcome, SUPERVISOR_SH } from "./supervisor.ts";
import type { JobRecord } from "./job.ts";
import { exists, interpreterProblem, isExecutable } from "./file_tests.ts";

const GO = new TextEncoder().encode("go\n");

/** Starts and watches job processes under one spool directory. */
export class Runner {
  readonly #spool: string;
  readonly #setsid: string;
  readonly #supervisor: string;
  readonly #drop: DropTools | null = findDropTools();

  private constructor(spool: string, setsid: string) {
    this.#spool = spool;
    this.#setsid = setsid;
    this.#supervisor = `${spool}/supervisor.sh`;
  }

  /** Prepares the spool directory (mode 0700) and finds `setsid`. */
  static create(spool: string): Runner {
    const setsid = ["/usr/bin/setsid", "/bin/setsid"].find(isExecutable);
    if (setsid === undefined) {
      throw new Error("Cannot find setsid (util-linux): sjq needs it to run jobs");
    }
    for (const dir of [spool, `${spool}/jobs`, `${spool}/done`]) {
      Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
      Deno.chmodSync(dir, 0o700); // also a directory made by an older sjq
    }
    const runner = new Runner(spool, setsid);
    Deno.writeTextFileSync(runner.#supervisor, SUPERVISOR_SH, { mode: 0o600 });
    return runner;
  }

  /** The directory where supervisors leave done files. */
  get doneDir(): string {
    return `${this.#spool}/done`;
  }

  /** The job's script; `<script>.started` marks that the supervisor ran it. */
  #scriptPath(id: number): string {
    return `${this.#spool}/jobs/${id}`;
  }

  /**
   * Writes the job's script and spawns its supervisor. Returns the child, or
   * the reason the job cannot start.
   */
  start(
    job: JobRecord,
    script: Uint8Array,
    env: Record<string, string>,
  ): Deno.ChildProcess | string {
    const problem = scriptProblem(script);
    if (problem !== null) return problem;
    const path = this.#scriptPath(job.id);
    const asUser = job.uid !== Deno.uid();
    if (asUser && this.#drop === null) return "cannot run jobs of other users: setpriv is missing";
    try {
      Deno.writeFileSync(path, script, { mode: 0o700 });
      const args = [
        "sh",
        this.#supervisor,
        path,
        `${this.doneDir}/${job.id}`,
        job.cwd,
        job.stdout,
        job.stderr,
        String(Deno.pid),
      ];
      if (asUser) {
        // The user runs their script through an fd; nothing of theirs is acted on as root.
        Deno.chownSync(path, job.uid, job.gid);
        Deno.chmodSync(path, 0o500);
        Deno.writeTextFileSync(`${path}.env`, envScript(env, this.#drop!.env), { mode: 0o600 });
        args.push(`${path}.env`, ...userStageArgv(this.#drop!, job.uid, job.gid));
        args.push(job.cwd, job.stdout, job.stderr, ...job.args ?? []);
      } else args.push("-", ...job.args ?? []);
      return new Deno.Command(this.#setsid, {
        args,
        env: asUser ? SAFE_ENV : env,
        clearEnv: true,
        cwd: "/",
        stdin: "piped",
        stdout: "null",
        stderr: "null",
      }).spawn();
    } catch (e) {
      return `cannot start: ${(e as Error).message}`;
    }
  }

  /** Lets a spawned supervisor run its job (see src/supervisor.ts). */
  go(child: Deno.ChildProcess): void {
    const writer = child.stdin.getWriter();
    writer.write(GO).then(() => writer.close()).catch(() => {});
  }

  /** How job `id` ended and when (ms since the epoch), if its supervisor has said so. */
  outcome(id: number): { outcome: Outcome; ended: number } | null {
    const path = `${this.doneDir}/${id}`;
    try {
      const outcome = parseOutcome(Deno.readTextFileSync(path));
      if (outcome === null) return null; // still being written
      return { outcome, ended: Deno.statSync(path).mtime?.getTime() ?? Date.now() };
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
  }

  /** Ids of every job whose done file is waiting to be read. */
  doneIds(): number[] {
    const ids: number[] = [];
    for (const e of Deno.readDirSync(this.doneDir)) {
      if (/^\d+$/.test(e.name)) ids.push(Number(e.name));
    }
    return ids;
  }

  /** Ids of every job with a file in the spool (script, start marker or done file). */
  spoolIds(): Set<number> {
    const ids = new Set(this.doneIds());
    for (const e of Deno.readDirSync(`${this.#spool}/jobs`)) {
      const m = /^(\d+)(\.started|\.env|\.error)?$/.exec(e.name);
      if (m) ids.add(Number(m[1]));
    }
    return ids;
  }

  /** Whether the supervisor got as far as starting the job's script. */
  started(id: number): boolean {
    return exists(`${this.#scriptPath(id)}.started`);
  }

  /** Forgets a settled job's spool files. */
  cleanup(id: number): void {
    const script = this.#scriptPath(id);
    const files = [`${this.doneDir}/${id}`, script, `${script}.started`];
    for (const path of [...files, `${script}.env`, `${script}.error`]) {
      try {
        Deno.removeSync(path);
      } catch { /* never made, or gone already */ }
    }
  }

  /** Sends `signal` to the process group of the job whose supervisor is `pid`; false if it is gone. */
  signal(pid: number, signal: Deno.Signal): boolean {
    try {
      Deno.kill(-pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Whether `pid` is still the supervisor of job `id` (guards against reused pids). */
  supervising(pid: number, id: number): boolean {
    try {
      // Anyone can run a process whose command line names our spool: only ours count.
      if (Deno.statSync(`/proc/${pid}`).uid !== Deno.uid()) return false;
      const argv = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
      return argv[1] === this.#supervisor && argv[2] === this.#scriptPath(id);
    } catch {
      return false;
    }
  }

  /** The pid of job `id`'s supervisor, found by its command line, or null. */
  findSupervisor(id: number): number | null {
    for (const e of Deno.readDirSync("/proc")) {
      if (/^\d+$/.test(e.name) && this.supervising(Number(e.name), id)) return Number(e.name);
    }
    return null;
  }

  /** Calls `onDone(id)` whenever a supervisor leaves a done file. Returns the watcher to close. */
  watch(onDone: (id: number) => void): Deno.FsWatcher {
    const watcher = Deno.watchFs(this.doneDir, { recursive: false });
    (async () => {
      for await (const event of watcher) {
        for (const path of event.paths) {
          const name = path.slice(path.lastIndexOf("/") + 1);
          if (/^\d+$/.test(name)) onDone(Number(name));
        }
      }
    })().catch(() => {});
    return watcher;
  }
}

/** Why a script cannot be exec'd (its `#!` interpreter is missing), or null. */
function scriptProblem(script: Uint8Array): string | null {
  if (script[0] !== 0x23 || script[1] !== 0x21) return null;
  const end = script.indexOf(10);
  return interpreterProblem(
    new TextDecoder().decode(script.subarray(0, end < 0 ? undefined : end)),
  );
}
