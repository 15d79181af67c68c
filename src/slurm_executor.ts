/**
 * The Slurm executor (`sjq.backend = slurm`): each job the daemon starts is
 * submitted with `sbatch`, watched with one batched `squeue` per poll (and
 * `sacct` for jobs the controller has forgotten, where accounting works),
 * and killed with `scancel`. sjq stays the source of truth for dependencies
 * and holds: a job reaches Slurm only when the scheduler starts it.
 *
 * Every job is tagged: its Slurm name is `sjq-<tag>-<id>` and its comment
 * `sjq <tag> <id> <name>`, where the tag is derived from this host and the
 * spool path (so a restarted daemon has the same). A restarted daemon, or one
 * whose `sbatch` failed without a clear answer, looks a job up by that name
 * before it submits it again: no duplicates.
 *
 * The batch script is a small wrapper that runs the job's own script (kept
 * on the spool) with exactly the job's environment and writes its exit code
 * to `<spool>/<id>.exit`: the spool must be on a filesystem the nodes share
 * (docs/slurm.md).
 *
 * @module
 */

import type { Executor, ExecutorContext, Launch, Outcome, Recovering } from "./executor.ts";
import {
  type ExitFile,
  isFinalState,
  parseExitFile,
  slurmOutcome,
  type SlurmRow,
} from "./slurm_states.ts";
import { sbatchRunning, SlurmCommands, slurmMessage, UNCLEAR } from "./slurm_commands.ts";
import { clearLongTimeout, type LongTimer, setLongTimeout } from "./long_timer.ts";
import type { Config } from "./config.ts";
import { splitWords } from "./cli/directives.ts";

/** Settings of the Slurm backend. */
export interface SlurmSettings {
  /** `sjq.slurm.options`: sbatch arguments for every job, before the job's own. */
  options: readonly string[];
  /** Longest time between two polls of Slurm, in ms (capped at MinJobAge / 4). */
  maxPollMs: number;
  /** How long a job may be missing from Slurm, with no record of its end, before it is lost. */
  goneGraceMs: number;
  /** The environment `sbatch`, `squeue`… run with (SLURM_CONF, PATH). */
  env: Readonly<Record<string, string>>;
  /** The partition of a job of queue `queue` (src/queue_config.ts), or null for Slurm's default. */
  partition?: (queue: string | undefined) => string | null;
}

/** The defaults of {@linkcode SlurmSettings}. */
export const SLURM_DEFAULTS: Omit<SlurmSettings, "env"> = {
  options: [],
  maxPollMs: 5000,
  goneGraceMs: 30_000,
};

/** The settings of the Slurm backend from the daemon's configuration (`sjq.slurm.*`). */
export function slurmSettings(config: Readonly<Config> | undefined): SlurmSettings {
  return {
    ...SLURM_DEFAULTS,
    options: splitWords(config?.slurmOptions ?? ""),
    maxPollMs: (config?.slurmPoll ?? SLURM_DEFAULTS.maxPollMs / 1000) * 1000,
    env: Deno.env.toObject(),
    // Read at each submit: `sjq reload` changes the queues in place.
    partition: (queue) => config === undefined ? null : partitionOf(config, queue),
  };
}

/**
 * The Slurm partition of a job of `queue`: its `sjq.queue.NAME.partition`,
 * else the queue's own name; none (Slurm's default, or `sjq.slurm.options`)
 * for the default queue without a partition, and for jobs without a queue.
 */
export function partitionOf(
  config: Pick<Config, "defaultQueue" | "queues">,
  queue: string | undefined,
): string | null {
  if (queue === undefined) return null;
  const configured = Object.hasOwn(config.queues, queue) ? config.queues[queue]!.partition : null;
  return configured ?? (queue === config.defaultQueue ? null : queue);
}

/** The first poll after a change comes this soon; idle polls back off from it. */
const MIN_POLL_MS = 100;
/** How often the spool is looked at for new exit files while jobs are in Slurm (no Slurm query). */
const EXIT_CHECK_MS = 200;
/** sbatch processes at a time. */
const SUBMITTERS = 4;
/** Attempts at an sbatch that fails without a clear answer, with this delay between them. */
const SBATCH_ATTEMPTS = 5;
const SBATCH_RETRY_MS = 2000;

/** What the executor keeps about one job until `forget`. */
interface Tracked {
  id: number;
  name: string;
  /** Waiting for an sbatch slot, being submitted, or in Slurm with `slurmId`. */
  phase: "waiting" | "submitting" | "submitted" | "ended";
  slurmId: string | null;
  launch: Launch | null;
  killed: boolean;
  /** When a poll first missed the job in Slurm, or null. */
  goneSince: number | null;
  /** Whether its exit file has been noticed (its end in Slurm follows within moments). */
  exitNoticed: boolean;
}

/** The Slurm backend; see the module documentation. */
export class SlurmExecutor implements Executor {
  readonly name = "slurm";
  readonly #ctx: ExecutorContext;
  /** Where the jobs' scripts and exit files are: on a filesystem the nodes share. */
  readonly #spool: string;
  readonly #settings: SlurmSettings;
  readonly #tag: string;
  readonly #jobs = new Map<number, Tracked>();
  readonly #waiting: Tracked[] = [];
  #submitting = 0;
  #pollMs = MIN_POLL_MS;
  #pollTimer: LongTimer | null = null;
  #exitCheck: ReturnType<typeof setInterval> | undefined;
  #polling: Promise<void> | null = null;
  #closed = false;
  #maxPollMs: number;
  readonly #slurm: SlurmCommands;

  constructor(ctx: ExecutorContext, settings: SlurmSettings) {
    this.#ctx = ctx;
    this.#settings = settings;
    this.#maxPollMs = settings.maxPollMs;
    this.#slurm = new SlurmCommands(settings.env, ctx.log);
    this.#spool = `${ctx.spool}/slurm`;
    this.#tag = daemonTag(`${Deno.hostname()}:${this.#spool}`);
    Deno.mkdirSync(this.#spool, { recursive: true, mode: 0o700 });
    this.#readMinJobAge().catch(() => {});
  }

  /** The Slurm job name of sjq job `id`. */
  slurmName(id: number): string {
    return `sjq-${this.#tag}-${id}`;
  }

  start(launch: Launch): void {
    const id = launch.job.id;
    const job: Tracked = {
      id,
      name: this.slurmName(id),
      phase: "waiting",
      slurmId: null,
      launch,
      killed: false,
      goneSince: null,
      exitNoticed: false,
    };
    this.#jobs.set(id, job);
    this.#waiting.push(job);
    this.#pump();
  }

  kill(id: number, _graceMs: number): void {
    const job = this.#jobs.get(id);
    if (job === undefined || job.phase === "ended") return;
    job.killed = true;
    if (job.phase === "waiting") {
      this.#waiting.splice(this.#waiting.indexOf(job), 1);
      this.#end(job, { kind: "failed", reason: "killed before it was submitted to Slurm" });
    } else if (job.phase === "submitted" && job.slurmId !== null) this.#scancel(job);
    // "submitting": scancel follows as soon as sbatch answers.
  }

  recover(jobs: readonly Recovering[]): void {
    const keep = new Set(jobs.map((j) => String(j.job.id)));
    for (const e of Deno.readDirSync(this.#spool)) {
      const id = /^(\d+)\./.exec(e.name)?.[1];
      if (id !== undefined && !keep.has(id)) this.forget(Number(id));
    }
    const unknown: Tracked[] = [];
    for (const { job: record, handle } of jobs) {
      const job: Tracked = {
        id: record.id,
        name: this.slurmName(record.id),
        phase: "submitted",
        slurmId: /^slurm:\d+$/.test(handle ?? "") ? handle!.slice(6) : null,
        launch: null,
        killed: record.stopping !== null,
        goneSince: null,
        exitNoticed: false,
      };
      this.#jobs.set(job.id, job);
      if (job.slurmId === null) unknown.push(job);
      else {
        const at = record.started ?? Date.now();
        this.#ctx.emit({ kind: "started", id: job.id, at, handle: `slurm:${job.slurmId}` });
      }
    }
    if (unknown.length > 0) this.#lookUp(unknown).catch((e) => this.#ctx.log.error(String(e)));
    this.#schedulePoll(0);
  }

  forget(id: number): void {
    this.#jobs.delete(id);
    for (const suffix of [".sh", ".exit", ".exit.tmp"]) {
      try {
        Deno.removeSync(`${this.#spool}/${id}${suffix}`);
      } catch { /* never made, or gone */ }
    }
  }

  async close(mode: "detach" | "kill"): Promise<void> {
    if (mode === "kill") {
      for (const job of this.#jobs.values()) this.kill(job.id, 0);
      const deadline = Date.now() + 60_000;
      while ([...this.#jobs.values()].some((j) => j.phase !== "ended") && Date.now() < deadline) {
        await this.#poll();
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    this.#closed = true;
    clearInterval(this.#exitCheck);
    if (this.#pollTimer !== null) clearLongTimeout(this.#pollTimer);
    this.#pollTimer = null;
    await this.#polling;
  }

  // --- Submission -----------------------------------------------------------

  /** Starts sbatch for waiting jobs while there are free submitters. */
  #pump(): void {
    while (this.#submitting < SUBMITTERS && this.#waiting.length > 0 && !this.#closed) {
      const job = this.#waiting.shift()!;
      job.phase = "submitting";
      this.#submitting++;
      this.#submit(job)
        .catch((e) => this.#end(job, { kind: "error", reason: `cannot submit: ${e}` }))
        .finally(() => {
          this.#submitting--;
          this.#pump();
        });
    }
  }

  /** Writes the job's script and submits it; retries unclear failures after a look-up. */
  async #submit(job: Tracked): Promise<void> {
    const launch = job.launch!;
    const script = `${this.#spool}/${job.id}.sh`;
    try {
      Deno.removeSync(`${this.#spool}/${job.id}.exit`);
    } catch { /* none: the usual case */ }
    await Deno.writeFile(script, launch.script, { mode: 0o700 });
    await Deno.chmod(script, 0o700);
    for (let attempt = 1;; attempt++) {
      const run = await this.#slurm.run(
        "sbatch",
        this.#sbatchArgs(launch),
        wrapper(launch, this.#spool),
      );
      if (run.code === 0) {
        const slurmId = run.stdout.trim().split(";")[0]!;
        if (/^\d+$/.test(slurmId)) return this.#submitted(job, slurmId);
      }
      const message = slurmMessage(run);
      if (!UNCLEAR.test(message) || attempt >= SBATCH_ATTEMPTS) {
        // A clear refusal (bad partition, too much memory…): the job cannot run.
        const found = UNCLEAR.test(message) ? await this.#findByName([job]) : null;
        const slurmId = found?.get(job.id);
        if (slurmId !== undefined) return this.#submitted(job, slurmId);
        return this.#end(job, { kind: "error", reason: `sbatch refused the job: ${message}` });
      }
      this.#ctx.log.error(
        `job ${job.id}: sbatch failed (${message}); looking it up before retrying`,
      );
      await new Promise((r) => setTimeout(r, SBATCH_RETRY_MS));
      const slurmId = (await this.#findByName([job]))?.get(job.id);
      if (slurmId !== undefined) return this.#submitted(job, slurmId);
    }
  }

  /** The job is in Slurm as `slurmId`: tell the daemon, and carry out a kill that came meanwhile. */
  #submitted(job: Tracked, slurmId: string): void {
    if (job.phase === "ended" || !this.#jobs.has(job.id)) return;
    job.phase = "submitted";
    job.slurmId = slurmId;
    job.launch = null;
    this.#ctx.emit({ kind: "started", id: job.id, at: Date.now(), handle: `slurm:${slurmId}` });
    this.#ctx.log.info(`job ${job.id} submitted to Slurm as ${slurmId}`);
    if (job.killed) this.#scancel(job);
    this.#schedulePoll(MIN_POLL_MS);
  }

  /** sbatch's arguments for a job (the script comes on stdin). */
  #sbatchArgs(launch: Launch): string[] {
    const job = launch.job;
    const args = [
      "--parsable",
      `--job-name=${this.slurmName(job.id)}`,
      `--comment=sjq ${this.#tag} ${job.id} ${job.name.replace(/[^\x20-\x7e]/g, "?")}`,
      "--ntasks=1",
      `--cpus-per-task=${job.procs}`,
      `--mem=${Math.max(1, Math.ceil(job.mem / 2 ** 20))}M`,
      `--chdir=${job.cwd}`,
      `--output=${job.stdout}`,
      `--error=${job.stderr}`,
      "--export=NONE",
      "--no-requeue",
      "--open-mode=truncate",
    ];
    // sjq's own timer kills the job at its TIMEOUT; Slurm's limit (whole minutes) is the safety net.
    if (job.timeout !== null) args.push(`--time=${Math.ceil(job.timeout / 60) + 1}`);
    // Slurm picks the devices (sjq.gpus only caps how many sjq's jobs ask for at once).
    if (job.gpus) args.push(`--gpus=${job.gpus}`);
    // The queue's partition overrides sjq.slurm.options'; the job's own options override both.
    const partition = this.#settings.partition?.(job.queue) ?? null;
    return [
      ...args,
      ...this.#settings.options,
      ...(partition === null ? [] : [`--partition=${partition}`]),
      ...(job.slurmOpts ?? []),
    ];
  }

  // --- Look-ups -------------------------------------------------------------

  /**
   * Jobs found in Slurm by name, as sjq id → Slurm id; null when Slurm could
   * not be asked. Waits for an sbatch of an earlier daemon still running.
   */
  async #findByName(jobs: Tracked[]): Promise<Map<number, string> | null> {
    for (let i = 0; i < 100 && jobs.some((j) => sbatchRunning(j.name)); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const rows = await this.#squeue();
    if (rows === null) return null;
    // A restarted job has one Slurm job per attempt under its name: the newest is the current one.
    const byName = new Map<string, string>();
    const keep = (r: SlurmRow) => {
      if (Number(r.slurmId) > Number(byName.get(r.name) ?? -1)) byName.set(r.name, r.slurmId);
    };
    rows.forEach(keep);
    const missing = jobs.filter((j) => !byName.has(j.name));
    if (missing.length > 0) {
      const names = `--name=${missing.map((j) => j.name).join(",")}`;
      (await this.#slurm.sacct([names, "-S", "now-30days"])).forEach(keep);
    }
    const found = new Map<number, string>();
    for (const job of jobs) {
      const slurmId = byName.get(job.name);
      if (slurmId !== undefined) found.set(job.id, slurmId);
    }
    return found;
  }

  /** Recovered jobs whose Slurm id was never stored: adopted if Slurm has them, else queued again. */
  async #lookUp(jobs: Tracked[]): Promise<void> {
    let found = await this.#findByName(jobs);
    while (found === null && !this.#closed) {
      await new Promise((r) => setTimeout(r, SBATCH_RETRY_MS));
      found = await this.#findByName(jobs);
    }
    for (const job of jobs) {
      const slurmId = found?.get(job.id);
      if (slurmId !== undefined) {
        job.slurmId = slurmId;
        this.#ctx.emit({ kind: "started", id: job.id, at: Date.now(), handle: `slurm:${slurmId}` });
        this.#ctx.log.info(`job ${job.id} found in Slurm as ${slurmId}`);
        if (job.killed) this.#scancel(job);
      } else {
        job.phase = "ended";
        this.#ctx.emit({ kind: "unstarted", id: job.id });
      }
    }
    this.#schedulePoll(0);
  }

  // --- Polling --------------------------------------------------------------

  #schedulePoll(ms: number): void {
    if (this.#closed) return;
    this.#exitCheck ??= setInterval(() => this.#checkExits(), EXIT_CHECK_MS);
    if (ms <= MIN_POLL_MS) this.#pollMs = MIN_POLL_MS;
    if (this.#pollTimer !== null) clearLongTimeout(this.#pollTimer);
    this.#pollTimer = setLongTimeout(() => {
      this.#pollTimer = null;
      this.#poll().finally(() => {
        if (this.#watched().length === 0) return;
        this.#pollMs = Math.min(this.#pollMs * 2, this.#maxPollMs);
        if (this.#pollTimer === null) this.#schedulePoll(this.#pollMs);
      });
    }, ms);
  }

  /**
   * A job's exit file appears the moment its script ends: then Slurm is asked
   * at once, instead of at the next (backed-off) poll. Reads the spool
   * directory, never Slurm.
   */
  #checkExits(): void {
    const watched = this.#watched();
    if (watched.length === 0 || this.#closed) {
      clearInterval(this.#exitCheck);
      this.#exitCheck = undefined;
      return;
    }
    let names: Set<string>;
    try {
      names = new Set([...Deno.readDirSync(this.#spool)].map((e) => e.name));
    } catch {
      return;
    }
    let fresh = false;
    for (const job of watched) {
      if (!job.exitNoticed && names.has(`${job.id}.exit`)) fresh = job.exitNoticed = true;
    }
    if (fresh) this.#schedulePoll(0);
  }

  /** Jobs in Slurm whose end has not been seen yet. */
  #watched(): Tracked[] {
    return [...this.#jobs.values()].filter((j) => j.phase === "submitted" && j.slurmId !== null);
  }

  /** One poll: one squeue for every job; sacct only for jobs the controller no longer lists. */
  #poll(): Promise<void> {
    this.#polling ??= this.#pollOnce().finally(() => this.#polling = null);
    return this.#polling;
  }

  async #pollOnce(): Promise<void> {
    const watched = this.#watched();
    if (watched.length === 0) return;
    const rows = await this.#squeue();
    if (rows === null) return; // the controller did not answer: nothing is concluded
    const bySlurmId = new Map(rows.map((r) => [r.slurmId, r]));
    const missing = watched.filter((j) => !bySlurmId.has(j.slurmId!));
    if (missing.length > 0) {
      const ids = `--jobs=${missing.map((j) => j.slurmId).join(",")}`;
      for (const r of await this.#slurm.sacct([ids])) bySlurmId.set(r.slurmId, r);
    }
    let changed = false;
    for (const job of watched) {
      if (job.phase !== "submitted") continue;
      const row = bySlurmId.get(job.slurmId!);
      if (row === undefined) changed = this.#missing(job) || changed;
      else if (isFinalState(row.state)) {
        this.#end(job, slurmOutcome(row.state, row.exitCode, this.#exitFile(job.id)));
        changed = true;
      } else {
        job.goneSince = null;
        // The job's script has ended: its final state comes within moments.
        if (row.state === "COMPLETING" || this.#exitFile(job.id) !== null) changed = true;
      }
    }
    if (changed) this.#pollMs = MIN_POLL_MS / 2;
  }

  /** A job Slurm no longer lists: its exit file settles it; without one, it is lost after a grace. */
  #missing(job: Tracked): boolean {
    const file = this.#exitFile(job.id);
    if (file !== null) {
      const outcome: Outcome = file.kind === "error" ? { kind: "error", reason: file.reason } : {
        kind: "exit",
        code: file.code,
        reason: "Slurm no longer lists the job; from its exit file",
      };
      this.#end(job, outcome);
      return true;
    }
    const now = Date.now();
    job.goneSince ??= now;
    if (now - job.goneSince < this.#settings.goneGraceMs) return false;
    job.phase = "ended";
    this.#ctx.emit({
      kind: "lost",
      id: job.id,
      at: now,
      reason: `lost: Slurm job ${job.slurmId} is gone with no record of its end`,
    });
    return true;
  }

  #end(job: Tracked, outcome: Outcome): void {
    if (job.phase === "ended") return;
    job.phase = "ended";
    this.#ctx.emit({ kind: "ended", id: job.id, at: Date.now(), outcome, usage: null });
  }

  #exitFile(id: number): ExitFile | null {
    try {
      return parseExitFile(Deno.readTextFileSync(`${this.#spool}/${id}.exit`));
    } catch {
      return null;
    }
  }

  /** This daemon's jobs in squeue (pending, running and recently ended); null when it failed. */
  #squeue(): Promise<SlurmRow[] | null> {
    return this.#slurm.squeue(`sjq-${this.#tag}-`);
  }

  /** Reads MinJobAge: polls stay well below it (a quarter), or jobs could vanish between two. */
  async #readMinJobAge(): Promise<void> {
    const age = await this.#slurm.minJobAge();
    if (age !== null) {
      this.#maxPollMs = Math.max(MIN_POLL_MS, Math.min(this.#settings.maxPollMs, age * 250));
    }
  }

  #scancel(job: Tracked): void {
    this.#slurm.scancel(job.slurmId!, () => job.phase === "submitted")
      .catch(() => {}).finally(() => this.#schedulePoll(MIN_POLL_MS));
  }
}

/** The variables that name a job's GPUs: Slurm's, for a job that asked it for some. */
const GPU_VARIABLES = /^(CUDA_VISIBLE_DEVICES|GPU_DEVICE_ORDINAL|ROCR_VISIBLE_DEVICES|SJQ_GPUS)$/;

/** The batch script: runs the job's script with exactly its environment and records its exit code. */
export function wrapper(launch: Launch, spool: string): string {
  const job = launch.job;
  const q = shellQuote;
  // Slurm provides the real SLURM_* variables of the job, and its GPUs; the job's own copies
  // (and the devices sjq's scheduler counted) would lie.
  const env = Object.entries(launch.env)
    .filter(([name]) => !/^SLURMD?_/.test(name) && !(job.gpus && GPU_VARIABLES.test(name)))
    .map(([name, value]) => q(`${name}=${value}`));
  if (job.gpus) env.push(`"SJQ_GPUS=\${CUDA_VISIBLE_DEVICES-}"`);
  const args = (job.args ?? []).map(q);
  return `#!/bin/sh
# sjq job ${job.id}: runs ${spool}/${job.id}.sh and records how it ended (src/slurm_executor.ts)
x=${q(`${spool}/${job.id}.exit`)}
record() { printf '%s\\n' "$1" >"$x.tmp" && mv -f "$x.tmp" "$x"; }
cd -- ${q(job.cwd)} || { record ${q(`error cannot enter working directory ${job.cwd}`)}; exit 1; }
keep=$(env | grep -E '^(SLURM_[A-Za-z0-9_]*|SLURMD_NODENAME${
    job.gpus ? "|CUDA_VISIBLE_DEVICES|GPU_DEVICE_ORDINAL|ROCR_VISIBLE_DEVICES" : ""
  })=' | grep -vE '^SLURM_(EXPORT_ENV|GET_USER_ENV)=')
trap 'stop=1' TERM
IFS='
'
set -f
env -i -- $keep ${env.join(" ")} ${q(`${spool}/${job.id}.sh`)} ${args.join(" ")} </dev/null
c=$?
record "exit $c"
exit $c
`;
}

/** An 8-hex-digit FNV-1a hash of `text`: the daemon's tag in Slurm job names. */
function daemonTag(text: string): string {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
