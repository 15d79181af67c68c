/**
 * End-to-end tests of errors that used to surface raw: each is one clear
 * sentence on stderr, with no os error code and no unrelated log lines.
 */

import assert from "node:assert/strict";
import { baseEnv, sjq, tempDir, TestDaemon } from "./harness.ts";

Deno.test("a missing socket directory, a directory as socket, a missing script, a missing db directory, a dead daemon", async () => {
  await using dir = await tempDir();
  const env = (socket: string, extra: Record<string, string> = {}) => ({
    ...baseEnv(dir.path, socket),
    ...extra,
  });
  const one = (stderr: string) => {
    assert.doesNotMatch(stderr, /os error|\(.* is empty\)|at file:/, stderr);
    return stderr.trimEnd();
  };

  const missing = await sjq(["submit", "--wrap", "true"], { env: env(`${dir.path}/nope/s.sock`) });
  assert.equal(missing.code, 1);
  assert.equal(
    one(missing.stderr),
    `error: the socket's directory ${dir.path}/nope does not exist (sjq.socket is ${dir.path}/nope/s.sock)`,
  );
  await Deno.mkdir(`${dir.path}/sockdir`);
  for (const args of [["ping"], ["submit", "--wrap", "true"]]) {
    const r = await sjq(args, { env: env(`${dir.path}/sockdir`) });
    assert.equal(r.code, 1);
    assert.equal(one(r.stderr), `error: ${dir.path}/sockdir is not a socket (a directory)`);
  }
  const script = await sjq(["submit", "nofile.sh"], {
    env: env(`${dir.path}/s.sock`),
    cwd: dir.path,
  });
  assert.equal(script.code, 1);
  assert.equal(one(script.stderr), "error: cannot read script nofile.sh: no such file");
  const db = await sjq(["submit", "--wrap", "true"], {
    env: env(`${dir.path}/s.sock`, { SJQ_DB: `${dir.path}/nodir/x.db` }),
    cwd: dir.path,
  });
  assert.equal(db.code, 1);
  assert.equal(
    one(db.stderr),
    `error: the daemon did not start: the directory of the database ${dir.path}/nodir/x.db does not exist`,
  );

  // A daemon that is gone (killed, its socket left behind): who is missing, and how to start one.
  const d = await TestDaemon.start({ home: dir.path });
  await d.crash();
  const gone = await sjq(["ping"], { env: d.env });
  assert.equal(gone.code, 1);
  assert.equal(
    one(gone.stderr),
    `error: no sjq daemon at ${d.socket}\nhint: start one with 'sjq daemon --detach'`,
  );
  await d[Symbol.asyncDispose]();
});

Deno.test("a daemon whose socket cannot be made says why in one sentence, before it makes any file", async () => {
  await using dir = await tempDir();
  const env = baseEnv(dir.path, `${dir.path}/s.sock`);
  await Deno.writeTextFile(`${dir.path}/afile`, "");
  await Deno.mkdir(`${dir.path}/adir`);
  const cases: [string[], string][] = [
    [
      ["--socket", `${dir.path}/nope/s.sock`],
      `the socket's directory ${dir.path}/nope does not exist (sjq.socket is ${dir.path}/nope/s.sock)`,
    ],
    [
      ["--detach", "--socket", `${dir.path}/nope/s.sock`],
      `the daemon did not start: the socket's directory ${dir.path}/nope does not exist (sjq.socket is ${dir.path}/nope/s.sock)`,
    ],
    [
      ["--socket", `${dir.path}/afile/s.sock`],
      `the socket's directory ${dir.path}/afile is not a directory (sjq.socket is ${dir.path}/afile/s.sock)`,
    ],
    [
      ["--socket", `${dir.path}/adir`],
      `${dir.path}/adir is a directory, not a socket: refusing to replace it`,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await sjq(["daemon", "--autoshutdown", "F", ...args], { env, cwd: dir.path });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, `error: ${message}\n`);
  }
  const left = [];
  for await (const e of Deno.readDir(dir.path)) left.push(e.name);
  assert.deepEqual(left.filter((name) => name.startsWith(".sjq")), [], "no database, log or lock");
});
