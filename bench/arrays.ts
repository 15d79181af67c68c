/**
 * Job arrays: how long one SUBMIT of a 100,000-task array takes (sent to
 * `OK`, the commit on disk included), and what a task costs in the daemon's
 * memory and on disk, beside the same for plain jobs submitted (pipelined)
 * in the same run with the same script, options and environment. Everything
 * is submitted held (HOLD), so nothing runs and the figures are the queue's
 * alone. Prints a Markdown table.
 *
 * Usage: deno run -A bench/arrays.ts [--tasks N] [--plain N] [--runs N]
 *
 * @module
 */

import { scratchDir } from "./scratch.ts";
import { denoDir, encodeSubmit, repeat, rssBytes, startSjq, submitPipelined } from "./sjq.ts";
import { encodeBase64 } from "../src/protocol.ts";

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}

const TASKS = flag("tasks", 100_000);
const PLAIN = flag("plain", 10_000);
const RUNS = flag("runs", 3);

/** Bytes of the database and its WAL. */
async function diskBytes(home: string): Promise<number> {
  let total = 0;
  for (const f of ["sjq.db", "sjq.db-wal"]) {
    total += await Deno.stat(`${home}/${f}`).then((s) => s.size, () => 0);
  }
  return total;
}

/** RSS after a collection has had a chance to run (the daemon is idle meanwhile). */
async function settledRss(pid: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 1500));
  return await rssBytes(pid);
}

await using dir = await scratchDir("arrays");
await using d = await startSjq({ home: dir.path, denoDir: await denoDir(), maxprocs: 2 });
using c = await d.connect();
// A submitter's environment of a usual size, as `sjq submit` sends it by default.
const env = Object.entries(Deno.env.toObject()).map(([k, v]) => `${k}=${encodeBase64(v)}`);
const options = {
  CWD: dir.path,
  NAME: "task",
  HOLD: "",
  ENV: env.join(";").slice(0, 60_000).replace(/;[^;]*$/, ""),
};
const script = '#!/bin/sh\nexec ./align.sh "$SJQ_ARRAY_TASK_ID"\n';

const rss0 = await settledRss(d.pid);
const disk0 = await diskBytes(dir.path);
const plainStart = performance.now();
await submitPipelined(c, repeat(encodeSubmit(script, options), PLAIN), PLAIN);
const plainMs = performance.now() - plainStart;
const rss1 = await settledRss(d.pid);
const disk1 = await diskBytes(dir.path);

const arrayMs: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const request = encodeSubmit(script, { ...options, ARRAY: `1-${TASKS}` });
  const start = performance.now();
  await submitPipelined(c, request, 1);
  arrayMs.push(performance.now() - start);
}
const rss2 = await settledRss(d.pid);
const disk2 = await diskBytes(dir.path);

const perPlainRss = (rss1 - rss0) / PLAIN;
const perTaskRss = (rss2 - rss1) / (TASKS * RUNS);
const perPlainDisk = (disk1 - disk0) / PLAIN;
const perTaskDisk = (disk2 - disk1) / (TASKS * RUNS);
const sorted = [...arrayMs].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)]!;
const fmt = (n: number, digits = 0) => n.toFixed(digits);
console.log(
  `Job arrays (${TASKS} tasks per array, ${RUNS} arrays; ${PLAIN} plain jobs as the baseline)

| measure | plain job | array task | task / plain |
| --- | ---: | ---: | ---: |
| submit time per job (µs) | ${fmt((plainMs * 1000) / PLAIN, 1)} | ${
    fmt((median * 1000) / TASKS, 2)
  } | ${fmt(median / TASKS / (plainMs / PLAIN), 3)} |
| daemon memory per job (bytes, RSS) | ${fmt(perPlainRss)} | ${fmt(perTaskRss)} | ${
    fmt(perTaskRss / perPlainRss, 2)
  } |
| database + WAL per job (bytes) | ${fmt(perPlainDisk)} | ${fmt(perTaskDisk)} | ${
    fmt(perTaskDisk / perPlainDisk, 2)
  } |

One SUBMIT of ${TASKS} tasks, sent to OK (durable): ${
    arrayMs.map((t) => `${fmt(t)} ms`).join(", ")
  } (median ${fmt(median)} ms).
${PLAIN} plain SUBMITs pipelined on one connection: ${fmt(plainMs)} ms.`,
);
