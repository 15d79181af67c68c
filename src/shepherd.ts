/**
 * The shepherd: one long-lived process per spool directory (`sjq
 * __shepherd <spool>`, in a session of its own) that spawns and reaps every
 * job of the local executor, so that jobs, their exit codes and end times
 * outlive the daemon. The daemon talks to it over `<spool>/shepherd.sock`
 * (src/shepherd_wire.ts); a restarted daemon reconnects and is told what
 * became of every job.
 *
 * - Each job is one exec: `posix_spawn` with `POSIX_SPAWN_SETSID`
 *   (src/libc.ts), so its pid is its process group and session. A script
 *   without `#!` runs as `sh -c SCRIPT`; others are written to
 *   `<spool>/jobs/<id>` and exec'd.
 * - Ends are reaped with `wait4(pid, WNOHANG)` for its own children on
 *   SIGCHLD (and once a second, in case a signal was missed).
 * - `<spool>/journal` (append-only JSON lines) keeps what a new shepherd
 *   needs: `P` (about to spawn), `S` (spawned, pid), `E` (ended, outcome),
 *   `F` (forgotten by the daemon), `B` (boot id). `E` lines are fdatasynced
 *   while no daemon is connected (a connected daemon commits the end
 *   itself). The journal is compacted when a shepherd starts and every
 *   few thousand forgotten jobs.
 * - Connections are served one after the other: a new daemon hears the
 *   snapshot only after everything the last one sent has been acted on.
 * - Containment (`sjq.contain`): the shepherd is a child subreaper, so
 *   descendants that leave a job's group or session are reparented to it
 *   when their parent ends; those left when the job ends, and any process
 *   marked with the job's `SJQ_JOB_TAG` (this spool's tag and the job id)
 *   when it is killed, are ended with it.
 * - It exits once no daemon is connected and no job of its runs.
 *
 * @module
 */

import type { Outcome, Usage } from "./executor.ts";
import { Libc } from "./libc.ts";
import {
  bootId,
  groupOf,
  jobOf,
  markedProcesses,
  ownChildren,
  sameProcess,
  signalGroup,
  signalOne,
  startTicks,
} from "./processes.ts";
import { MemorySampler } from "./memory_sampler.ts";
import { inCgroup, JobCgroups } from "./memory_cgroup.ts";
import {
  encodeLine,
  type FromShepherd,
  LineReader,
  LineWriter,
  type StartMessage,
  type ToShepherd,
} from "./shepherd_wire.ts";
import { interpreterProblem, isDirectory } from "./file_tests.ts";

/** Scripts up to this size without `#!` and NUL run as `sh -c`; others from a file. */
const INLINE_MAX = 64 * 1024;
/** Compact the journal after this many forgotten jobs. */
const COMPACT_AFTER = 5000;
/** How long a shepherd with nothing to do waits for a daemon before it exits. */
const IDLE_EXIT_MS = 3000;

/** What the shepherd knows about one job. */
interface Job {
  id: number;
  /** `prepared`: about to be spawned (or was, by a shepherd that died); `orphan`: spawned by a dead shepherd. */
  state: "prepared" | "running" | "orphan" | "ended" | "lost";
  pid: number;
  at: number;
  /** Start time of the process (/proc stat field 22), to recognise it after a shepherd restart. */
  ticks?: string;
  outcome?: Outcome;
  usage?: Usage | null;
  reason?: string;
  /** The script file, when it needed one. */
  file?: string;
  /** When a shepherd that died began spawning it (its pid unknown: the daemon may find it). */
  spawning?: number;
  /** Whether it runs in a cgroup of its own (`sjq.enforce = memory`, src/memory_cgroup.ts). */
  cgroup?: boolean;
}

type JournalLine =
  | { t: "B"; boot: string }
  | { t: "P"; id: number; at: number }
  | { t: "S"; id: number; pid: number; at: number; ticks?: string; file?: string }
  | { t: "E"; id: number; at: number; outcome: Outcome; usage: Usage | null }
  | {
    t: "L";
    id: number;
    at: number;
    reason: string;
    pid?: number;
    ticks?: string;
    spawning?: number;
  }
  | { t: "F"; id: number };

const encoder = new TextEncoder();

/** Runs the shepherd of `spool` until it has nothing left to do; returns the exit code. */
export async function runShepherd(args: string[]): Promise<number> {
  const spool = args[0];
  if (spool === undefined) {
    console.error("error: usage: sjq __shepherd SPOOL (started by the daemon)");
    return 2;
  }
  const lock = Deno.openSync(`${spool}/shepherd.lock`, {
    read: true,
    write: true,
    create: true,
    mode: 0o600,
  });
  if (!lock.tryLockSync(true)) return 0; // another shepherd serves this spool
  const shepherd = new Shepherd(spool);
  await shepherd.serve();
  lock.close();
  return 0;
}

class Shepherd {
  readonly #spool: string;
  /**
   * This spool's mark in every job's environment (`SJQ_JOB_TAG=<tag>.<id>`):
   * job ids repeat across daemons, so containment ends only descendants
   * that carry this spool's tag, never another daemon's jobs.
   */
  readonly #tag: string;
  readonly #libc = new Libc();
  readonly #jobs = new Map<number, Job>();
  readonly #subreaper: boolean;
  /** The summed memory of each running job's processes (src/memory_sampler.ts). */
  readonly #memory: MemorySampler;
  readonly #cgroups: JobCgroups;
  #journal!: Deno.FsFile;
  #pending: string[] = [];
  #flushQueued = false;
  #forgotten = 0;
  #rebooted = false;
  #contain = true;
  #conn: Deno.UnixConn | null = null;
  readonly #writer = new LineWriter(() => this.#conn);
  #listener!: Deno.UnixListener;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Lookahead jobs waiting for a slot, in the order the daemon sent them. */
  #waiting: StartMessage[] = [];
  /**
   * Slots freed (jobs ended) and not taken by a start since: a lookahead job
   * that comes while there is one starts at once.
   */
  #credit = 0;
  #done!: () => void;

  constructor(spool: string) {
    this.#spool = spool;
    this.#subreaper = this.#libc.becomeSubreaper();
    Deno.mkdirSync(`${spool}/jobs`, { recursive: true, mode: 0o700 });
    Deno.chmodSync(`${spool}/jobs`, 0o700); // also one made by an older sjq
    this.#tag = spoolTag(spool);
    this.#memory = new MemorySampler(this.#tag);
    this.#cgroups = new JobCgroups(this.#tag);
  }

  async serve(): Promise<void> {
    this.#load();
    this.#compact();
    const path = `${this.#spool}/shepherd.sock`;
    try {
      Deno.removeSync(path);
    } catch { /* none */ }
    this.#listener = Deno.listen({ transport: "unix", path });
    Deno.chmodSync(path, 0o600);
    Deno.addSignalListener("SIGCHLD", () => this.#reapAll());
    // Jobs must not die with the shepherd's terminal or a stray signal to its group.
    for (const sig of ["SIGHUP", "SIGTERM", "SIGINT"] as const) {
      Deno.addSignalListener(sig, () => {});
    }
    const sweep = setInterval(() => {
      this.#reapAll();
      if (this.#pending.length > 0) this.#flush();
    }, 1000);
    const finished = new Promise<void>((resolve) => this.#done = resolve);
    this.#checkIdle();
    (async () => {
      for await (const conn of this.#listener) await this.#session(conn);
    })().catch(() => {});
    await finished;
    clearInterval(sweep);
    this.#memory.stop();
    this.#flush(true);
    try {
      Deno.removeSync(path);
    } catch { /* gone */ }
  }

  // --- The journal ---------------------------------------------------------

  #load(): void {
    const path = `${this.#spool}/journal`;
    let text = "";
    try {
      text = Deno.readTextFileSync(path);
    } catch { /* a fresh spool */ }
    let boot: string | null = null;
    for (const line of text.split("\n")) {
      if (line === "") continue;
      let entry: JournalLine;
      try {
        entry = JSON.parse(line) as JournalLine;
      } catch {
        continue; // torn by a crash
      }
      switch (entry.t) {
        case "B":
          boot = entry.boot;
          break;
        case "P":
          this.#jobs.set(entry.id, { id: entry.id, state: "prepared", pid: 0, at: entry.at });
          break;
        case "S":
          this.#jobs.set(entry.id, {
            id: entry.id,
            state: "orphan",
            pid: entry.pid,
            at: entry.at,
            ...(entry.ticks ? { ticks: entry.ticks } : {}),
            ...(entry.file ? { file: entry.file } : {}),
          });
          break;
        case "E": {
          const job = this.#jobs.get(entry.id);
          this.#jobs.set(entry.id, {
            ...(job ?? { id: entry.id, pid: 0 }),
            state: "ended",
            at: entry.at,
            outcome: entry.outcome,
            usage: entry.usage,
          });
          break;
        }
        case "L":
          this.#jobs.set(entry.id, {
            id: entry.id,
            pid: entry.pid ?? 0,
            state: "lost",
            at: entry.at,
            reason: entry.reason,
            ...(entry.ticks ? { ticks: entry.ticks } : {}),
            ...(entry.spawning ? { spawning: entry.spawning } : {}),
          });
          break;
        case "F":
          this.#jobs.delete(entry.id);
      }
    }
    const now = bootId();
    this.#rebooted = boot !== null && boot !== now;
    for (const job of this.#jobs.values()) {
      if (job.state === "prepared") {
        job.spawning = job.at;
        this.#lose(job, "lost: its shepherd died as it started the job (the exit code is unknown)");
      } else if (job.state === "orphan") {
        if (this.#rebooted) this.#lose(job, "lost: the machine restarted while it ran");
        else if (!sameProcess(job.pid, job.ticks)) {
          this.#lose(job, "lost: its shepherd died while it ran (the exit code is unknown)");
        }
      }
    }
  }

  #lose(job: Job, reason: string): void {
    job.state = "lost";
    job.reason = reason;
    job.at = Date.now();
  }

  /** Rewrites the journal with only what is still needed, durably. */
  #compact(): void {
    const lines: JournalLine[] = [{ t: "B", boot: bootId() }];
    for (const job of this.#jobs.values()) {
      if (job.state === "orphan" || job.state === "running") {
        lines.push({
          t: "S",
          id: job.id,
          pid: job.pid,
          at: job.at,
          ...(job.ticks ? { ticks: job.ticks } : {}),
          ...(job.file ? { file: job.file } : {}),
        });
      } else if (job.state === "ended") {
        lines.push({
          t: "E",
          id: job.id,
          at: job.at,
          outcome: job.outcome!,
          usage: job.usage ?? null,
        });
      } else if (job.state === "lost") lines.push(lostLine(job));
    }
    const path = `${this.#spool}/journal`;
    const tmp = `${path}.tmp`;
    const text = lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
    const file = Deno.openSync(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
    writeAll(file, encoder.encode(text));
    file.syncSync();
    file.close();
    if (this.#pending.length > 0) this.#pending = [];
    this.#journal?.close();
    Deno.renameSync(tmp, path);
    syncDir(this.#spool);
    this.#journal = Deno.openSync(path, { append: true });
    this.#forgotten = 0;
  }

  #record(line: JournalLine): void {
    this.#pending.push(JSON.stringify(line));
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /**
   * Writes what was recorded; syncs it when no daemon is connected (or
   * `sync`). On failure (a full disk) the lines are kept and written again
   * by the next flush; returns whether everything is written.
   */
  #flush(sync = false): boolean {
    this.#flushQueued = false;
    if (this.#pending.length === 0) return true;
    const lines = this.#pending;
    this.#pending = [];
    try {
      writeAll(this.#journal, encoder.encode(lines.join("\n") + "\n"));
      if (sync || this.#conn === null) this.#journal.syncDataSync();
      return true;
    } catch {
      // A partly written line is torn; the next flush starts on a new line.
      this.#pending = ["", ...lines, ...this.#pending];
      return false;
    }
  }

  // --- Daemon connections ----------------------------------------------------

  async #session(conn: Deno.UnixConn): Promise<void> {
    clearTimeout(this.#idleTimer);
    this.#conn = conn;
    this.#writer.clear();
    this.#send({ t: "hello", rebooted: this.#rebooted });
    for (const job of this.#jobs.values()) {
      const m = this.#describe(job);
      if (m !== null) this.#send(m);
    }
    this.#send({ t: "ready" });
    const reader = new LineReader<ToShepherd>();
    const buf = new Uint8Array(256 * 1024);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        for (const message of reader.push(buf.subarray(0, n))) this.#handle(message);
        this.#flush();
      }
    } catch { /* the daemon died */ }
    try {
      conn.close();
    } catch { /* closed */ }
    this.#conn = null;
    // Lookahead jobs of a daemon that is gone never start: its successor queues them again.
    this.#waiting = [];
    this.#credit = 0;
    this.#flush(true);
    this.#checkIdle();
  }

  #describe(job: Job): FromShepherd | null {
    switch (job.state) {
      case "running":
      case "orphan":
        return {
          t: "running",
          id: job.id,
          pid: job.pid,
          at: job.at,
          ...(job.ticks ? { ticks: job.ticks } : {}),
        };
      case "ended":
        return {
          t: "ended",
          id: job.id,
          at: job.at,
          outcome: job.outcome!,
          usage: job.usage ?? null,
        };
      case "lost":
        return { ...lostLine(job), t: "lost" };
      case "prepared":
        return null;
    }
  }

  #send(message: FromShepherd): void {
    if (this.#conn === null) return;
    this.#writer.send(encodeLine(message));
  }

  #handle(message: ToShepherd): void {
    switch (message.t) {
      case "start":
        // Every start takes a freed slot, if the shepherd counted one; a lookahead job waits for one.
        if (this.#credit > 0) this.#credit--;
        else if (message.ahead) return void this.#waiting.push(message);
        return this.#start(message);
      case "kill":
        return this.#kill(message.id, message.signal);
      case "go": {
        const waiting = this.#waiting.findIndex((m) => m.id === message.id);
        if (waiting < 0) return; // started already, by the end of one of its jobs
        return this.#start(this.#waiting.splice(waiting, 1)[0]!);
      }
      case "forget": {
        const job = this.#jobs.get(message.id);
        if (job === undefined) return;
        if (job.state === "running" || job.state === "orphan") return; // still ours to watch
        this.#jobs.delete(message.id);
        this.#record({ t: "F", id: message.id });
        if (++this.#forgotten >= COMPACT_AFTER) {
          this.#flush();
          this.#compact();
        }
        return;
      }
      case "config":
        this.#contain = message.contain;
        return;
      case "adopted": {
        // A job of a shepherd that died, reaped by the daemon, which it was reparented to.
        const job = this.#jobs.get(message.id);
        if (job === undefined || job.state === "running" || job.state === "ended") return;
        Object.assign(job, {
          state: "ended",
          at: message.at,
          outcome: message.outcome,
          usage: message.usage,
        });
        this.#record({
          t: "E",
          id: job.id,
          at: job.at,
          outcome: message.outcome,
          usage: message.usage,
        });
      }
    }
  }

  #checkIdle(): void {
    clearTimeout(this.#idleTimer);
    if (this.#conn !== null) return;
    const busy = [...this.#jobs.values()].some((j) =>
      j.state === "running" || j.state === "orphan"
    );
    if (busy) return;
    this.#idleTimer = setTimeout(() => {
      if (this.#conn !== null) return;
      this.#listener.close();
      this.#done();
    }, IDLE_EXIT_MS);
  }

  // --- Jobs -------------------------------------------------------------------

  #start(m: StartMessage): void {
    if (this.#jobs.has(m.id)) return; // handed over twice: it runs once
    const at = Date.now();
    const job: Job = { id: m.id, state: "prepared", pid: 0, at };
    this.#jobs.set(m.id, job);
    // On disk before the spawn: a shepherd that dies in between leaves "maybe started", never "not started".
    this.#record({ t: "P", id: m.id, at });
    if (!this.#flush()) {
      this.#pending = this.#pending.filter((l) => l !== `{"t":"P","id":${m.id},"at":${at}}`);
      return this.#end(
        job,
        { kind: "error", reason: "cannot start: cannot write the journal" },
        null,
      );
    }
    const problem = this.#spawn(job, m);
    if (problem !== null) return this.#end(job, { kind: "error", reason: problem }, null);
    job.state = "running";
    this.#memory.track(job.id, job.pid);
    const ticks = startTicks(job.pid);
    if (ticks !== undefined) job.ticks = ticks;
    this.#record({
      t: "S",
      id: m.id,
      pid: job.pid,
      at: job.at,
      ...(ticks ? { ticks } : {}),
      ...(job.file ? { file: job.file } : {}),
    });
    // Written at once: a shepherd killed from here on leaves the pid, so the daemon can reap the job.
    this.#flush();
    this.#send({ t: "running", id: m.id, pid: job.pid, at: job.at, ...(ticks ? { ticks } : {}) });
  }

  /** Spawns the job; returns why it cannot start, or null. */
  #spawn(job: Job, m: StartMessage): string | null {
    const script = m.script ?? atob(m.scriptBase64 ?? "");
    const name = `${this.#spool}/jobs/${m.id}`;
    let argv: string[];
    const hashBang = script.startsWith("#!");
    if (
      !hashBang && m.script !== undefined && script.length <= INLINE_MAX && !script.includes("\0")
    ) {
      argv = ["/bin/sh", "-c", script, name, ...m.args];
    } else {
      const problem = hashBang ? interpreterProblem(script.split("\n", 1)[0]!) : null;
      if (problem !== null) return problem;
      try {
        const bytes = m.scriptBase64 !== undefined
          ? Uint8Array.from(script, (c) => c.charCodeAt(0))
          : encoder.encode(script);
        Deno.writeFileSync(name, bytes, { mode: 0o700 });
      } catch (e) {
        return `cannot start: ${(e as Error).message}`;
      }
      job.file = name;
      argv = hashBang ? [name, ...m.args] : ["/bin/sh", name, ...m.args];
    }
    if (!isDirectory(m.cwd)) return `cannot enter working directory ${m.cwd}`;
    if (m.memMax !== undefined) {
      const cgroup = this.#cgroups.create(m.id, m.memMax);
      if ("problem" in cgroup) return `cannot start: ${cgroup.problem}`;
      argv = inCgroup(cgroup.dir, argv);
      job.cgroup = true;
    }
    const stdout = this.#libc.openOutput(m.stdout);
    if (typeof stdout === "string") return `cannot open stdout file ${m.stdout}: ${stdout}`;
    let stderr: number | string = stdout;
    if (m.stderr !== m.stdout) stderr = this.#libc.openOutput(m.stderr);
    if (typeof stderr === "string") {
      this.#libc.close(stdout);
      return `cannot open stderr file ${m.stderr}: ${stderr}`;
    }
    const env = { ...m.env, SJQ_JOB_TAG: `${this.#tag}.${m.id}` };
    const pid = this.#libc.spawn({ argv, env, cwd: m.cwd, stdout, stderr });
    this.#libc.close(stdout);
    if (stderr !== stdout) this.#libc.close(stderr);
    if (typeof pid === "string") return `cannot start: ${pid}`;
    job.pid = pid;
    return null;
  }

  #kill(id: number, signal: number): void {
    const waiting = this.#waiting.findIndex((m) => m.id === id);
    if (waiting >= 0) {
      // Never started, and it held no slot: ended without freeing one.
      this.#waiting.splice(waiting, 1);
      const outcome: Outcome = { kind: "error", reason: "killed before it started" };
      this.#send({ t: "ended", id, at: Date.now(), outcome, usage: null });
      return;
    }
    const job = this.#jobs.get(id);
    if (job === undefined || (job.state !== "running" && job.state !== "orphan")) return;
    signalGroup(job.pid, signal);
    if (!this.#contain) return;
    // Its descendants that left its process group, each group (or process) signalled once.
    const groups = new Set([job.pid]);
    for (const pid of markedProcesses(this.#tag, id)) {
      const group = groupOf(pid);
      if (group === null || groups.has(group)) continue;
      if (group === pid) {
        groups.add(group);
        signalGroup(pid, signal);
      } else signalOne(pid, signal);
    }
  }

  /** Reaps every job that has ended, ends what escaped from ended jobs, and watches orphans. */
  #reapAll(): void {
    let ended = false;
    for (const job of this.#jobs.values()) {
      if (job.state === "running") {
        const r = this.#libc.reap(job.pid);
        if (r === null) continue;
        let outcome: Outcome = r.code !== null
          ? { kind: "exit", code: r.code }
          : { kind: "signal", signal: r.signal! };
        let maxRss = this.#memory.untrack(job.pid, r.maxRss);
        if (job.cgroup) {
          const { peak, oomKilled } = this.#cgroups.finish(job.id);
          if (peak !== null) maxRss = Math.max(maxRss ?? 0, peak);
          const reason = "out of memory: it took more than it declared (sjq.enforce = memory)";
          if (oomKilled) outcome = { ...outcome, reason };
        }
        this.#end(job, outcome, { userMs: r.userMs, systemMs: r.systemMs, maxRss });
        ended = true;
      } else if (job.state === "orphan" && !sameProcess(job.pid, job.ticks)) {
        job.state = "lost";
        job.at = Date.now();
        job.reason = "lost: its shepherd died while it ran (the exit code is unknown)";
        const line = lostLine(job);
        this.#record(line);
        this.#send({ ...line, t: "lost" });
        this.#slotFreed();
        ended = true;
      }
    }
    if (this.#subreaper) this.#reapStrays();
    if (ended) {
      this.#flush();
      this.#checkIdle();
    }
  }

  #end(job: Job, outcome: Outcome, usage: Usage | null): void {
    job.state = "ended";
    job.at = Date.now();
    job.outcome = outcome;
    job.usage = usage;
    this.#record({ t: "E", id: job.id, at: job.at, outcome, usage });
    // Written at once: the child is reaped, so a shepherd killed before this line lost its exit code.
    this.#flush();
    this.#send({ t: "ended", id: job.id, at: job.at, outcome, usage });
    if (job.file !== undefined) {
      try {
        Deno.removeSync(job.file);
      } catch { /* gone */ }
    }
    this.#slotFreed();
  }

  /** A job ended: the first lookahead job takes its slot, or the next one to come does. */
  #slotFreed(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#credit++;
    else this.#start(next);
  }

  /**
   * Children of the shepherd that are not jobs were reparented to it (it is
   * a subreaper): descendants of jobs whose parent ended. Those of a job
   * that has ended are ended too (containment); all are reaped when they
   * end, and their own children are reparented to the shepherd in turn.
   */
  #reapStrays(): void {
    const children = ownChildren();
    if (children.length === 0) return;
    const jobPids = new Set<number>();
    for (const job of this.#jobs.values()) if (job.state === "running") jobPids.add(job.pid);
    for (const pid of children) {
      if (jobPids.has(pid)) continue;
      if (this.#libc.reap(pid) !== null) continue;
      if (!this.#contain) continue;
      const owner = jobOf(this.#tag, pid);
      const job = owner === null ? undefined : this.#jobs.get(owner);
      if (job === undefined || job.state !== "running") {
        signalGroup(pid, 9);
        signalOne(pid, 9);
      }
    }
  }
}

/** The journal's `L` line of a lost job (with its process, when it had one). */
function lostLine(job: Job): JournalLine & { t: "L" } {
  return {
    t: "L",
    id: job.id,
    at: job.at,
    reason: job.reason!,
    ...(job.pid > 0 ? { pid: job.pid } : {}),
    ...(job.ticks ? { ticks: job.ticks } : {}),
    ...(job.spawning ? { spawning: job.spawning } : {}),
  };
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
}

function syncDir(dir: string): void {
  try {
    const d = Deno.openSync(dir, { read: true });
    d.syncSync();
    d.close();
  } catch { /* best effort */ }
}

/** The spool's random tag, made once and kept in `<spool>/tag`. */
function spoolTag(spool: string): string {
  const path = `${spool}/tag`;
  try {
    const tag = Deno.readTextFileSync(path).trim();
    if (/^[0-9a-f]{16}$/.test(tag)) return tag;
  } catch { /* a fresh spool */ }
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  const tag = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  Deno.writeTextFileSync(path, `${tag}\n`, { mode: 0o600 });
  return tag;
}
