/**
 * The few libc calls the shepherd (src/shepherd.ts) needs and Deno does not
 * offer, through `Deno.dlopen`: `posix_spawn` with a new session, `wait4`
 * for our own children, `open` for a job's output files, and `prctl`.
 * Linux with glibc ≥ 2.29 (for `posix_spawn_file_actions_addchdir_np`).
 *
 * @module
 */

const SYMBOLS = {
  posix_spawn: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_addopen: {
    parameters: ["buffer", "i32", "buffer", "i32", "u32"],
    result: "i32",
  },
  posix_spawn_file_actions_adddup2: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  posix_spawn_file_actions_addchdir_np: { parameters: ["buffer", "buffer"], result: "i32" },
  sigemptyset: { parameters: ["buffer"], result: "i32" },
  sigfillset: { parameters: ["buffer"], result: "i32" },
  wait4: { parameters: ["i32", "buffer", "i32", "buffer"], result: "i32" },
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  strerror: { parameters: ["i32"], result: "pointer" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

const O_WRONLY = 0o1;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const O_CLOEXEC = 0o2000000;
const WNOHANG = 1;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const PR_SET_CHILD_SUBREAPER = 36;

const encoder = new TextEncoder();

/** How a reaped child ended, and what it used. */
export interface Reaped {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended it, or null. */
  signal: number | null;
  userMs: number;
  systemMs: number;
  /** Peak resident memory in bytes of the child and the descendants it waited for. */
  maxRss: number;
}

/** What to spawn: argv[0] is the program (an absolute path). */
export interface SpawnRequest {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** Open file descriptors for the child's stdout and stderr (dup'ed to 1 and 2). */
  stdout: number;
  stderr: number;
}

/** A C string: the bytes of `text` and a NUL. */
function cString(text: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(text);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** libc, loaded once per process. */
export class Libc {
  readonly #lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  readonly #attr = new Uint8Array(1024);
  readonly #pid = new Int32Array(1);
  readonly #status = new Int32Array(1);
  readonly #rusage = new BigInt64Array(32);

  constructor() {
    this.#lib = Deno.dlopen("libc.so.6", SYMBOLS);
    const s = this.#lib.symbols;
    // Every job starts in a session of its own, with default signal actions and no mask
    // (the shepherd's Deno runtime ignores SIGPIPE and blocks some signals).
    const all = new Uint8Array(128);
    const none = new Uint8Array(128);
    s.sigfillset(all);
    s.sigemptyset(none);
    this.#check(s.posix_spawnattr_init(this.#attr), "posix_spawnattr_init");
    this.#check(
      s.posix_spawnattr_setflags(
        this.#attr,
        POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK,
      ),
      "posix_spawnattr_setflags",
    );
    this.#check(s.posix_spawnattr_setsigdefault(this.#attr, all), "setsigdefault");
    this.#check(s.posix_spawnattr_setsigmask(this.#attr, none), "setsigmask");
  }

  #check(rc: number, what: string): void {
    if (rc !== 0) throw new Error(`${what}: ${this.strerror(rc)}`);
  }

  /** The text of an errno value. */
  strerror(errno: number): string {
    const p = this.#lib.symbols.strerror(errno);
    return p === null ? `errno ${errno}` : new Deno.UnsafePointerView(p).getCString();
  }

  #errno(): number {
    const p = this.#lib.symbols.__errno_location();
    return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
  }

  /** Opens `path` for writing (created 0666 & ~umask, truncated); returns the fd or the error text. */
  openOutput(path: string): number | string {
    const fd = this.#lib.symbols.open(
      cString(path),
      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
      0o666,
    );
    return fd >= 0 ? fd : this.strerror(this.#errno());
  }

  /** Closes a file descriptor. */
  close(fd: number): void {
    this.#lib.symbols.close(fd);
  }

  /**
   * Starts a process in a new session (its pid is its process group and
   * session id), stdin from /dev/null; returns its pid or the error text.
   */
  spawn(req: SpawnRequest): number | string {
    const s = this.#lib.symbols;
    const actions = new Uint8Array(256);
    s.posix_spawn_file_actions_init(actions);
    try {
      const devNull = cString("/dev/null");
      const cwd = cString(req.cwd);
      s.posix_spawn_file_actions_addopen(actions, 0, devNull, 0, 0);
      s.posix_spawn_file_actions_adddup2(actions, req.stdout, 1);
      s.posix_spawn_file_actions_adddup2(actions, req.stderr, 2);
      s.posix_spawn_file_actions_addchdir_np(actions, cwd);
      const keep: Uint8Array[] = [devNull, cwd];
      const argv = this.#pointers(req.argv, keep);
      const envp = this.#pointers(Object.entries(req.env).map(([k, v]) => `${k}=${v}`), keep);
      const path = cString(req.argv[0]!);
      const rc = s.posix_spawn(this.#pid, path, actions, this.#attr, argv, envp);
      keep.length = 0;
      return rc === 0 ? this.#pid[0]! : this.strerror(rc);
    } finally {
      s.posix_spawn_file_actions_destroy(actions);
    }
  }

  /** A NULL-terminated array of C string pointers; `keep` holds the strings alive. */
  #pointers(strings: string[], keep: Uint8Array[]): BigUint64Array<ArrayBuffer> {
    const out = new BigUint64Array(strings.length + 1);
    strings.forEach((text, i) => {
      const c = cString(text);
      keep.push(c);
      out[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(c)));
    });
    return out;
  }

  /** Reaps child `pid` if it has ended (never blocks); null while it runs (or is not ours). */
  reap(pid: number): Reaped | null {
    const got = this.#lib.symbols.wait4(pid, this.#status, WNOHANG, this.#rusage);
    if (got !== pid) return null;
    const status = this.#status[0]!;
    const termsig = status & 0x7f;
    const r = this.#rusage;
    const ms = (sec: bigint, usec: bigint) => Number(sec) * 1000 + Number(usec) / 1000;
    return {
      code: termsig === 0 ? (status >> 8) & 0xff : null,
      signal: termsig === 0 ? null : termsig,
      userMs: ms(r[0]!, r[1]!),
      systemMs: ms(r[2]!, r[3]!),
      maxRss: Number(r[4]!) * 1024,
    };
  }

  /** Makes this process a child subreaper: orphaned descendants are reparented to it. */
  becomeSubreaper(): boolean {
    return this.#lib.symbols.prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n) === 0;
  }
}
