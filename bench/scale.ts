/**
 * Workload 4, scale: with one job holding both CPUs, the queue is filled to
 * each depth; at each, pipelined submit rate over one connection, the time of
 * a full `STATUS`, and the daemon's resident memory. The submits timed at one
 * depth stay queued, so a depth is where its measurement started. Every other
 * job depends on the running one (it waits in H), so the queue holds
 * dependencies as well as plain queued jobs. An untimed warm-up of
 * submits (killed and cleaned away again) comes first. Before each depth's
 * timed rounds the daemon is let go idle, and the log line gives its CPU per
 * submit (utime + stime) beside the rate, which the other work on the
 * machine does not move as much.
 *
 * @module
 */

import type { ModeConfig } from "./config.ts";
import { log } from "./log.ts";
import type { ScaleRow } from "./results.ts";
import { scratchDir } from "./scratch.ts";
import { encodeSubmit, ping, repeat, rssBytes, startSjq, submitPipelined } from "./sjq.ts";
import { figure } from "./stats.ts";
import { pollUntil } from "./proc.ts";
import { processCpuMs } from "../tests/inspect.ts";

/**
 * Sends `STATUS` on `conn` and reads the whole reply into one buffer sized
 * from its header; returns the payload size. (A general line reader would
 * copy a large payload many times and time itself instead of the daemon.)
 */
async function _status(conn: Deno.UnixConn): Promise<number> {
  await conn.write(new TextEncoder().encode("STATUS\r\n"));
  let head = new Uint8Array(0);
  const chunk = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(chunk);
    if (n === null) throw new Error("Connection closed during STATUS");
    const next = new Uint8Array(head.length + n);
    next.set(head);
    next.set(chunk.subarray(0, n), head.length);
    head = next;
    const eol = head.indexOf(10);
    if (eol < 0) continue;
    const m = /^OK (\d+)\r\n$/.exec(new TextDecoder().decode(head.subarray(0, eol + 1)));
    if (!m) throw new Error(`Bad STATUS reply: ${new TextDecoder().decode(head.subarray(0, 80))}`);
    const size = Number(m[1]);
    const body = new Uint8Array(size);
    let got = head.length - eol - 1;
    body.set(head.subarray(eol + 1));
    while (got < size) {
      const k = await conn.read(body.subarray(got));
      if (k === null) throw new Error(`Connection closed with ${got}/${size} STATUS bytes`);
      got += k;
    }
    return size;
  }
}

/**
 * Waits (at most 5 s) until the daemon uses no CPU for 100 ms, so that the
 * work of what came before (the warm-up's KILLs and CLEAN, filling the queue)
 * is not timed as part of the next depth's submits.
 */
async function settle(pid: number): Promise<void> {
  const deadline = performance.now() + 5_000;
  let last = processCpuMs(pid).self;
  while (performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const now = processCpuMs(pid).self;
    if (now === last) return;
    last = now;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Runs the scale workload at the depths of `cfg`. */
export async function scale(cfg: ModeConfig, denoDir: string): Promise<ScaleRow[]> {
  await using dir = await scratchDir("scale");
  await using d = await startSjq({ home: dir.path, denoDir, maxprocs: 2 });
  using c = await d.connect();
  const statusConn = await Deno.connect({ transport: "unix", path: d.socket });
  try {
    const opts = { CWD: dir.path, STDOUT: "/dev/null", STDERR: "/dev/null" };
    const [blocker] = await submitPipelined(
      c,
      encodeSubmit("exec sleep 86400\n", { ...opts, PROCS: "2" }),
      1,
    );
    await pollUntil(async () => (await ping(c)).R === 1, 10, "the blocking job to run", 10_000);
    const pair = concat(
      encodeSubmit("true\n", opts),
      encodeSubmit("true\n", { ...opts, DEPENDS: String(blocker) }),
    );
    /** Submits about `n` jobs (rounded up to pairs) in one pipelined stream. */
    const submitJobs = (n: number) => {
      const pairs = Math.ceil(n / 2);
      return submitPipelined(c, repeat(pair, pairs), pairs * 2);
    };
    // Untimed warm-up: V8 optimises the submit path only after some thousands of calls, as in a
    // daemon that has been running. The jobs are killed and forgotten: the queue is empty again.
    const warm = await submitJobs(cfg.scale.warmup);
    const kills = new TextEncoder().encode(warm.map((id) => `KILL ${id}\r\n`).join(""));
    const killed = (async () => {
      for (const id of warm) {
        const line = await c.line();
        if (line !== "OK\r\n") throw new Error(`KILL ${id}: ${JSON.stringify(line)}`);
      }
    })();
    await c.send(kills);
    await killed;
    const cleaned = await c.request("CLEAN 0\r\n");
    if (cleaned !== `OK ${warm.length}\r\n`) throw new Error(`CLEAN 0: ${cleaned}`);
    const rows: ScaleRow[] = [];
    for (const target of cfg.scale.depths) {
      const waiting = async () => {
        const counts = await ping(c);
        return (counts.Q ?? 0) + (counts.H ?? 0);
      };
      let depth = await waiting();
      while (depth < target) {
        const k = Math.min(10_000, target - depth);
        await submitJobs(k);
        depth = await waiting();
      }
      await settle(d.pid);
      const rates: number[] = [];
      const cpu0 = processCpuMs(d.pid).self;
      for (let r = 0; r < cfg.runs; r++) {
        const t0 = performance.now();
        await submitJobs(cfg.scale.submits);
        rates.push(cfg.scale.submits / ((performance.now() - t0) / 1000));
      }
      const cpuPerSubmit = (processCpuMs(d.pid).self - cpu0) * 1000 /
        (cfg.runs * cfg.scale.submits);
      const times: number[] = [];
      let statusBytes = 0;
      for (let r = 0; r < cfg.runs; r++) {
        const t0 = performance.now();
        statusBytes = await _status(statusConn);
        times.push(performance.now() - t0);
      }
      const row = {
        depth,
        submitRate: figure(rates),
        statusMs: figure(times),
        statusBytes,
        rss: await rssBytes(d.pid),
      };
      log(
        `scale depth ${depth}: ${row.submitRate.median.toFixed(0)} submits/s ` +
          `(daemon ${cpuPerSubmit.toFixed(1)} µs CPU/submit), ` +
          `STATUS ${row.statusMs.median.toFixed(1)} ms, RSS ${(row.rss / 2 ** 20).toFixed(0)} MiB`,
      );
      rows.push(row);
    }
    return rows;
  } finally {
    statusConn.close();
  }
}
