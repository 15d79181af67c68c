/**
 * End-to-end test harness: a real `sjq daemon` on a temporary socket and
 * HOME, driven through the real CLI and raw protocol bytes.
 *
 * Every resource is an `AsyncDisposable`, so `await using` cleans up daemons
 * and temporary directories even when an assertion fails.
 *
 * @module
 */

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const DENO = Deno.execPath();

/** Options for {@linkcode startDaemon}. */
export interface DaemonOptions {
  /** Extra `sjq daemon` flags, e.g. `["--maxprocs", "2"]`. */
  args?: string[];
  /** Text of the rc file written to `$HOME/.sjqrc`. */
  rc?: string;
  /** Extra environment for the daemon process. */
  env?: Record<string, string>;
  /** Reuse this directory as HOME (for restarts); otherwise a new one is made. */
  home?: string;
  /** Do not wait for the socket to answer PING (for tests of failing starts). */
  noWait?: boolean;
}

/** Result of a finished CLI or daemon process. */
export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Polls `cond` every 20 ms until it returns a truthy value or `ms` pass. */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  what: string,
  ms = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`Timed out after ${ms} ms waiting for ${what}${last ? `: ${last}` : ""}`);
}

/** A temporary directory removed on dispose. */
export async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "sjq-test-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** Base environment for every sjq process a test starts: nothing of ours leaks in. */
export function baseEnv(home: string, socket: string): Record<string, string> {
  return {
    HOME: home,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    SJQ_SOCKET: socket,
    NO_COLOR: "1",
  };
}

/** Runs `sjq ARGS…` from source and collects its output. */
export async function sjq(
  args: string[],
  opts: { env: Record<string, string>; stdin?: string; cwd?: string; clearEnv?: boolean },
): Promise<Output> {
  const cmd = new Deno.Command(DENO, {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    env: opts.env,
    clearEnv: opts.clearEnv ?? true,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  const child = cmd.spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A running daemon under test. */
export class TestDaemon implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #ownsHome: boolean;
  #stderr = "";
  #code: number | undefined;
  #exited: Promise<Deno.CommandStatus>;
  #stderrDone: Promise<void>;

  private constructor(
    readonly home: string,
    readonly socket: string,
    child: Deno.ChildProcess,
    ownsHome: boolean,
  ) {
    this.#child = child;
    this.#ownsHome = ownsHome;
    this.#exited = child.status.then((s) => {
      this.#code = s.code;
      return s;
    });
    this.#stderrDone = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of child.stderr) this.#stderr += dec.decode(chunk, { stream: true });
    })();
  }

  /** Starts `sjq daemon` in the foreground on `$HOME/sjq.sock` and waits until it answers. */
  static async start(opts: DaemonOptions = {}): Promise<TestDaemon> {
    const ownsHome = opts.home === undefined;
    const home = opts.home ?? await Deno.makeTempDir({ prefix: "sjq-test-" });
    const socket = `${home}/sjq.sock`;
    if (opts.rc !== undefined) await Deno.writeTextFile(`${home}/.sjqrc`, opts.rc);
    const child = new Deno.Command(DENO, {
      args: ["run", "-A", "--quiet", MAIN, "daemon", ...(opts.args ?? [])],
      env: { ...baseEnv(home, socket), ...opts.env },
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const d = new TestDaemon(home, socket, child, ownsHome);
    if (!opts.noWait) {
      try {
        await waitFor(async () => {
          if (d.exitedCode !== undefined) throw new Error(`daemon exited: ${d.stderr}`);
          using c = await RawClient.connect(socket).catch(() => undefined) ?? null;
          return c !== null;
        }, "the daemon socket");
      } catch (e) {
        await d[Symbol.asyncDispose]();
        throw new Error(`${(e as Error).message}\ndaemon stderr:\n${d.stderr}`);
      }
    }
    return d;
  }

  /** The exit code once the daemon has exited. */
  get exitedCode(): number | undefined {
    return this.#code;
  }
  /** Everything the daemon wrote to stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }
  /** The daemon's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Environment for CLI processes talking to this daemon. */
  get env(): Record<string, string> {
    return baseEnv(this.home, this.socket);
  }

  /** Runs the CLI against this daemon. */
  cli(args: string[], opts: { stdin?: string; cwd?: string; env?: Record<string, string> } = {}) {
    return sjq(args, {
      env: { ...this.env, ...opts.env },
      ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    });
  }

  /** Opens a raw protocol connection. */
  connect(): Promise<RawClient> {
    return RawClient.connect(this.socket);
  }

  /** Waits for the daemon to exit and returns its status. */
  async exited(): Promise<Deno.CommandStatus> {
    const s = await this.#exited;
    await this.#stderrDone;
    return s;
  }

  /** Sends a signal to the daemon process. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.#child.kill(signal);
    } catch { /* already gone */ }
  }

  /** Stops the daemon with SIGKILL (crash) and waits for it. */
  async crash(): Promise<void> {
    this.kill("SIGKILL");
    await this.exited();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill("SIGKILL");
    await this.exited();
    // Jobs outlive the daemon by design: end every job process still running
    // from this HOME so that tests leave nothing behind.
    await killJobsUnder(this.home);
    if (this.#ownsHome) await Deno.remove(this.home, { recursive: true }).catch(() => {});
  }
}

/** Kills every process whose command line mentions `dir` (jobs and their supervisors). */
export async function killJobsUnder(dir: string): Promise<void> {
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const pid = Number(e.name);
    if (pid === Deno.pid) continue;
    try {
      const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`);
      if (cmdline.includes(dir)) Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
}

/** A raw protocol connection that reads replies exactly as bytes arrive. */
export class RawClient implements Disposable {
  #conn: Deno.UnixConn;
  #buf = new Uint8Array(0);

  private constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
  }

  /** Connects to a daemon socket. */
  static async connect(path: string): Promise<RawClient> {
    return new RawClient(await Deno.connect({ transport: "unix", path }));
  }

  /** Sends raw text or bytes. */
  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(65536);
    const n = await this.#conn.read(chunk);
    if (n === null) return false;
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
    return true;
  }

  /** Reads one line including its terminator; null at end of stream. */
  async line(): Promise<string | null> {
    for (;;) {
      const i = this.#buf.indexOf(10);
      if (i >= 0) {
        const line = new TextDecoder().decode(this.#buf.subarray(0, i + 1));
        this.#buf = this.#buf.subarray(i + 1);
        return line;
      }
      if (!await this.#fill()) return null;
    }
  }

  /** Reads exactly n bytes. */
  async bytes(n: number): Promise<Uint8Array> {
    while (this.#buf.length < n) {
      if (!await this.#fill()) {
        throw new Error(`Connection closed with ${this.#buf.length}/${n} bytes`);
      }
    }
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /** Sends a request and returns the reply line (with its `\r\n`). */
  async request(text: string): Promise<string> {
    await this.send(text);
    const l = await this.line();
    if (l === null) throw new Error("Connection closed before a reply");
    return l;
  }

  /** Submits a script and returns the reply line without `\r\n`. */
  async submit(script: string, options: Record<string, string> = {}): Promise<string> {
    const bytes = new TextEncoder().encode(script);
    let text = "SUBMIT\r\n";
    for (const [k, v] of Object.entries(options)) text += `${k} ${v}\r\n`;
    text += `SRC ${bytes.length}\r\n`;
    const head = new TextEncoder().encode(text);
    const all = new Uint8Array(head.length + bytes.length);
    all.set(head);
    all.set(bytes, head.length);
    await this.send(all);
    const l = await this.line();
    if (l === null) throw new Error("Connection closed before a reply");
    return l.replace(/\r\n$/, "");
  }

  /** Sends `STATUS [id]` and returns the payload lines as [id, name, state, deps]. */
  async status(id?: number): Promise<string[][]> {
    const head = await this.request(id === undefined ? "STATUS\r\n" : `STATUS ${id}\r\n`);
    const m = /^OK (\d+)\r\n$/.exec(head);
    if (!m) throw new Error(`Bad STATUS reply: ${JSON.stringify(head)}`);
    const payload = new TextDecoder().decode(await this.bytes(Number(m[1])));
    return payload.split("\r\n").filter((l) => l !== "").map((l) => l.split("\t"));
  }

  /** The state letter of one job, or undefined when unknown. */
  async state(id: number): Promise<string | undefined> {
    return (await this.status(id))[0]?.[2];
  }

  /** Polls until job `id` reaches one of `states`. */
  waitState(id: number, states: string, ms = 10_000): Promise<string> {
    return waitFor(
      async () => {
        const s = await this.state(id);
        return s !== undefined && states.includes(s) ? s : undefined;
      },
      `job ${id} to reach one of ${states}`,
      ms,
    );
  }

  [Symbol.dispose](): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}
