/**
 * End-to-end tests of auto-start: a client command that finds no daemon
 * starts exactly one, also when many clients find none at the same moment,
 * also from cron's bare environment; a daemon that cannot start is reported.
 */

import assert from "node:assert/strict";
import { killJobsUnder, type Output, sjq, TestDaemon, waitFor } from "./harness.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** A temporary HOME with no daemon yet; every process mentioning it is killed on dispose. */
async function home(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "sjq-test-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await killJobsUnder(path);
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** The pids of sjq daemons whose command line mentions `dir`. */
async function daemons(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${e.name}/cmdline`).catch(() => "");
    const args = cmdline.split("\0");
    if (cmdline.includes(dir) && args.includes("daemon")) pids.push(Number(e.name));
  }
  return pids;
}

/** Runs sjq as cron would: `env -i HOME=… PATH=/usr/bin:/bin`, cwd `/`, no terminal. */
async function cron(homeDir: string, args: string[]): Promise<Output> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    env: { HOME: homeDir, PATH: "/usr/bin:/bin" },
    clearEnv: true,
    cwd: "/",
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("50 submits started at once with no daemon end with one daemon and 50 distinct ids", async () => {
  await using h = await home();
  const env = { HOME: h.path, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", NO_COLOR: "1" };
  assert.deepEqual(await daemons(h.path), []);
  const outs = await Promise.all(
    Array.from(
      { length: 50 },
      (_, i) => sjq(["submit", "-C", h.path, "--wrap", `echo ${i}`], { env }),
    ),
  );
  for (const out of outs) {
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^\d+\n$/);
  }
  const ids = outs.map((o) => Number(o.stdout)).sort((a, b) => a - b);
  assert.deepEqual(ids, Array.from({ length: 50 }, (_, i) => i + 1), "50 distinct ids");
  assert.equal((await daemons(h.path)).length, 1, "exactly one daemon");
  const wait = await sjq(["wait", "1-50"], { env });
  assert.equal(wait.code, 0, wait.stderr);
  const outputs = await Promise.all(ids.map((id) => Deno.readTextFile(`${h.path}/${id}.stdout`)));
  assert.deepEqual(outputs.sort(), Array.from({ length: 50 }, (_, i) => `${i}\n`).sort());
});

Deno.test("auto-start works from cron's bare environment, and the daemon shuts down when idle", async () => {
  await using h = await home();
  await Deno.writeTextFile(`${h.path}/.sjqrc`, "[sjq]\nwaittime = 1s\n");
  const out = await cron(h.path, [
    ...["submit", "--wait", "-o", `${h.path}/cron.out`, "-e", `${h.path}/cron.err`],
    ...["--wrap", 'pwd; echo "$HOME"; echo "$PATH"; echo "$SJQ_JOB_ID"'],
  ]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stderr, "", "nothing for cron to mail");
  assert.match(out.stdout, /^1\n$/);
  assert.equal(await Deno.readTextFile(`${h.path}/cron.out`), `/\n${h.path}\n/usr/bin:/bin\n1\n`);
  assert.ok((await Deno.stat(`${h.path}/.sjq.sock`)).isSocket, "the default socket in HOME");
  await waitFor(
    async () => (await daemons(h.path)).length === 0,
    "the idle daemon to exit",
    30_000,
  );
});

Deno.test("a daemon that fails to start is reported with the last lines of its log", async () => {
  await using h = await home();
  await Deno.writeTextFile(`${h.path}/.sjq.log`, "an earlier line of the log\n");
  const env = { HOME: h.path, PATH: "/usr/bin:/bin", SJQ_DB: `${h.path}/missing/dir/jobs.db` };
  const out = await sjq(["submit", "--wrap", "true"], { env });
  assert.equal(out.code, 1);
  assert.match(
    out.stderr,
    /^error: the daemon did not start: the directory of the database .*missing\/dir\/jobs\.db does not exist/,
  );
  assert.match(out.stderr, /last lines of .*\.sjq\.log:\nan earlier line of the log\n$/);
  assert.deepEqual(await daemons(h.path), []);
});

Deno.test("a client finding a stale socket of a crashed daemon starts a new one", async () => {
  await using d = await TestDaemon.start();
  const first = await d.cli(["submit", "-C", d.home, "--wrap", "true"]);
  assert.equal(first.code, 0, first.stderr);
  await d.crash();
  assert.ok((await Deno.stat(d.socket)).isSocket, "the socket file is left behind");
  const second = await d.cli(["submit", "-C", d.home, "--wait", "--wrap", "true"]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(Number(second.stdout), Number(first.stdout) + 1);
  assert.equal((await daemons(d.home)).length, 1);
});
