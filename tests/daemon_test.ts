/**
 * End-to-end tests of the daemon's life: restarts with jobs in every state,
 * one daemon per socket, stale sockets, autoshutdown, configuration
 * precedence, the log, and `sjq daemon --detach`.
 */

import assert from "node:assert/strict";
import { Bench, processGone, RUN, within } from "./gated_jobs.ts";
import {
  baseEnv,
  type DaemonOptions,
  killJobsUnder,
  RawClient,
  sjq,
  tempDir,
  TestDaemon,
  waitFor,
} from "./harness.ts";

/** Ids of the jobs {@linkcode submitMix} leaves in each state. */
interface Mix {
  ok: number;
  failed: number;
  running: number;
  queued: number;
  userHeld: number;
  onHeld: number;
  onRunning: number;
}

/** With one CPU: jobs ended in S and F, one running, one queued, one in U and two in H. */
async function submitMix(b: Bench): Promise<Mix> {
  const ok = await b.submit(RUN, { NAME: "ok" });
  assert.equal(await b.wait(ok), "OK S 0");
  const failed = await b.submit(`${RUN}exit 3\n`, { NAME: "failed" });
  assert.equal(await b.wait(failed), "OK F 3");
  const running = await b.gate({ NAME: "running" });
  await b.waitLedger([ok, failed, running]);
  const queued = await b.gate({ NAME: "queued" });
  const userHeld = await b.gate({ NAME: "user held", HOLD: "" });
  const onHeld = await b.gate({ NAME: "on held", DEPENDS: String(userHeld) });
  const onRunning = await b.gate({ NAME: "on running", DEPENDS: String(running) });
  const mix = { ok, failed, running, queued, userHeld, onHeld, onRunning };
  await b.expectStates(states(mix, { running: "R", queued: "Q", onRunning: "H" }));
  return mix;
}

/** The states of a mix: S, F, U and H as submitted, the others as given. */
function states(
  mix: Mix,
  rest: { running: string; queued: string; onRunning: string },
): Record<number, string> {
  return {
    [mix.ok]: "S",
    [mix.failed]: "F",
    [mix.running]: rest.running,
    [mix.queued]: rest.queued,
    [mix.userHeld]: "U",
    [mix.onHeld]: "H",
    [mix.onRunning]: rest.onRunning,
  };
}

/** STATUS rows without the state column: names and dependencies must survive restarts. */
async function jobTable(b: Bench): Promise<string[]> {
  return (await b.client.status()).map(([id, name, , deps]) => `${id}\t${name}\t${deps}`);
}

Deno.test("a restart after SHUTDOWN KILL keeps every job; running ones ended in K", async () => {
  await using home = await tempDir();
  const args = ["--maxprocs", "1"];
  await using first = await TestDaemon.start({ home: home.path, args });
  await using b1 = await Bench.open(first);
  const mix = await submitMix(b1);
  const table = await jobTable(b1);
  assert.equal(await b1.request("SHUTDOWN KILL"), "OK");
  assert.equal((await within(first.exited(), "the daemon to stop")).code, 0);

  await using d = await TestDaemon.start({ home: home.path, args });
  await using b = await Bench.open(d);
  assert.deepEqual(await jobTable(b), table);
  const now = await b.states();
  assert.match(now[mix.queued]!, /^[QR]$/, "the queued job is still there (and may start)");
  assert.deepEqual(now, states(mix, { running: "K", queued: now[mix.queued]!, onRunning: "A" }));
  await b.waitLedger([mix.ok, mix.failed, mix.running, mix.queued]);
  assert.equal(await b.submit(RUN), mix.onRunning + 1, "ids go on after the old ones");
});

Deno.test("a restart after SIGKILL keeps every job and re-adopts the running one", async () => {
  await using home = await tempDir();
  const args = ["--maxprocs", "1"];
  // Disposing of the first daemon kills its jobs: it must wait for the end of the test.
  await using first = await TestDaemon.start({ home: home.path, args });
  await using b1 = await Bench.open(first);
  const mix = await submitMix(b1);
  const table = await jobTable(b1);
  await first.crash();

  await using d = await TestDaemon.start({ home: home.path, args });
  await using b = await Bench.open(d);
  assert.deepEqual(await jobTable(b), table);
  await b.expectStates(states(mix, { running: "R", queued: "Q", onRunning: "H" }));
  await b.open(mix.running);
  assert.equal(await b.wait(mix.running), "OK S 0");
  await b.expectStates(states(mix, { running: "S", queued: "R", onRunning: "Q" }));
  await b.waitLedger([mix.ok, mix.failed, mix.running, mix.queued]);
  assert.equal(await b.submit(RUN), mix.onRunning + 1, "ids go on after the old ones");
});

Deno.test("job ids are never reused, even after CLEAN and restarts", async () => {
  await using home = await tempDir();
  {
    await using d = await TestDaemon.start({ home: home.path });
    await using b = await Bench.open(d);
    for (const id of [1, 2, 3]) {
      assert.equal(await b.submit(RUN), id);
      assert.equal(await b.wait(id), "OK S 0");
    }
    await waitFor(async () => {
      await b.request("CLEAN 0");
      return (await b.client.status()).length === 0;
    }, "CLEAN to forget every job");
    await d.crash();
  }
  {
    await using d = await TestDaemon.start({ home: home.path });
    await using b = await Bench.open(d);
    assert.equal(await b.submit(RUN), 4);
    assert.equal(await b.request("SHUTDOWN"), "OK");
    await within(d.exited(), "the daemon to stop");
  }
  await using d = await TestDaemon.start({ home: home.path });
  await using b = await Bench.open(d);
  assert.equal(await b.submit(RUN), 5);
});

Deno.test("a second daemon on the same socket is refused and the first goes on", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "1"] });
  await using b = await Bench.open(d);
  const done = await b.submit(RUN);
  assert.equal(await b.wait(done), "OK S 0");
  const running = await b.gate();
  await b.waitLedger([done, running]);
  const queued = await b.gate();
  const before = {
    status: await b.client.status(),
    ping: await b.request("PING"),
    socket: (await Deno.stat(d.socket)).ino,
  };

  await using second = await TestDaemon.start({ home: d.home, noWait: true });
  const status = await within(second.exited(), "the second daemon to give up");
  assert.notEqual(status.code, 0);
  assert.match(second.stderr, /already running/);
  assert.ok(second.stderr.includes(d.socket), `stderr names the socket: ${second.stderr}`);

  assert.deepEqual(await b.client.status(), before.status);
  assert.equal(await b.request("PING"), before.ping);
  assert.equal((await Deno.stat(d.socket)).ino, before.socket, "the socket was not replaced");
  using fresh = await d.connect();
  assert.equal(await fresh.request("PING\r\n"), `${before.ping}\r\n`);
  await b.open(running);
  await b.waitLedger([done, running, queued]);
});

Deno.test("a stale socket is replaced; a regular file at the socket path is refused and kept", async () => {
  await using home = await tempDir();
  const socket = `${home.path}/sjq.sock`;
  await Deno.writeTextFile(socket, "not a socket\n");
  {
    await using d = await TestDaemon.start({ home: home.path, noWait: true });
    assert.notEqual((await d.exited()).code, 0);
    assert.match(d.stderr, /sjq\.sock is a file, not a socket: refusing to replace it/);
    assert.equal(await Deno.readTextFile(socket), "not a socket\n");
  }
  await Deno.remove(socket);
  {
    await using d = await TestDaemon.start({ home: home.path });
    assert.equal((await Deno.stat(socket)).isSocket, true);
    await d.crash();
  }
  assert.equal((await Deno.stat(socket)).isSocket, true, "a dead daemon leaves its socket");
  await assert.rejects(RawClient.connect(socket), "nobody answers on it");
  await using d = await TestDaemon.start({ home: home.path });
  using c = await d.connect();
  assert.equal(await c.request("PING\r\n"), "OK \r\n");
});

/** Checks for `ms` that the daemon keeps answering PING. */
async function staysUp(d: TestDaemon, ms: number): Promise<void> {
  using c = await d.connect();
  const until = Date.now() + ms;
  while (Date.now() < until) {
    assert.match(await c.request("PING\r\n"), /^OK /);
    assert.equal(processGone(d.pid), false);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("an idle daemon exits after waittime, one with a running job does not", async () => {
  {
    await using d = await TestDaemon.start({ args: ["--waittime", "1"] });
    assert.equal((await within(d.exited(), "an idle daemon to exit")).code, 0);
    await assert.rejects(Deno.stat(d.socket), "it removed its socket");
  }
  await using home = await tempDir();
  await using first = await TestDaemon.start({ home: home.path, args: ["--autoshutdown", "F"] });
  await using b = await Bench.open(first);
  const running = await b.gate();
  await b.waitLedger([running]);
  await first.crash();
  // The new daemon is never idle from its start: it adopts the running job.
  await using d = await TestDaemon.start({ home: home.path, args: ["--waittime", "1"] });
  await staysUp(d, 2500);
  await b.open(running);
  assert.equal((await within(d.exited(), "the daemon to exit once idle")).code, 0);
});

Deno.test("with autoshutdown off an idle daemon stays", async () => {
  await using d = await TestDaemon.start({ args: ["--autoshutdown", "F", "--waittime", "1"] });
  await staysUp(d, 2500);
});

/** How many of four blocking jobs a daemon started with `opts` runs at once. */
async function concurrency(opts: DaemonOptions): Promise<number> {
  await using d = await TestDaemon.start(opts);
  await using b = await Bench.open(d);
  for (let i = 0; i < 4; i++) await b.gate();
  const running = Object.values(await b.states()).filter((s) => s === "R").length;
  await waitFor(async () => (await b.ledger()).length === running, `${running} jobs to start`);
  return running;
}

Deno.test("maxprocs comes from the flag, then SJQ_MAXPROCS, then ~/.sjqrc", async () => {
  const rc = "# from the rc file\nsjq.maxprocs=1\n";
  const env = { SJQ_MAXPROCS: "2" };
  assert.equal(await concurrency({ rc }), 1);
  assert.equal(await concurrency({ rc, env }), 2);
  assert.equal(await concurrency({ rc, env, args: ["--maxprocs", "3"] }), 3);
});

Deno.test("a bad rc value stops the daemon naming file:line; an unknown key warns", async () => {
  {
    const rc = "[sjq]\nmaxprocs = lots\n";
    await using d = await TestDaemon.start({ rc, noWait: true });
    assert.notEqual((await within(d.exited(), "the daemon to give up")).code, 0);
    assert.ok(d.stderr.includes(`${d.home}/.sjqrc:2`), `stderr: ${d.stderr}`);
    assert.match(d.stderr, /sjq\.maxprocs/);
  }
  await using d = await TestDaemon.start({ rc: "sjq.colour = blue\nsjq.maxprocs = 2\n" });
  await waitFor(() => d.stderr.includes(`"sjq.colour"`), "a warning about the unknown key");
  assert.match(d.stderr, /warning: Unknown configuration key "sjq\.colour" in .*\.sjqrc:1/);
});

Deno.test("the log starts with the daemon's pid and ends with its exit code and run time", async () => {
  await using home = await tempDir();
  const logfile = `${home.path}/daemon.log`;
  await using d = await TestDaemon.start({ args: ["--logfile", logfile] });
  await using b = await Bench.open(d);
  const id = await b.submit(RUN);
  assert.equal(await b.wait(id), "OK S 0");
  assert.equal(await b.request("SHUTDOWN"), "OK");
  assert.equal((await within(d.exited(), "the daemon to stop")).code, 0);
  const lines = (await Deno.readTextFile(logfile)).trimEnd().split("\n");
  assert.match(lines[0]!, new RegExp(`\\bsjq daemon ${d.pid}\\b`));
  assert.match(lines.at(-1)!, /\bexit code 0\b/, "the last line gives the exit code");
  assert.match(lines.at(-1)!, /\b\d+(\.\d+)? ?s\b/, "the last line gives the run time");
});

Deno.test("sjq daemon --detach returns once the daemon answers; sjq shutdown stops it", async () => {
  await using home = await tempDir();
  await using _leftovers = { [Symbol.asyncDispose]: () => killJobsUnder(home.path) };
  const env = baseEnv(home.path, `${home.path}/sjq.sock`);
  const started = await sjq(["daemon", "--detach"], { env });
  assert.equal(started.code, 0, started.stderr);
  assert.match(started.stdout, /^\d+\n$/, "stdout is the pid alone");
  const pid = Number(started.stdout);
  {
    using c = await RawClient.connect(`${home.path}/sjq.sock`);
    assert.equal(await c.request("PING\r\n"), "OK \r\n");
  }
  assert.match(await Deno.readTextFile(`/proc/${pid}/cmdline`), /\bdaemon\b/);
  const stopped = await sjq(["shutdown"], { env });
  assert.equal(stopped.code, 0, stopped.stderr);
  await waitFor(() => processGone(pid), `the detached daemon ${pid} to exit`);
});
