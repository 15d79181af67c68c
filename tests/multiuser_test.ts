/**
 * A root daemon serving several users (docs/security.md), with two real
 * unprivileged users, sjqa and sjqb, made here if they do not exist (and a
 * group sjqlab that sjqa is in). Each user's clients run as that user
 * (setpriv), so the kernel checks what they may connect to.
 *
 * Needs root; elsewhere every test here is skipped with a loud notice.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { JobInfo } from "../src/info.ts";
import { Runner } from "../src/runner.ts";
import { type Output, RawClient, tempDir, TestDaemon, waitFor } from "./harness.ts";
import { Bench, GATE, RUN } from "./gated_jobs.ts";

const ROOT = Deno.uid() === 0;
const CHECKOUT = new URL("..", import.meta.url).pathname;
/** The sources and Deno the users run: the checkout's, or a readable copy (see `reachable`). */
let MAIN = `${CHECKOUT}main.ts`;
let RAW = `${CHECKOUT}tests/raw_send.ts`;
let DENO = Deno.execPath();
const encoder = new TextEncoder();

if (!ROOT) {
  console.error(
    "\n!!!!!!!!!! tests/multiuser_test.ts SKIPPED: not root. The multi-user daemon's tests " +
      "make real users and must run as root (CI does). !!!!!!!!!!\n",
  );
}

/** A real account that tests act as. */
interface LabUser {
  name: string;
  uid: number;
  gid: number;
  groups: number[];
  home: string;
}

function run(argv: string[]): string {
  const out = new Deno.Command(argv[0]!, { args: argv.slice(1), stderr: "piped" }).outputSync();
  if (!out.success) throw new Error(`${argv.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim();
}

function ok(argv: string[]): boolean {
  return new Deno.Command(argv[0]!, { args: argv.slice(1), stdout: "null", stderr: "null" })
    .outputSync().success;
}

let users: { a: LabUser; b: LabUser } | null = null;

/** sjqa (in group sjqlab) and sjqb, made once, idempotently. */
function labUsers(): { a: LabUser; b: LabUser } {
  if (users !== null) return users;
  if (!ok(["getent", "group", "sjqlab"])) ok(["groupadd", "sjqlab"]);
  for (const name of ["sjqa", "sjqb"]) {
    if (!ok(["id", name])) ok(["useradd", "-m", "-U", "-s", "/bin/sh", name]);
  }
  if (!run(["id", "-Gn", "sjqa"]).split(" ").includes("sjqlab")) {
    run(["usermod", "-aG", "sjqlab", "sjqa"]);
  }
  const user = (name: string): LabUser => ({
    name,
    uid: Number(run(["id", "-u", name])),
    gid: Number(run(["id", "-g", name])),
    groups: run(["id", "-G", name]).split(" ").map(Number),
    home: run(["getent", "passwd", name]).split(":")[5]!,
  });
  users = { a: user("sjqa"), b: user("sjqb") };
  if (!reachable(users.b)) stageReadableCopy();
  if (!reachable(users.b)) throw new Error(`sjqb cannot read ${MAIN} or ${DENO}, even copied`);
  return users;
}

/** Whether `user` can read the sources and run Deno (a checkout under /root cannot be). */
function reachable(user: LabUser): boolean {
  const reach = [MAIN, RAW].map((path) => `test -r '${path}'`).join(" && ") +
    ` && test -x '${DENO}'`;
  const [uid, gid] = [String(user.uid), String(user.gid)];
  return ok(["setpriv", "--reuid", uid, "--regid", gid, "--clear-groups", "sh", "-c", reach]);
}

/** Copies the sources and Deno where every user can read them, and uses the copy. */
function stageReadableCopy(): void {
  const dir = Deno.makeTempDirSync({ prefix: "sjq-multiuser-src-" });
  for (const part of ["main.ts", "deno.json", "src", "tests"]) {
    run(["cp", "-R", `${CHECKOUT}${part}`, `${dir}/`]);
  }
  run(["cp", DENO, `${dir}/deno`]);
  run(["chmod", "-R", "a+rX", dir]);
  [MAIN, RAW, DENO] = [`${dir}/main.ts`, `${dir}/tests/raw_send.ts`, `${dir}/deno`];
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
}

/** A private Deno cache per user, kept between runs (compiling the sources once is slow). */
function denoDir(user: LabUser): string {
  const dir = `/tmp/sjq-test-deno-${user.name}`;
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  Deno.chownSync(dir, user.uid, user.gid);
  return dir;
}

/** Runs `argv` as `user` (uid, gid, groups), with a clean environment plus `env`. */
async function runAs(
  user: LabUser,
  argv: string[],
  opts: { stdin?: Uint8Array; cwd?: string; env?: Record<string, string> } = {},
): Promise<Output> {
  const env = {
    HOME: user.home,
    PATH: "/usr/bin:/bin",
    DENO_DIR: denoDir(user),
    NO_COLOR: "1",
    ...opts.env,
  };
  const child = new Deno.Command("setpriv", {
    args: [
      "--reuid",
      String(user.uid),
      "--regid",
      String(user.gid),
      "--init-groups",
      "--",
      "env",
      "-i",
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      ...argv,
    ],
    clearEnv: true,
    cwd: opts.cwd ?? "/",
    stdin: opts.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin) {
    const w = child.stdin.getWriter();
    await w.write(opts.stdin);
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A root daemon with `--multiuser`, each user's socket in `<home>/u`, and a work dir per user. */
class Lab implements AsyncDisposable {
  private constructor(
    readonly home: string,
    readonly daemon: TestDaemon,
    readonly a: LabUser,
    readonly b: LabUser,
    readonly args: string[],
    readonly dir: AsyncDisposable,
  ) {}

  static async start(extra: string[] = [], home?: string): Promise<Lab> {
    const { a, b } = labUsers();
    const dir: AsyncDisposable & { path: string } = home === undefined
      ? await tempDir()
      : { path: home, [Symbol.asyncDispose]: () => Promise.resolve() };
    const root = dir.path;
    await Deno.chmod(root, 0o755);
    for (const u of [a, b]) {
      await Deno.mkdir(`${root}/${u.name}`, { recursive: true, mode: 0o755 });
      await Deno.chown(`${root}/${u.name}`, u.uid, u.gid);
    }
    const args = ["--multiuser", "T", "--userdir", `${root}/u`, "--autoshutdown", "F", ...extra];
    const daemon = await TestDaemon.start({ home: root, args });
    const lab = new Lab(root, daemon, a, b, args, dir);
    await waitFor(
      () => [a, b].every((u) => exists(lab.socketOf(u))),
      "the users' sockets",
    );
    // A connection is accepted as soon as the socket is bound; a reply only once the daemon runs.
    using c = await lab.root();
    assert.match(await c.request("PING\r\n"), /^OK/);
    return lab;
  }

  get userdir(): string {
    return `${this.home}/u`;
  }

  socketOf(user: LabUser): string {
    return `${this.userdir}/${user.uid}.sock`;
  }

  workdir(user: LabUser): string {
    return `${this.home}/${user.name}`;
  }

  /** `sjq ARGS…` as `user`, finding its socket by itself (no --socket, no SJQ_SOCKET). */
  sjq(user: LabUser, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
    return runAs(user, [DENO, "run", "-A", "--quiet", MAIN, ...args], {
      cwd: opts.cwd ?? this.workdir(user),
      env: { SJQ_USERDIR: this.userdir, ...opts.env },
    });
  }

  /** Raw protocol bytes sent as `user` to `socket`; everything answered until the daemon closes. */
  raw(user: LabUser, socket: string, bytes: string | Uint8Array): Promise<Output> {
    const stdin = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
    return runAs(user, [DENO, "run", "-A", "--quiet", RAW, socket], { stdin });
  }

  /** A connection as root (the daemon's own socket). */
  root(): Promise<RawClient> {
    return this.daemon.connect();
  }

  async info(id: number): Promise<JobInfo> {
    using c = await this.root();
    const head = await c.request(`INFO ${id}\r\n`);
    const n = Number(/^OK (\d+)/.exec(head)![1]);
    return JSON.parse(new TextDecoder().decode(await c.bytes(n)))[0];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.daemon[Symbol.asyncDispose]();
    await this.dir[Symbol.asyncDispose]();
  }
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function submitBytes(script: string, lines: string[]): Uint8Array {
  const body = encoder.encode(script);
  const head = encoder.encode(
    `SUBMIT\r\n${lines.map((l) => `${l}\r\n`).join("")}SRC ${body.length}\r\n`,
  );
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name: `multiuser: ${name}`, ignore: !ROOT, fn });

test("each user's job runs with its own uid, gid and groups, found through its own socket", async () => {
  await using lab = await Lab.start();
  for (const user of [lab.a, lab.b]) {
    const sub = await lab.sjq(user, ["submit", "--wrap", "id -u; id -g; id -G"]);
    assert.equal(sub.code, 0, sub.stderr);
    const id = Number(sub.stdout.trim());
    using c = await lab.root();
    assert.equal(await c.waitState(id, "SFAKE"), "S");
    const out = await Deno.readTextFile(`${lab.workdir(user)}/${id}.stdout`);
    const [uid, gid, groups] = out.trim().split("\n");
    assert.equal(Number(uid), user.uid);
    assert.equal(Number(gid), user.gid);
    assert.deepEqual(groups!.split(" ").map(Number).sort(), [...user.groups].sort());
    const st = await Deno.stat(`${lab.workdir(user)}/${id}.stdout`);
    assert.equal(st.uid, user.uid, "the output file is the user's, made by the user");
    assert.equal((st.mode ?? 0) & 0o777, 0o600);
    assert.equal((await lab.info(id)).uid, user.uid);
  }
  assert.ok(lab.a.groups.length >= 2, "sjqa has a supplementary group (sjqlab)");
});

test("root submits as root through its own socket; no one else can", async () => {
  await using lab = await Lab.start();
  using c = await lab.root();
  assert.match(await c.submit("#!/bin/sh\nid -u\n", { CWD: lab.home }), /^OK \d+$/);
  assert.equal(await c.waitState(1, "SFAKE"), "S");
  assert.equal((await Deno.readTextFile(`${lab.home}/1.stdout`)).trim(), "0");
  const forged = await lab.raw(
    lab.a,
    lab.socketOf(lab.a),
    submitBytes("#!/bin/sh\nid\n", ["UID 0"]),
  );
  assert.match(forged.stdout, /^ERROR .*UID 0 is not yours/);
});

test("B cannot submit as A: forged UID or GID line, A's socket, a symlink or hard link to it", async () => {
  await using lab = await Lab.start();
  const { a, b } = lab;
  const script = "#!/bin/sh\nid -u\n";
  const forgedUid = await lab.raw(b, lab.socketOf(b), submitBytes(script, [`UID ${a.uid}`]));
  assert.match(forgedUid.stdout, /^ERROR UID \d+ is not yours/, forgedUid.stderr);
  const forgedGid = await lab.raw(b, lab.socketOf(b), submitBytes(script, [`GID ${a.gid}`]));
  assert.match(forgedGid.stdout, /^ERROR GID \d+ is not one of the groups/);
  const direct = await lab.raw(b, lab.socketOf(a), submitBytes(script, []));
  assert.equal(direct.stdout.trim(), "connect failed: PermissionDenied");
  // A symbolic link B makes in a directory of B's.
  const link = `${lab.workdir(b)}/a.sock`;
  const made = await runAs(b, ["ln", "-s", lab.socketOf(a), link]);
  assert.equal(made.code, 0, made.stderr);
  const viaSymlink = await lab.raw(b, link, submitBytes(script, []));
  assert.equal(viaSymlink.stdout.trim(), "connect failed: PermissionDenied");
  // A hard link: the kernel refuses B one (protected_hardlinks) or the link is the same inode.
  const hard = `${lab.workdir(b)}/a-hard.sock`;
  const linked = await runAs(b, ["ln", lab.socketOf(a), hard]);
  if (linked.code !== 0) {
    assert.match(linked.stderr, /Operation not permitted|Permission denied|cross-device/);
    await Deno.link(lab.socketOf(a), `${lab.home}/a-hard.sock`); // as if protected_hardlinks were off
  }
  const hardPath = linked.code === 0 ? hard : `${lab.home}/a-hard.sock`;
  const viaHard = await lab.raw(b, hardPath, submitBytes(script, []));
  assert.equal(viaHard.stdout.trim(), "connect failed: PermissionDenied");
  // B cannot put a socket of its own where A's client looks, nor replace A's.
  const planted = await runAs(b, ["sh", "-c", `: > ${lab.userdir}/x.sock`]);
  assert.notEqual(planted.code, 0);
  assert.equal(Deno.statSync(lab.socketOf(a)).uid, a.uid);
  // Nothing was submitted by any of it.
  using c = await lab.root();
  assert.deepEqual(await c.status(), []);
});

test("B cannot kill, hold, release or read A's job, nor shut down or reload the daemon; root can", async () => {
  await using lab = await Lab.start();
  const { a, b } = lab;
  const secret = "#!/bin/sh\necho the secret is $SECRET\n";
  const held = await lab.raw(
    a,
    lab.socketOf(a),
    submitBytes(secret, ["HOLD", `ENV SECRET=${btoa("hunter2")}`, `CWD ${lab.workdir(a)}`]),
  );
  assert.match(held.stdout, /^OK 1\r\n/);
  const running = await lab.sjq(a, ["submit", "--wrap", "echo out; sleep 30"]);
  assert.equal(running.code, 0, running.stderr);
  using c = await lab.root();
  await c.waitState(2, "R");
  for (const [request, id] of [["KILL", 1], ["KILL", 2], ["RELEASE", 1], ["HOLD", 1]] as const) {
    const r = await lab.raw(b, lab.socketOf(b), `${request} ${id}\r\n`);
    assert.match(r.stdout, /^ERROR Permission denied: job \d+ belongs to another user/, request);
  }
  assert.equal(await c.state(1), "U");
  assert.equal(await c.state(2), "R");
  const kill = await lab.sjq(b, ["kill", "2"]);
  assert.notEqual(kill.code, 0);
  const log = await lab.sjq(b, ["log", "2"]);
  assert.notEqual(log.code, 0, "B cannot read A's output");
  assert.doesNotMatch(log.stdout, /out/);
  // Everyone may list jobs; no one sees another's environment or script.
  const info = await lab.raw(b, lab.socketOf(b), "INFO\r\nSTATUS\r\n");
  assert.match(info.stdout, /"id":1/);
  assert.doesNotMatch(info.stdout, /hunter2|secret/);
  const shutdown = await lab.raw(b, lab.socketOf(b), "SHUTDOWN\r\n");
  assert.match(shutdown.stdout, /^ERROR Permission denied: only root/);
  const reload = await lab.raw(b, lab.socketOf(b), "RELOAD\r\n");
  assert.match(reload.stdout, /^ERROR Permission denied: only root/);
  // A may act on its own jobs; root on anyone's.
  const release = await lab.raw(a, lab.socketOf(a), "HOLD 1\r\nRELEASE 1\r\n");
  assert.match(release.stdout, /^OK( noop U)?\r\nOK\r\n$/);
  assert.equal(await c.request("KILL 2\r\n"), "OK\r\n");
  assert.equal(await c.waitState(2, "K"), "K");
  assert.equal(await c.waitState(1, "SFAKE"), "S");
  assert.match(await Deno.readTextFile(`${lab.workdir(a)}/1.stdout`), /hunter2/);
});

test("CLEAN from a user forgets only that user's jobs", async () => {
  await using lab = await Lab.start();
  for (const user of [lab.a, lab.b]) {
    const sub = await lab.sjq(user, ["submit", "--wrap", "true"]);
    assert.equal(sub.code, 0, sub.stderr);
  }
  using c = await lab.root();
  await c.waitState(1, "S");
  await c.waitState(2, "S");
  const clean = await lab.raw(lab.b, lab.socketOf(lab.b), "CLEAN 0\r\n");
  assert.equal(clean.stdout, "OK 1\r\n");
  assert.deepEqual((await c.status()).map((row) => row[0]), ["1"]);
});

test("root never opens B's STDOUT/STDERR symlinks nor enters a directory B cannot", async () => {
  await using lab = await Lab.start();
  const { b } = lab;
  const victim = `${lab.home}/victim`;
  await Deno.writeTextFile(victim, "untouched\n", { mode: 0o644 });
  const rootOnly = `${lab.home}/rootonly`;
  await Deno.mkdir(rootOnly, { mode: 0o700 });
  const work = lab.workdir(b);
  for (const [name, target] of [["out", victim], ["err", victim], ["new", `${rootOnly}/made`]]) {
    const r = await runAs(b, ["ln", "-s", target!, `${work}/${name}`]);
    assert.equal(r.code, 0, r.stderr);
  }
  const script = "#!/bin/sh\necho pwned\necho pwned >&2\n";
  const cases: [string[], RegExp][] = [
    [[`STDOUT ${work}/out`], /cannot open stdout file/],
    [[`STDERR ${work}/err`], /cannot open stderr file/],
    [[`STDOUT ${work}/new`], /cannot open stdout file/],
    [[`CWD ${rootOnly}`], /cannot enter working directory/],
  ];
  for (const [lines, reason] of cases) {
    const r = await lab.raw(b, lab.socketOf(b), submitBytes(script, [`CWD ${work}`, ...lines]));
    const id = Number(/^OK (\d+)/.exec(r.stdout)?.[1]);
    assert.ok(id > 0, r.stdout);
    using c = await lab.root();
    assert.equal(await c.waitState(id, "SFAKE"), "E", lines.join(" "));
    assert.match((await lab.info(id)).reason ?? "", reason);
  }
  assert.equal(await Deno.readTextFile(victim), "untouched\n");
  assert.ok(!exists(`${rootOnly}/made`));
  assert.deepEqual([...Deno.readDirSync(rootOnly)], []);
});

/** The pid of the supervisor whose command line names `script`. */
function supervisorOf(script: string): number | null {
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0");
      if (argv[1]?.endsWith("/supervisor.sh") && argv[2] === script) return Number(e.name);
    } catch { /* gone */ }
  }
  return null;
}

/** Builds a preload library that appends the uid of every process it is loaded into to `log`. */
function preloadLibrary(dir: string, log: string): string | null {
  if (!ok(["sh", "-c", "command -v cc"])) return null;
  const src = `${dir}/note.c`;
  Deno.writeTextFileSync(
    src,
    `#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void note(void) {
  char b[32];
  int n = snprintf(b, sizeof b, "%d\\n", (int)getuid());
  int fd = open("${log}", O_WRONLY | O_APPEND);
  if (fd >= 0) { (void)!write(fd, b, n); close(fd); }
}
`,
  );
  const lib = `${dir}/note.so`;
  return ok(["cc", "-shared", "-fPIC", "-o", lib, src]) ? lib : null;
}

test("LD_PRELOAD and BASH_ENV in B's environment never reach a root process", async () => {
  await using lab = await Lab.start();
  const { b } = lab;
  const work = lab.workdir(b);
  const log = `${lab.home}/preload.log`;
  await Deno.writeTextFile(log, "", { mode: 0o666 });
  await Deno.chmod(log, 0o666);
  const lib = preloadLibrary(lab.home, log) ?? "/nonexistent/preload.so";
  const env = [`LD_PRELOAD=${btoa(lib)}`, `BASH_ENV=${btoa(`${work}/bashenv`)}`].join(";");
  const script = `#!/bin/sh\n: > ${work}/running\nwhile [ ! -e ${work}/go ]; do sleep 0.05; done\n`;
  const r = await lab.raw(b, lab.socketOf(b), submitBytes(script, [`ENV ${env}`, `CWD ${work}`]));
  assert.match(r.stdout, /^OK 1/);
  await waitFor(() => exists(`${work}/running`), "the job to run");
  const spool = `${lab.home}/.sjq.db-spool/as-user`;
  const supervisor = await waitFor(() => supervisorOf(`${spool}/jobs/1`), "the supervisor");
  // Every process of the job's session: root's have none of B's environment, B's have it.
  const seen = { root: 0, b: 0 };
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    let stat: string, status: string, environ: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      status = Deno.readTextFileSync(`/proc/${e.name}/status`);
      environ = Deno.readTextFileSync(`/proc/${e.name}/environ`);
    } catch {
      continue;
    }
    const session = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
    if (session !== supervisor) continue;
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
    const vars = environ.split("\0");
    if (uid === 0) {
      seen.root++;
      assert.ok(!vars.some((v) => /^(LD_PRELOAD|BASH_ENV)=/.test(v)), `root pid ${e.name}`);
    } else {
      assert.equal(uid, b.uid);
      seen.b++;
      assert.ok(vars.includes(`LD_PRELOAD=${lib}`), `B's pid ${e.name} has B's environment`);
    }
  }
  assert.ok(seen.root >= 1 && seen.b >= 1, JSON.stringify(seen));
  await Deno.writeTextFile(`${work}/go`, "");
  using c = await lab.root();
  assert.equal(await c.waitState(1, "SFAKE"), "S");
  if (!lib.startsWith("/nonexistent")) {
    const uids = (await Deno.readTextFile(log)).trim().split("\n");
    assert.ok(uids.length > 0 && uids[0] !== "", "the library was loaded into B's job");
    assert.deepEqual([...new Set(uids)], [String(b.uid)], "and only into B's processes");
  } else console.error("note: no C compiler: LD_PRELOAD checked through /proc only");
});

test("B cannot write the record of how a job ended", async () => {
  await using lab = await Lab.start();
  const spool = `${lab.home}/.sjq.db-spool/as-user`;
  const r = await runAs(lab.b, ["sh", "-c", `echo 'exit 0' > ${spool}/done/1`]);
  assert.notEqual(r.code, 0);
  assert.ok(!exists(`${spool}/done/1`));
});

test("A's job that ends while the daemon is dead is settled with its real exit code", async () => {
  await using home = await tempDir();
  const first = await Lab.start([], home.path);
  const work = first.workdir(first.a);
  const sub = await first.sjq(first.a, [
    "submit",
    "--wrap",
    `: > running; while [ ! -e go ]; do sleep 0.05; done; exit 7`,
  ]);
  assert.equal(sub.code, 0, sub.stderr);
  await waitFor(() => exists(`${work}/running`), "the job to run");
  await first.daemon.crash();
  await Deno.writeTextFile(`${work}/go`, "");
  const spool = `${home.path}/.sjq.db-spool/as-user`;
  await waitFor(() => exists(`${spool}/done/1`), "the supervisor to record the end");
  await using second = await Lab.start([], home.path);
  using c = await second.root();
  assert.equal(await c.waitState(1, "SFAKE"), "F");
  const info = await second.info(1);
  assert.equal(info.exit_code, 7);
  assert.equal(info.uid, second.a.uid);
});

test("the original Python client's bytes submit as A through A's socket", async () => {
  await using lab = await Lab.start();
  const { a } = lab;
  const work = lab.workdir(a);
  const script = '#!/bin/sh\necho "hello $GREETING${EMPTY} from $(id -un)"\n';
  const env = [`PATH=${btoa("/usr/bin:/bin")}`, `GREETING=${btoa("from python")}`, "EMPTY="];
  const lines = [
    `ENV ${env.join(";")}`,
    `CWD ${work}`,
    `UID ${a.uid}`,
    `GID ${a.gid}`,
    "NAME myscript.sh",
  ];
  const bytes = submitBytes(script, lines);
  const all = new Uint8Array([...bytes, ...encoder.encode("EXIT\r\n")]);
  const r = await lab.raw(a, lab.socketOf(a), all);
  assert.equal(r.stdout, "OK 1\r\nOK BYE\r\n");
  using c = await lab.root();
  assert.equal(await c.waitState(1, "SFAKE"), "S");
  assert.equal(await Deno.readTextFile(`${work}/1.stdout`), "hello from python from sjqa\n");
});

test("per-user limits: sjq.user.maxjobs refuses a submit, sjq.user.maxprocs keeps jobs queued", async () => {
  await using lab = await Lab.start([
    "--user-maxjobs",
    "2",
    "--user-maxprocs",
    "1",
    "--maxprocs",
    "4",
  ]);
  const { a, b } = lab;
  const job = (user: LabUser) =>
    lab.raw(
      user,
      lab.socketOf(user),
      submitBytes("#!/bin/sh\nsleep 30\n", [`CWD ${lab.workdir(user)}`]),
    );
  assert.match((await job(a)).stdout, /^OK 1/);
  assert.match((await job(a)).stdout, /^OK 2/);
  assert.match((await job(a)).stdout, /^ERROR .*sjq.user.maxjobs/);
  assert.match((await job(b)).stdout, /^OK 3/);
  using c = await lab.root();
  await c.waitState(1, "R");
  await c.waitState(3, "R");
  assert.equal(await c.state(2), "Q", "A's second job waits for A's first");
  assert.equal(await c.request("KILL 1\r\n"), "OK\r\n");
  assert.equal(await c.waitState(2, "R"), "R");
  for (const id of [2, 3]) await c.request(`KILL ${id}\r\n`);
});

test("stopping removes every user's socket", async () => {
  await using lab = await Lab.start();
  lab.daemon.kill("SIGTERM");
  await lab.daemon.exited();
  assert.deepEqual(
    [...Deno.readDirSync(lab.userdir)].map((e) => e.name).filter((n) => n.endsWith(".sock")),
    [],
  );
});

test("a process of B's that names A's job like a supervisor is never taken for it", async () => {
  const { b } = labUsers();
  await using dir = await tempDir();
  await Deno.chmod(dir.path, 0o755);
  const spool = `${dir.path}/spool`;
  const runner = Runner.create(spool);
  const decoy = (as: LabUser | null) => {
    const argv = ["yes", `${spool}/supervisor.sh`, `${spool}/jobs/1`];
    const args = as === null
      ? argv
      : ["--reuid", String(as.uid), "--regid", String(as.gid), "--clear-groups", ...argv];
    return new Deno.Command(as === null ? argv[0]! : "setpriv", {
      args: as === null ? argv.slice(1) : args,
      stdout: "null",
      stderr: "null",
    }).spawn();
  };
  const theirs = decoy(b);
  const ours = decoy(null);
  try {
    await waitFor(() => runner.supervising(ours.pid, 1), "root's look-alike to count");
    assert.equal(runner.supervising(theirs.pid, 1), false);
    assert.equal(runner.findSupervisor(1), ours.pid);
  } finally {
    for (const child of [theirs, ours]) {
      child.kill("SIGKILL");
      await child.status;
    }
  }
});

test("a daemon of an ordinary user refuses --multiuser, touching nothing", async () => {
  const { b } = labUsers();
  await using dir = await tempDir();
  await Deno.chown(dir.path, b.uid, b.gid);
  const r = await runAs(b, [
    DENO,
    "run",
    "-A",
    "--quiet",
    MAIN,
    "daemon",
    "--multiuser",
    "T",
    "--db",
    `${dir.path}/sjq.db`,
    "--socket",
    `${dir.path}/sjq.sock`,
    "--userdir",
    `${dir.path}/u`,
  ]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /sjq.multiuser needs a daemon running as root/);
  assert.deepEqual([...Deno.readDirSync(dir.path)], []);
});

test("restart: A restarts A's jobs only; B's dependents stay as they ended", async () => {
  await using lab = await Lab.start();
  const { a, b } = lab;
  const fail = submitBytes("#!/bin/sh\nexit 3\n", [`CWD ${lab.workdir(a)}`]);
  assert.match((await lab.raw(a, lab.socketOf(a), fail)).stdout, /^OK 1/);
  using c = await lab.root();
  assert.equal(await c.waitState(1, "SFAKE"), "F");
  const after = (kind: string) =>
    submitBytes("#!/bin/sh\ntrue\n", [`CWD ${lab.workdir(b)}`, `${kind} 1`]);
  assert.match((await lab.raw(b, lab.socketOf(b), after("AFTEROK"))).stdout, /^OK 2/);
  assert.match((await lab.raw(b, lab.socketOf(b), after("AFTERANY"))).stdout, /^OK 3/);
  assert.equal(await c.waitState(2, "SFAKE"), "A", "B's afterok on A's failed job aborted");
  assert.equal(await c.waitState(3, "SFAKE"), "S", "B may depend on A's job");
  const denied = await lab.raw(b, lab.socketOf(b), "RESTART 1\r\n");
  assert.match(denied.stdout, /^ERROR Permission denied: job 1 belongs to another user/);
  const restarted = await lab.raw(a, lab.socketOf(a), "RESTART 1 DEPENDENTS\r\n");
  assert.equal(restarted.stdout, "OK 1\r\n", "only A's own job");
  assert.equal(await c.waitState(1, "SFAKE"), "F");
  assert.equal(await c.state(2), "A");
  assert.equal(await c.state(3), "S");
});

test("an array's tasks run as the user who submitted it, and only they may kill them", async () => {
  await using lab = await Lab.start();
  const { a, b } = lab;
  const sub = await lab.sjq(a, ["submit", "--array", "1-3", "--wrap", "id -u"]);
  assert.equal(sub.code, 0, sub.stderr);
  const head = Number(sub.stdout.trim());
  using c = await lab.root();
  assert.equal(await c.waitState(head, "SFAKE"), "S");
  for (let task = head + 1; task <= head + 3; task++) {
    const info = await lab.info(task);
    assert.equal(info.uid, a.uid);
    assert.equal((await Deno.readTextFile(info.stdout)).trim(), String(a.uid));
    assert.equal((await Deno.stat(info.stdout)).uid, a.uid);
  }
  const held = await lab.sjq(a, ["submit", "--hold", "--array", "1-2", "--wrap", "true"]);
  const id = Number(held.stdout.trim());
  const kill = await lab.raw(b, lab.socketOf(b), `KILL ${id}\r\nKILL ${id + 1}\r\n`);
  assert.match(kill.stdout, /^ERROR Permission denied.*\r\nERROR Permission denied/);
  assert.equal(await c.state(id + 1), "U");
});

test("a multi-user daemon refuses a backend that cannot run jobs as their user", async () => {
  await using dir = await tempDir();
  const out = await new Deno.Command(DENO, {
    args: ["run", "-A", "--quiet", MAIN, "daemon", "--multiuser", "T", "--backend", "slurm"],
    env: {
      HOME: dir.path,
      PATH: "/usr/bin:/bin",
      SJQ_SOCKET: `${dir.path}/s.sock`,
      SJQ_USERDIR: `${dir.path}/u`,
    },
    clearEnv: true,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.notEqual(out.code, 0);
  assert.match(new TextDecoder().decode(out.stderr), /local backend only/);
  assert.ok(!exists(`${dir.path}/u`));
});

// In a root daemon the shepherd holds root's jobs ahead only while no other user's job runs
// (LocalExecutor.lookaheadFor): jobs marked ahead while one runs wait in the daemon. So the
// held jobs the daemon must send `go` for are those handed over first, with another user's
// job started afterwards in a slot they leave free (here: a two-CPU job's end promotes a
// one-CPU job held ahead, and the CPU left goes to sjqa's job). When that job ends, its slot
// is one the shepherd never sees free: only `go` starts the next job held ahead.
test("root's jobs held ahead by the shepherd start in a slot another user's job frees (go)", async () => {
  await using lab = await Lab.start(["--maxprocs", "3"]);
  const dir = `${lab.home}/work`;
  await using b = await Bench.open(lab.daemon, dir);
  const small = { MEM: "1M" };
  const stay = await b.gate(small);
  const wide = await b.gate({ ...small, PROCS: "2" });
  await b.waitLedger([stay, wide]);
  // Eight one-CPU jobs, then a backlog of 32 that need every CPU: the eight go ahead (four
  // per running job), held by the shepherd, as no other user's job runs yet.
  const held: number[] = [];
  for (let i = 0; i < 8; i++) held.push(await b.gate(small));
  for (let i = 0; i < 32; i++) await b.submit(RUN, { ...small, PROCS: "3" });
  await waitFor(async () => (await b.counts()).R === 10, "eight jobs to be marked ahead");
  // sjqa's job waits for its gate too, in sjqa's own directory.
  const { a } = lab;
  const sub = await lab.raw(
    a,
    lab.socketOf(a),
    submitBytes(GATE, ["MEM 1M", `CWD ${lab.workdir(a)}`]),
  );
  const foreign = Number(/^OK (\d+)/.exec(sub.stdout)?.[1]);
  assert.ok(foreign > 0, sub.stdout + sub.stderr);
  const foreignGate = (code: number) =>
    Deno.writeTextFile(`${lab.workdir(a)}/go.${foreign}`, `${code}\n`);
  const foreignStarted = async () =>
    (await Deno.readTextFile(`${lab.workdir(a)}/ledger`).catch(() => "")).trim() ===
      String(foreign);
  // The wide job ends: the shepherd starts the first job held ahead in its place, and the
  // CPU left over goes to sjqa's job (the jobs of the backlog need all three).
  await b.open(wide);
  await b.waitLedger([stay, wide, held[0]!]);
  await waitFor(foreignStarted, "sjqa's job to start");
  assert.equal(await b.client.state(foreign), "R");
  // sjqa's job ends while root's jobs still run: the next job held ahead takes its slot.
  await foreignGate(0);
  assert.match(await b.wait(foreign), /^OK S /);
  await b.waitLedger([stay, wide, held[0]!, held[1]!]);
  assert.equal(await b.client.state(stay), "R", "root's first job still runs");
  assert.equal(await b.client.state(held[0]!), "R");
  // Then everything ends, each job once.
  for (const id of [stay, ...held]) await b.open(id);
  await waitFor(async () => (await b.counts()).S === 43, "every job to end");
  const ledger = await b.ledger();
  assert.deepEqual(ledger.slice(0, 4), [stay, wide, held[0], held[1]]);
  assert.equal(ledger.length, 42);
  assert.equal(new Set(ledger).size, 42);
});
