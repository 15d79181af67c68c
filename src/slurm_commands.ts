/**
 * Slurm's command-line tools as the Slurm executor uses them (`sbatch`,
 * `squeue`, `sacct`, `scancel`, `scontrol`), each run with the backend's
 * environment only; their output is parsed by src/slurm_states.ts.
 *
 * @module
 */

import type { ExecutorContext } from "./executor.ts";
import { parseSacct, parseSqueue, type SlurmRow } from "./slurm_states.ts";

/** Output of a Slurm command. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A failure of a Slurm command that may or may not have done what it was asked (sbatch: submitted the job). */
export const UNCLEAR =
  /timed? ?out|unable to contact|connection refused|socket|temporarily|try again|communication|slurm_persist|send\/recv|Zero Bytes/i;

/** The Slurm commands of one executor. */
export class SlurmCommands {
  readonly #env: Readonly<Record<string, string>>;
  readonly #log: ExecutorContext["log"];
  /** Whether `sacct` answers (accounting storage is on); null until asked. */
  #accounting: boolean | null = null;

  /**
   * @param env The environment the commands run with (SLURM_CONF, PATH).
   * @param log Where a failed `squeue` is reported.
   */
  constructor(env: Readonly<Record<string, string>>, log: ExecutorContext["log"]) {
    this.#env = env;
    this.#log = log;
  }

  /** Runs `program` with `args` (and `stdin`); a program that cannot be run exits 127. */
  async run(program: string, args: string[], stdin?: string): Promise<Run> {
    try {
      const child = new Deno.Command(program, {
        args,
        env: { ...this.#env },
        clearEnv: true,
        stdin: stdin === undefined ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      if (stdin !== undefined) {
        const w = child.stdin.getWriter();
        await w.write(new TextEncoder().encode(stdin)).finally(() => w.close());
      }
      const out = await child.output();
      const dec = new TextDecoder();
      return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    } catch (e) {
      return { code: 127, stdout: "", stderr: `cannot run ${program}: ${(e as Error).message}` };
    }
  }

  /**
   * This user's jobs in squeue whose names start with `prefix` (pending,
   * running and recently ended); null when squeue failed.
   */
  async squeue(prefix: string): Promise<SlurmRow[] | null> {
    const run = await this.run("squeue", [
      "-h",
      "-t",
      "all",
      "-u",
      String(Deno.uid()),
      "-O",
      "JobID:|,Name:|,State:|,Reason:|,exit_code:|",
    ]);
    if (run.code !== 0) {
      this.#log.error(`squeue failed: ${slurmMessage(run)}`);
      return null;
    }
    return parseSqueue(run.stdout).filter((r) => r.name.startsWith(prefix));
  }

  /**
   * The jobs `select` (sacct's `--name=…` or `--jobs=…`, and more) picks
   * from Slurm's accounting; none where accounting is off or sacct failed.
   */
  async sacct(select: string[]): Promise<SlurmRow[]> {
    if (!await this.#hasAccounting()) return [];
    const run = await this.run("sacct", [
      "-n",
      "-P",
      "-X",
      ...select,
      "-o",
      "JobID,JobName,State,Reason,ExitCode",
    ]);
    return run.code === 0 ? parseSacct(run.stdout) : [];
  }

  /** Whether sacct works here (asked once). */
  async #hasAccounting(): Promise<boolean> {
    if (this.#accounting === null) {
      const run = await this.run("sacct", ["-n", "-X", "-j", "1", "-o", "JobID"]);
      this.#accounting = run.code === 0 && !/disabled/i.test(run.stderr + run.stdout);
    }
    return this.#accounting;
  }

  /** The controller's MinJobAge in seconds (how long it lists an ended job), or null when unknown. */
  async minJobAge(): Promise<number | null> {
    const run = await this.run("scontrol", ["show", "config"]);
    const m = /^MinJobAge\s*=\s*(\d+)/m.exec(run.stdout);
    return m && Number(m[1]) > 0 ? Number(m[1]) : null;
  }

  /** Cancels Slurm job `slurmId`; an unclear failure is tried again (up to 10 times) while `wanted()`. */
  async scancel(slurmId: string, wanted: () => boolean): Promise<void> {
    for (let tries = 10;; tries--) {
      const run = await this.run("scancel", [slurmId]);
      if (run.code === 0 || tries <= 1 || !wanted() || !UNCLEAR.test(slurmMessage(run))) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** A Slurm command's complaint in one line, without the `sbatch: error:` prefixes. */
export function slurmMessage(run: Run): string {
  const text = (run.stderr.trim() || run.stdout.trim() || `exit status ${run.code}`)
    .split("\n").map((l) => l.replace(/^\w+: error: /, "").trim()).filter((l) => l !== "").join(
      "; ",
    );
  return text;
}

/** Whether an sbatch for job name `name` is running on this machine (started by an earlier daemon). */
export function sbatchRunning(name: string): boolean {
  try {
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      try {
        const argv = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0");
        if (argv.some((a) => a.endsWith("sbatch")) && argv.includes(`--job-name=${name}`)) {
          return true;
        }
      } catch { /* gone */ }
    }
  } catch { /* no /proc */ }
  return false;
}
