/**
 * The daemon's files (issue 8, items 7 and 10): everything holding job data
 * is owner-only whatever the umask, and a path given by mistake (a socket
 * path naming a file, a database path naming the socket…) is a clear error
 * that leaves the file as it was.
 *
 * @module
 */

import assert from "node:assert/strict";
import { baseEnv, sjq, tempDir, TestDaemon, waitFor } from "./harness.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function mode(path: string): Promise<string> {
  return ((await Deno.stat(path)).mode! & 0o777).toString(8).padStart(3, "0");
}

/** Starts a detached daemon under `umask 000`, as `sjq daemon --detach ARGS`. */
async function detachedUnderUmask0(home: string, args: string[]): Promise<void> {
  const socket = `${home}/sjq.sock`;
  const out = await new Deno.Command("sh", {
    args: ["-c", 'umask 000; exec "$0" run -A --quiet "$@"', Deno.execPath(), MAIN, "daemon"]
      .concat(["--detach", "--autoshutdown", "F", ...args]),
    env: baseEnv(home, socket),
    clearEnv: true,
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

Deno.test("files: database, WAL, SHM, lock, spool and log are owner-only under umask 000", async () => {
  await using home = await tempDir();
  const env = baseEnv(home.path, `${home.path}/sjq.sock`);
  try {
    await detachedUnderUmask0(home.path, ["--logfile", `${home.path}/sjq.log`]);
    const r = await sjq(["submit", "--wait", "--env", "TOKEN=secret", "--wrap", "true"], {
      env,
      cwd: home.path,
    });
    assert.equal(r.code, 0, r.stderr);
    const db = `${home.path}/.sjq.db`;
    for (const file of [db, `${db}-wal`, `${db}-shm`, `${db}.lock`, `${home.path}/sjq.log`]) {
      assert.equal(await mode(file), "600", file);
    }
    for (const dir of [`${db}-spool`, `${db}-spool/jobs`]) {
      assert.equal(await mode(dir), "700", dir);
    }
    assert.equal(await mode(`${db}-spool/journal`), "600", "the shepherd's journal");
  } finally {
    await sjq(["shutdown"], { env });
  }
});

Deno.test("files: a world-readable database from an older sjq is made owner-only at start", async () => {
  await using home = await tempDir();
  const env = baseEnv(home.path, `${home.path}/sjq.sock`);
  const db = `${home.path}/.sjq.db`;
  {
    await using d = await TestDaemon.start({ home: home.path });
    using c = await d.connect();
    assert.match(await c.submit("#!/bin/sh\nexit 0\n", { HOLD: "" }), /^OK 1$/);
    await d.crash(); // leaves the WAL and SHM behind
  }
  for (const file of [db, `${db}-wal`, `${db}-shm`, `${db}.lock`]) await Deno.chmod(file, 0o644);
  await Deno.chmod(`${db}-spool`, 0o755);
  try {
    await detachedUnderUmask0(home.path, []);
    for (const file of [db, `${db}-wal`, `${db}-shm`, `${db}.lock`]) {
      assert.equal(await mode(file), "600", file);
    }
    assert.equal(await mode(`${db}-spool`), "700");
  } finally {
    await sjq(["shutdown"], { env });
  }
});

Deno.test("files: a --socket that names a regular file is refused, and the file kept", async () => {
  await using home = await tempDir();
  const env = baseEnv(home.path, `${home.path}/sjq.sock`);
  const notes = `${home.path}/notes.txt`;
  await Deno.writeTextFile(notes, "my notes\n");
  const r = await sjq(["status", "--socket", notes], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /notes\.txt is not a socket/);
  assert.equal(await Deno.readTextFile(notes), "my notes\n");
  // Nothing was made beside it either (no lock file for an auto-start).
  const made = [...Deno.readDirSync(home.path)].map((e) => e.name);
  assert.deepEqual(made.filter((n) => /^(notes|\.sjq|sjq)/.test(n)), ["notes.txt"]);
  const daemon = await sjq(["daemon", "--socket", notes], { env });
  assert.equal(daemon.code, 1);
  assert.match(daemon.stderr, /notes\.txt is a file, not a socket: refusing to replace it/);
  assert.equal(await Deno.readTextFile(notes), "my notes\n");
});

Deno.test("files: sjq daemon --socket naming the database is refused; the database survives", async () => {
  await using d = await TestDaemon.start();
  await using tmp = await tempDir();
  using c = await d.connect();
  assert.match(await c.submit("#!/bin/sh\nexit 0\n", { HOLD: "", CWD: tmp.path }), /^OK 1$/);
  await c.request("SHUTDOWN\r\n");
  await d.exited();
  const db = `${d.home}/.sjq.db`;
  const r = await sjq(["daemon", "--detach", "--socket", db], { env: d.env });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /the socket and the database are the same file|is a file, not a socket/);
  assert.equal((await Deno.lstat(db)).isFile, true);
  await using again = await TestDaemon.start({ home: d.home });
  using c2 = await again.connect();
  assert.equal(await c2.request("PING\r\n"), "OK U:1\r\n", "the job is still there");
});

Deno.test("files: --db, --logfile and --pidfile naming the wrong file are refused, untouched", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  assert.match(await c.submit("#!/bin/sh\nexit 0\n", { HOLD: "", CWD: d.home }), /^OK 1$/);
  const db = `${d.home}/.sjq.db`;
  const notes = `${d.home}/notes.txt`;
  await Deno.writeTextFile(notes, "my notes\n");
  const other = { ...d.env, SJQ_SOCKET: `${d.home}/other.sock` };
  const cases: [string[], RegExp][] = [
    [["--db", d.socket], /database .*sjq\.sock is a socket, not a file/],
    [["--db", notes], /database .*notes\.txt is not an sjq database/],
    [["--db", `${d.home}/x.db`, "--logfile", db], /the log file .*\.sjq\.db is a database/],
    [["--db", `${d.home}/x.db`, "--pidfile", db], /the pid file .*\.sjq\.db is a database/],
    [["--pidfile", notes, "--db", `${d.home}/y.db`], /pid file .*notes\.txt holds something else/],
    [["--logfile", `${d.home}/z.db-wal`, "--db", `${d.home}/z.db`], /is the database's WAL/],
  ];
  for (const [args, expected] of cases) {
    const r = await sjq(["daemon", ...args], { env: other });
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, expected, args.join(" "));
  }
  assert.equal(await Deno.readTextFile(notes), "my notes\n");
  assert.equal((await Deno.lstat(d.socket)).isSocket, true);
  assert.equal(await c.request("PING\r\n"), "OK U:1\r\n");
});

Deno.test("files: the daemon removes its socket at shutdown only if it is still its own", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  // Someone replaces the socket file while the daemon runs; the open connection still works.
  await Deno.remove(d.socket);
  await Deno.writeTextFile(d.socket, "not yours\n");
  assert.equal(await c.request("SHUTDOWN\r\n"), "OK\r\n");
  await waitFor(() => d.exitedCode !== undefined, "the daemon to exit");
  assert.equal(await Deno.readTextFile(d.socket), "not yours\n");
});
