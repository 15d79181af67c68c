/**
 * The local executor: jobs as processes on this machine, spawned and reaped
 * by the shepherd (src/shepherd.ts), a long-lived process of its own that
 * outlives the daemon. This side starts the shepherd when none runs,
 * connects to `<spool>/shepherd.sock`, hands it jobs, and turns what it
 * says into executor events. If the shepherd dies, a new one is started:
 * it finds in the journal what the old one knew, and jobs it cannot account
 * for are reported lost, never left running in the store. The daemon is a
 * child subreaper (src/orphan_reaper.ts): the jobs of a shepherd it started
 * that dies are reparented to it, and it reaps them with their exit codes.
 *
 * Jobs of other users (a root daemon) run under a shell supervisor that
 * drops to the user (src/supervised_executor.ts, in `<spool>/as-user`).
 *
 * @module
 */

import type { Executor, ExecutorContext, ExecutorEvent, Launch, Recovering } from "./executor.ts";
import { clearLongTimeout, type LongTimer, setLongTimeout } from "./long_timer.ts";
import {
  encodeLine,
  type FromShepherd,
  LineReader,
  LineWriter,
  type ToShepherd,
} from "./shepherd_wire.ts";
import { selfCommand } from "./cli/detach.ts";
import { OrphanReaper } from "./orphan_reaper.ts";
import { SupervisedExecutor } from "./supervised_executor.ts";
import { cgroupProblem } from "./memory_cgroup.ts";

/** How long a shepherd may take to start and answer. */
const CONNECT_MS = 15_000;
const SIGTERM = 15;
const SIGKILL = 9;

/** Jobs as processes of this machine, through the shepherd. */
export class LocalExecutor implements Executor {
  readonly name = "local";
  /** Lookahead: for the jobs the shepherd runs (in a root daemon, its own), see `lookaheadFor`. */
  readonly lookahead = true;
  /** Jobs of other users, under supervisors; null unless the daemon is root. */
  readonly #asUser: SupervisedExecutor | null;
  /** The daemon's uid (a system call each time Deno is asked). */
  readonly #uid = Deno.uid();
  /** Jobs given to `#asUser`. */
  readonly #supervised = new Set<number>();
  readonly #ctx: ExecutorContext;
  readonly #spool: string;
  readonly #contain: boolean;
  /** `sjq.enforce = memory`: each job in a cgroup limited to its declared memory. */
  readonly #enforceMemory: boolean;
  #enforceChecked = false;
  #conn: Deno.UnixConn | null = null;
  readonly #writer = new LineWriter(() => this.#conn);
  /** Jobs handed over (by `start` or `recover`) and not forgotten yet. */
  readonly #jobs = new Set<number>();
  /** Lookahead jobs the shepherd holds, as far as we know (not reported running or ended). */
  readonly #held = new Set<number>();
  /** The last snapshot of the shepherd: what it knew of each job when we connected. */
  #snapshot = new Map<number, JobNews>();
  #rebooted = false;
  /** SIGKILL after the grace, by job id. */
  readonly #kills = new Map<number, LongTimer>();
  /** The last signal sent to each job being killed: sent again to a new shepherd. */
  readonly #signalled = new Map<number, number>();
  #closed = false;
  /** Resolves when a connection has had its snapshot. */
  #connected: Promise<void> | null = null;
  /** Shepherds this daemon started that still run. */
  readonly #shepherds = new Set<number>();
  /** Jobs of a shepherd that died, reaped by this daemon. */
  readonly #orphans = new OrphanReaper((end) => {
    if (!this.#jobs.has(end.id)) return;
    this.#emit({ kind: "ended", ...end });
    this.#send({ t: "adopted", ...end });
  });

  constructor(ctx: ExecutorContext, options: { contain?: boolean; enforceMemory?: boolean } = {}) {
    this.#ctx = ctx;
    this.#spool = ctx.spool;
    this.#contain = options.contain ?? true;
    this.#enforceMemory = options.enforceMemory ?? false;
    Deno.mkdirSync(this.#spool, { recursive: true, mode: 0o700 });
    Deno.chmodSync(this.#spool, 0o700); // also one made by an older sjq
    this.#asUser = this.#uid === 0
      ? new SupervisedExecutor({ ...ctx, spool: `${ctx.spool}/as-user` })
      : null;
  }

  /**
   * The shepherd holds a lookahead job and starts it when one of its own
   * jobs ends: only while every job runs there (jobs of other users start
   * under supervisors, in a free slot; a slot one of them frees comes as
   * `promoted`).
   */
  lookaheadFor(uid: number): boolean {
    return !this.#foreign(uid) && this.#supervised.size === 0;
  }

  promoted(id: number): void {
    if (this.#held.delete(id)) this.#send({ t: "go", id });
  }

  /** Whether job `job` runs as another user than the daemon's (under a supervisor). */
  #foreign(uid: number): boolean {
    return this.#asUser !== null && uid !== this.#uid;
  }

  /** Connects to the shepherd (starting one if needed) and reads what it knows. */
  open(): Promise<void> {
    this.#connected ??= this.#connect().then(() => this.#checkEnforce()).finally(() =>
      this.#connected = null
    );
    return this.#connected;
  }

  /** Refuses to run (once, at the first connection) when sjq.enforce = memory cannot be had. */
  #checkEnforce(): void {
    if (!this.#enforceMemory || this.#enforceChecked) return;
    this.#enforceChecked = true;
    const tag = Deno.readTextFileSync(`${this.#spool}/tag`).trim();
    const problem = cgroupProblem(tag);
    if (problem !== null) {
      const message = `sjq.enforce = memory cannot be used here: ${problem}`;
      this.#ctx.log.error(message);
      throw new Error(`${message}; set sjq.enforce = none, or run where cgroup v2 can be used`);
    }
    if (this.#asUser !== null) {
      this.#ctx.log.info("sjq.enforce = memory: jobs of other users are not limited yet");
    }
  }

  async #connect(): Promise<void> {
    const path = `${this.#spool}/shepherd.sock`;
    const deadline = Date.now() + CONNECT_MS;
    let spawned = false;
    let last: unknown;
    while (Date.now() < deadline) {
      const conn = await Deno.connect({ transport: "unix", path }).catch((e) => {
        last = e;
        return null;
      });
      if (conn !== null) {
        const ready = await this.#handshake(conn).catch((e) => {
          last = e;
          return false;
        });
        if (ready) return;
        try {
          conn.close();
        } catch { /* closed */ }
      }
      if (!spawned) {
        this.#spawnShepherd();
        spawned = true;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`The shepherd of ${this.#spool} does not answer: ${last}`);
  }

  /** Reads the snapshot up to `ready`, then listens for events; false if the shepherd went away. */
  async #handshake(conn: Deno.UnixConn): Promise<boolean> {
    const reader = new LineReader<FromShepherd>();
    const buf = new Uint8Array(256 * 1024);
    const snapshot = new Map<number, JobNews>();
    const early: FromShepherd[] = [];
    let ready = false;
    while (!ready) {
      const n = await conn.read(buf);
      if (n === null) return false;
      for (const m of reader.push(buf.subarray(0, n))) {
        if (ready) early.push(m);
        else if (m.t === "hello") this.#rebooted = m.rebooted;
        else if (m.t === "ready") ready = true;
        else snapshot.set(m.id, m);
      }
    }
    this.#snapshot = snapshot;
    this.#conn = conn;
    this.#send({ t: "config", contain: this.#contain });
    // Ends this daemon reaped while no shepherd listened go into the new one's journal.
    for (const end of this.#orphans.ends()) this.#send({ t: "adopted", ...end });
    for (const m of early) this.#heard(m);
    this.#listen(conn, reader, buf);
    return true;
  }

  /** This spool's job mark (src/shepherd.ts `spoolTag`), or "" before a shepherd made one. */
  #tag(): string {
    try {
      return Deno.readTextFileSync(`${this.#spool}/tag`).trim();
    } catch {
      return "";
    }
  }

  #spawnShepherd(): void {
    const [program, ...pre] = selfCommand();
    try {
      const child = new Deno.Command("setsid", {
        args: [program, ...pre, "__shepherd", this.#spool],
        cwd: "/",
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      // `setsid` execs the shepherd in place (it leads no group): this is the shepherd's pid.
      this.#shepherds.add(child.pid);
      child.status.catch(() => {}).finally(() => this.#shepherds.delete(child.pid));
      child.unref();
    } catch (e) {
      this.#ctx.log.error(`cannot start the shepherd: ${(e as Error).message}`);
    }
  }

  async #listen(conn: Deno.UnixConn, reader: LineReader<FromShepherd>, buf: Uint8Array) {
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        for (const m of reader.push(buf.subarray(0, n))) this.#heard(m);
      }
    } catch { /* gone */ }
    if (this.#conn !== conn || this.#closed) return;
    this.#conn = null;
    // What was not written is void: jobs it started are reported unstarted, kills are sent again.
    this.#writer.clear();
    const handedOver = [...this.#jobs];
    this.#ctx.log.error("the shepherd went away: starting a new one");
    try {
      await this.open();
    } catch (e) {
      this.#ctx.log.error(`${(e as Error).message}`);
      for (const id of handedOver) {
        this.#emit(lost(id, "lost: its shepherd died and no new one started"));
      }
      return;
    }
    // Whatever the old shepherd knew is in the new one's snapshot; what it never got did not start.
    // Its jobs that ended meanwhile were reparented to this daemon: their ends come first.
    this.#orphans.sweep();
    for (const id of handedOver) if (this.#jobs.has(id)) this.#settleFromSnapshot(id);
    for (const [id, signal] of this.#signalled) this.#send({ t: "kill", id, signal });
    for (const id of this.#snapshot.keys()) {
      if (!this.#jobs.has(id)) this.#send({ t: "forget", id });
    }
  }

  #heard(m: FromShepherd): void {
    if (m.t === "hello" || m.t === "ready" || !this.#jobs.has(m.id)) return;
    this.#held.delete(m.id);
    this.#emit(this.#event(m, m.t === "lost"));
  }

  /**
   * The event for what the shepherd says of a job, unless this daemon
   * reaped the job itself (`reap`: try to, first): then its real end.
   */
  #event(m: JobNews, reap: boolean): ExecutorEvent {
    if (m.t === "running" || (m.t === "lost" && m.pid !== undefined)) {
      this.#orphans.track(m.id, m.pid!, m.ticks);
    } else if (m.t === "lost" && m.spawning !== undefined && this.#orphans.active) {
      this.#orphans.claim(m.id, m.spawning, this.#tag(), this.#shepherds);
    }
    const end = reap ? this.#orphans.endOf(m.id) : this.#orphans.reaped(m.id);
    return end !== undefined ? { kind: "ended", ...end } : toEvent(m);
  }

  #emit(event: ExecutorEvent): void {
    if (!this.#closed) this.#ctx.emit(event);
  }

  #send(message: ToShepherd): void {
    this.#writer.send(encodeLine(message));
  }

  start(launch: Launch): void {
    const { job, script, env, ahead } = launch;
    if (this.#foreign(job.uid)) {
      this.#supervised.add(job.id);
      return this.#asUser!.start(launch);
    }
    this.#jobs.add(job.id);
    if (ahead) this.#held.add(job.id);
    let text: string | undefined;
    try {
      text = fatal.decode(script);
    } catch { /* not UTF-8: sent as base64 */ }
    this.#send({
      t: "start",
      id: job.id,
      ...(text !== undefined ? { script: text } : { scriptBase64: toBase64(script) }),
      args: job.args ?? [],
      env: { ...env },
      cwd: job.cwd,
      stdout: job.stdout,
      stderr: job.stderr,
      ...(ahead ? { ahead } : {}),
      ...(this.#enforceMemory ? { memMax: job.mem } : {}),
    });
  }

  kill(id: number, graceMs: number): void {
    if (this.#supervised.has(id)) return this.#asUser!.kill(id, graceMs);
    if (!this.#jobs.has(id)) return;
    this.#signal(id, SIGTERM);
    clearLongTimeout(this.#kills.get(id));
    this.#kills.set(
      id,
      setLongTimeout(() => {
        this.#kills.delete(id);
        if (this.#jobs.has(id)) this.#signal(id, SIGKILL);
      }, graceMs),
    );
  }

  #signal(id: number, signal: number): void {
    this.#signalled.set(id, signal);
    this.#send({ t: "kill", id, signal });
  }

  recover(all: readonly Recovering[]): void {
    const foreign = all.filter(({ job }) => this.#foreign(job.uid));
    for (const { job } of foreign) this.#supervised.add(job.id);
    this.#asUser?.recover(foreign);
    const jobs = all.filter(({ job }) => !this.#foreign(job.uid));
    const given = new Set(jobs.map(({ job }) => job.id));
    for (const id of this.#snapshot.keys()) {
      if (!given.has(id) && !this.#jobs.has(id)) this.#send({ t: "forget", id });
    }
    for (const { job } of jobs) {
      this.#jobs.add(job.id);
      try {
        this.#settleFromSnapshot(job.id);
      } catch (e) {
        this.#ctx.log.error(`job ${job.id}: recovery failed: ${(e as Error).stack ?? e}`);
        this.#emit(lost(job.id, `lost: recovery failed: ${(e as Error).message}`));
      }
    }
  }

  /** Reports what the shepherd's snapshot says of a job we hold. */
  #settleFromSnapshot(id: number): void {
    const known = this.#snapshot.get(id);
    if (known !== undefined) return this.#emit(this.#event(known, true));
    const end = this.#orphans.endOf(id);
    if (end !== undefined) return this.#emit({ kind: "ended", ...end });
    // Not in the journal, which has every job before it is spawned: it never started.
    if (this.#rebooted) return this.#emit(lost(id, "lost: the machine restarted while it ran"));
    this.#emit({ kind: "unstarted", id });
  }

  forget(id: number): void {
    if (this.#supervised.delete(id)) return this.#asUser!.forget(id);
    this.#jobs.delete(id);
    this.#held.delete(id);
    this.#snapshot.delete(id);
    this.#orphans.forget(id);
    clearLongTimeout(this.#kills.get(id));
    this.#kills.delete(id);
    this.#signalled.delete(id);
    this.#send({ t: "forget", id });
  }

  async close(mode: "detach" | "kill"): Promise<void> {
    await this.#asUser?.close(mode);
    if (mode === "kill") {
      for (const id of this.#jobs) this.#send({ t: "kill", id, signal: SIGKILL });
    }
    this.#closed = true;
    this.#orphans.close();
    for (const t of this.#kills.values()) clearLongTimeout(t);
    // What is queued (forgets, kills) goes out before the connection closes.
    const deadline = Date.now() + 2000;
    while (
      this.#writer.busy && this.#conn !== null && Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 1));
    }
    const conn = this.#conn;
    this.#conn = null;
    try {
      conn?.close();
    } catch { /* closed */ }
  }
}

const fatal = new TextDecoder("utf-8", { fatal: true });

/** What the shepherd says of one job. */
type JobNews = Exclude<FromShepherd, { t: "hello" } | { t: "ready" }>;

function toEvent(m: JobNews): ExecutorEvent {
  switch (m.t) {
    case "running":
      return { kind: "started", id: m.id, at: m.at, handle: String(m.pid), pid: m.pid };
    case "ended":
      return { kind: "ended", id: m.id, at: m.at, outcome: m.outcome, usage: m.usage };
    case "lost":
      return { kind: "lost", id: m.id, at: m.at, reason: m.reason };
  }
}

function lost(id: number, reason: string): ExecutorEvent {
  return { kind: "lost", id, at: Date.now(), reason };
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}
