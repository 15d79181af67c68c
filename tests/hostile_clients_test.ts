/**
 * Hostile and careless clients (issue 8, items 8 and 9): too many
 * connections, and a client that sends requests but never reads a reply.
 * Neither may stop the daemon, stall other clients, or grow its memory
 * without bound.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RawClient, TestDaemon, waitFor } from "./harness.ts";
import { submitHeld } from "./held_jobs.ts";

const encoder = new TextEncoder();

/** The daemon's resident memory in MiB. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) / 1024;
}

/** Times `n` PINGs on `c`, one after the other; returns the latencies in ms. */
export async function pingLatencies(c: RawClient, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    assert.match(await c.request("PING\r\n"), /^OK /);
    times.push(performance.now() - t);
  }
  return times;
}

/** The p-th percentile (0..100) of `values`. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p / 100))]!;
}

/**
 * Starts a client that sends `requests` STATUS and INFO requests (of every
 * job) and never reads: its writes stall once the daemon stops reading it.
 */
export async function startHog(socket: string, requests: number): Promise<RawClient> {
  const hog = await RawClient.connect(socket);
  // Not awaited: this write stalls for good once the daemon stops reading the hog.
  hog.send(encoder.encode("STATUS\r\nINFO\r\n".repeat(requests / 2))).catch(() => {});
  return hog;
}

Deno.test("a client that never reads its replies does not stall others nor grow the daemon's memory", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  const jobs = 5_000;
  const ids = await submitHeld(c, jobs);
  const before = await rssMiB(d.pid);
  const hog = await startHog(d.socket, 2_000);
  try {
    // While the hog is connected, with its requests unread: PING, STATUS and SUBMIT work.
    const latencies = await pingLatencies(c, 200);
    const rows = await c.status();
    assert.equal(rows.length, jobs, "every acknowledged job is listed");
    assert.deepEqual(rows.map((r) => Number(r[0])), ids);
    const [late] = await submitHeld(c, 1, "late");
    assert.equal(await c.state(late!), "U");
    const rss = await rssMiB(d.pid);
    console.log(
      `PING under a non-reading client (${jobs} jobs): p50 ${
        percentile(latencies, 50).toFixed(2)
      } ms, p99 ${percentile(latencies, 99).toFixed(2)} ms, max ${
        Math.max(...latencies).toFixed(2)
      } ms; daemon RSS ${before.toFixed(0)} MiB before, ${rss.toFixed(0)} MiB with the hog`,
    );
    // Old daemons queued up to 1,024 replies per connection: 2,000 listings of 5,000 jobs are > 1 GiB.
    assert.ok(rss - before < 256, `the daemon grew by ${(rss - before).toFixed(0)} MiB`);
  } finally {
    hog[Symbol.dispose]();
  }
  assert.match(await c.request("PING\r\n"), /^OK U:5001\r\n$/);
});

Deno.test("connections past sjq.maxconnections get an ERROR and a close; the daemon keeps serving", async () => {
  await using d = await TestDaemon.start({ args: ["--maxconnections", "8"] });
  const open: RawClient[] = [];
  try {
    for (let i = 0; i < 8; i++) {
      const c = await d.connect();
      open.push(c);
      assert.match(await c.request("PING\r\n"), /^OK /);
    }
    for (let i = 0; i < 3; i++) {
      using extra = await d.connect();
      assert.equal(
        await extra.line(),
        "ERROR Too many connections: this daemon serves at most 8 at once\r\n",
      );
      assert.equal(await extra.line(), null, "then the connection is closed");
    }
    open.pop()![Symbol.dispose]();
    // Once one has closed, a new one is served.
    await waitFor(async () => {
      using again = await d.connect();
      return /^OK /.test(await again.request("PING\r\n"));
    }, "a connection to be served again");
    for (const c of open) assert.match(await c.request("PING\r\n"), /^OK /);
  } finally {
    for (const c of open) c[Symbol.dispose]();
  }
});

Deno.test("past the file-descriptor limit the daemon neither dies nor stops accepting", async () => {
  await using d = await TestDaemon.start({ args: ["--maxconnections", "1000"] });
  // A low limit on the running daemon: accept fails (EMFILE) long before 1000 connections.
  const limit = await new Deno.Command("prlimit", {
    args: ["--pid", String(d.pid), "--nofile=64:64"],
  }).output();
  assert.equal(limit.code, 0, new TextDecoder().decode(limit.stderr));
  const open: RawClient[] = [];
  try {
    for (let i = 0; i < 150; i++) open.push(await d.connect());
    // The last ones wait in the backlog; close most, and everyone left is served.
    for (const c of open.splice(0, 140)) c[Symbol.dispose]();
    for (const c of open) assert.match(await c.request("PING\r\n"), /^OK /);
    using fresh = await d.connect();
    assert.equal(await fresh.request("PING\r\n"), "OK \r\n");
    assert.equal(d.exitedCode, undefined, "the daemon is still running");
  } finally {
    for (const c of open) c[Symbol.dispose]();
  }
  // And the socket is still the daemon's: a new daemon would be refused.
  assert.equal((await Deno.lstat(d.socket)).isSocket, true);
});

/**
 * Sends `text` on `c`; a connection refused at the cap (the clients before it
 * not let go yet) may be closed before it is written to, and that is no failure.
 */
async function sendUnlessRefused(c: RawClient, text: string): Promise<void> {
  await c.send(text).catch((e) => {
    if (!(e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.ConnectionReset)) throw e;
  });
}

/**
 * Ten clients in turn send `requests(held)` (whose replies never come: they
 * wait for a held job) to a daemon capped at 4 connections, and go away; a
 * new connection must then be served.
 */
async function goneClientsLeaveTheCap(requests: (held: number) => string): Promise<void> {
  await using d = await TestDaemon.start({ args: ["--maxconnections", "4"] });
  using c = await d.connect();
  const [held] = await submitHeld(c, 1);
  c[Symbol.dispose]();
  for (let i = 0; i < 10; i++) {
    using w = await d.connect();
    await sendUnlessRefused(w, requests(held!));
  }
  await waitFor(async () => {
    using again = await d.connect();
    return /^OK U:1\r\n$/.test(await again.request("PING\r\n"));
  }, "a new connection to be served");
}

Deno.test("a client gone while its WAIT is pending does not keep its place under the cap", async () => {
  // The job never ends: the WAIT is never answered.
  await goneClientsLeaveTheCap((held) => `WAIT ${held}\r\n`);
});

Deno.test("a client gone while a listing waits behind its WAIT does not keep its place either", async () => {
  // INFO waits for the WAIT before it, which never comes.
  await goneClientsLeaveTheCap((held) => `WAIT ${held}\r\nINFO\r\nPING\r\n`);
});

Deno.test("a request the daemon cannot answer for want of file descriptors gets an ERROR, and the connection stays", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  await submitHeld(c, 1);
  const fds = [...Deno.readDirSync(`/proc/${d.pid}/fd`)].length;
  const limit = await new Deno.Command("prlimit", {
    args: ["--pid", String(d.pid), `--nofile=${fds + 4}:${fds + 4}`],
  }).output();
  assert.equal(limit.code, 0, new TextDecoder().decode(limit.stderr));
  const open: RawClient[] = [];
  try {
    // Every descriptor left is taken by a connection (the last ones wait in the backlog).
    for (let i = 0; i < 10; i++) open.push(await d.connect());
    await waitFor(
      () => [...Deno.readDirSync(`/proc/${d.pid}/fd`)].length >= fds + 4,
      "the daemon to run out of file descriptors",
    );
    // A listing reads from a database connection of its own, which cannot be opened now.
    assert.match(await c.request("INFO\r\n"), /^ERROR .+\r\n$/);
    assert.equal(await c.request("PING\r\n"), "OK U:1\r\n", "the connection still serves");
  } finally {
    for (const o of open) o[Symbol.dispose]();
  }
  await waitFor(async () => {
    using again = await d.connect();
    return /^OK \d+\r\n$/.test(await again.request("INFO\r\n"));
  }, "listings to work again once descriptors are free");
});
