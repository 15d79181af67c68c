/**
 * Clients that go away with replies pending (issue 8: the 100,000-input
 * `make fuzz` run). The fuzzer's clients give up after 150 ms; once the
 * daemon fell behind, it went on building every listing they had asked for
 * and kept every abandoned WAIT's connection for 30 s, so it fell further
 * behind, until its connection cap was full of clients long gone and the
 * final PING was refused. A reply nobody can read any more must cost
 * (next to) nothing, and a connection whose client has gone must be let go.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RawClient, TestDaemon, waitFor } from "./harness.ts";
import { submitHeld } from "./held_jobs.ts";
import { processCpuMs } from "./inspect.ts";

const encoder = new TextEncoder();

/** Sockets the process `pid` has open. */
async function openSockets(pid: number): Promise<number> {
  let n = 0;
  for await (const fd of Deno.readDir(`/proc/${pid}/fd`)) {
    try {
      if ((await Deno.readLink(`/proc/${pid}/fd/${fd.name}`)).startsWith("socket:")) n++;
    } catch { /* closed meanwhile */ }
  }
  return n;
}

/** Connects, sends `text`, and goes away at once without reading anything. */
async function sendAndGo(socket: string, text: string): Promise<void> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  const bytes = encoder.encode(text);
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
  conn.close();
}

/** Reads a whole INFO reply (its line, then its counted payload) on `c`. */
async function readInfo(c: RawClient): Promise<number> {
  const line = await c.line();
  const m = /^OK (\d+)\r\n$/.exec(line ?? "");
  assert.ok(m, `INFO refused: ${JSON.stringify(line)}`);
  await c.bytes(Number(m[1]));
  return Number(m[1]);
}

Deno.test("listings asked for by clients that went away are not built to the end", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  await submitHeld(c, 10_000);
  // What one INFO of every job costs the daemon, read to the end by a client that stays.
  const costs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const before = processCpuMs(d.pid).self;
    await c.send("INFO\r\n");
    await readInfo(c);
    costs.push(processCpuMs(d.pid).self - before);
  }
  const one = Math.max(20, costs.sort((a, b) => a - b)[1]!);
  const gone = 40;
  const before = processCpuMs(d.pid).self;
  for (let i = 0; i < gone; i++) await sendAndGo(d.socket, "INFO\r\n");
  // Listings advance side by side, a slice each in turn: one asked for last ends after the others.
  await c.send("INFO\r\n");
  await readInfo(c);
  const spent = processCpuMs(d.pid).self - before;
  console.log(
    `INFO of 10,000 jobs: ${one} ms of CPU; ${gone} clients gone after asking, plus one that stays: ${spent} ms`,
  );
  // Built to the end, they would cost about `gone + 1` listings.
  assert.ok(
    spent < one * 10,
    `${gone} abandoned listings cost ${spent} ms of CPU (one costs ${one} ms)`,
  );
  assert.match(await c.request("PING\r\n"), /^OK U:10000\r\n$/);
});

Deno.test("a connection whose client went away with a WAIT pending is closed at once", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  const [held] = await submitHeld(c, 1);
  const baseline = await openSockets(d.pid);
  for (let i = 0; i < 20; i++) await sendAndGo(d.socket, `WAIT ${held}\r\nINFO\r\n`);
  // Not after the 30 s given to a client that only half-closed and may still read.
  await waitFor(
    async () => await openSockets(d.pid) <= baseline,
    "the daemon to close the connections of clients gone with a WAIT pending",
  );
  assert.match(await c.request("PING\r\n"), /^OK U:1\r\n$/);
});

Deno.test("a client that half-closes with a WAIT pending still gets its answer", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  const [held] = await submitHeld(c, 1);
  const conn = await Deno.connect({ transport: "unix", path: d.socket });
  try {
    const wait = encoder.encode(`WAIT ${held}\r\n`);
    for (let off = 0; off < wait.length;) off += await conn.write(wait.subarray(off));
    await conn.closeWrite();
    // Answered once the daemon has seen the half-close (and found the client still there).
    assert.match(await c.request("PING\r\n"), /^OK /);
    await waitFor(async () => await openSockets(d.pid) > 0, "the daemon to read the half-close");
    assert.match(await c.request(`RELEASE ${held}\r\n`), /^OK/);
    const buf = new Uint8Array(256);
    let reply = "";
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      reply += new TextDecoder().decode(buf.subarray(0, n));
    }
    assert.equal(reply, "OK S 0\r\n");
  } finally {
    conn.close();
  }
});
