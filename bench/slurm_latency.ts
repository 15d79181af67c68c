/**
 * Latency of the Slurm backend on the benchmark's single-node Slurm
 * (bench/slurm.ts), beside plain `sbatch` in the same run:
 *
 * - submit→start: from the submit request (sjq: a raw SUBMIT on the socket,
 *   no CLI start-up; sbatch: spawning `sbatch --parsable`) to the job's first
 *   line running on the node;
 * - end→seen: from the job's last line to the submitter knowing it ended
 *   (sjq: the answer of a WAIT sent beforehand; sbatch: a tight 50 ms
 *   `squeue` loop seeing COMPLETED);
 * - parent end→child start: a two-job afterok chain (sjq dependencies;
 *   sbatch `--dependency=afterok`).
 *
 * The sjq daemon runs twice: with the default `sjq.slurm.poll` (5 s) and
 * with 1 s. Each job sleeps 2 s. Prints a Markdown table of medians (min–max).
 *
 * Usage: deno run -A bench/slurm_latency.ts [--runs N]   (`make bench-slurm`)
 *
 * @module
 */

import { TestDaemon } from "../tests/harness.ts";
import { log } from "./log.ts";
import { run, sleep } from "./proc.ts";
import { scratchDir } from "./scratch.ts";
import { startSlurm } from "./slurm.ts";
import { figure } from "./stats.ts";

const runs = Number(Deno.args[Deno.args.indexOf("--runs") + 1] || 0) || 8;

/** Nanosecond stamps the job writes: `<dir>/<tag>.start` and `<dir>/<tag>.end`. */
function jobScript(dir: string, tag: string): string {
  return `#!/bin/sh\ndate +%s%N > ${dir}/${tag}.start\nsleep 2\ndate +%s%N > ${dir}/${tag}.end\n`;
}

async function stamp(path: string): Promise<number> {
  for (;;) {
    try {
      const text = (await Deno.readTextFile(path)).trim();
      if (text !== "") return Number(text) / 1e6;
    } catch { /* not yet */ }
    await sleep(5);
  }
}

interface Sample {
  submitToStart: number;
  endToSeen: number;
  chain: number;
}

async function sbatchSamples(env: Record<string, string>, dir: string): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    const tag = `sb${i}`;
    await Deno.writeTextFile(`${dir}/${tag}.sh`, jobScript(dir, tag));
    const t0 = Date.now();
    const id = (await run("sbatch", ["--parsable", "-o", "/dev/null", `${dir}/${tag}.sh`], { env }))
      .stdout.trim();
    const start = await stamp(`${dir}/${tag}.start`);
    let seen = 0;
    while (seen === 0) {
      const state =
        (await run("squeue", ["-h", "-t", "all", "-j", id, "-o", "%T"], { env })).stdout;
      if (state.trim() === "COMPLETED") seen = Date.now();
      else await sleep(50);
    }
    const end = await stamp(`${dir}/${tag}.end`);
    // The chain: a child that waits for this parent's success.
    const ctag = `sbc${i}`;
    await Deno.writeTextFile(`${dir}/${ctag}.sh`, jobScript(dir, ctag));
    await Deno.writeTextFile(`${dir}/${tag}p.sh`, jobScript(dir, `${tag}p`));
    const parent =
      (await run("sbatch", ["--parsable", "-o", "/dev/null", `${dir}/${tag}p.sh`], { env }))
        .stdout.trim();
    await run("sbatch", [
      "--parsable",
      "-o",
      "/dev/null",
      `--dependency=afterok:${parent}`,
      `${dir}/${ctag}.sh`,
    ], { env });
    const chain = await stamp(`${dir}/${ctag}.start`) - await stamp(`${dir}/${tag}p.end`);
    samples.push({ submitToStart: start - t0, endToSeen: seen - end, chain });
  }
  return samples;
}

async function sjqSamples(
  env: Record<string, string>,
  dir: string,
  poll: string,
): Promise<Sample[]> {
  await using d = await TestDaemon.start({
    home: dir,
    args: ["--backend", "slurm", "--slurm-poll", poll, "--autoshutdown", "F"],
    env: { ...env, SJQ_CONFIG: "/dev/null" },
  });
  const samples: Sample[] = [];
  try {
    await sjqRuns(d, dir, poll, samples);
  } catch (e) {
    throw new Error(`${(e as Error).message}; daemon stderr: ${d.stderr.slice(-2000)}`);
  }
  return samples;
}

async function sjqRuns(
  d: TestDaemon,
  dir: string,
  poll: string,
  samples: Sample[],
): Promise<void> {
  const submit = async (script: string, options: Record<string, string>) => {
    using c = await d.connect();
    return (await c.submit(script, options)).replace(/^OK /, "");
  };
  const wait = async (id: string) => {
    using c = await d.connect();
    return await c.request(`WAIT ${id}\r\n`);
  };
  for (let i = 0; i < runs; i++) {
    const tag = `sq${poll}${i}`;
    const t0 = Date.now();
    const id = await submit(jobScript(dir, tag), { CWD: dir, MEM: "100M" });
    const start = await stamp(`${dir}/${tag}.start`);
    await wait(id);
    const seen = Date.now();
    const end = await stamp(`${dir}/${tag}.end`);
    const ptag = `${tag}p`;
    const parent = await submit(jobScript(dir, ptag), { CWD: dir, MEM: "100M" });
    const child = await submit(jobScript(dir, `${tag}c`), {
      CWD: dir,
      MEM: "100M",
      DEPENDS: parent,
    });
    await wait(child);
    const chain = await stamp(`${dir}/${tag}c.start`) - await stamp(`${dir}/${ptag}.end`);
    samples.push({ submitToStart: start - t0, endToSeen: seen - end, chain });
  }
}

function row(label: string, samples: Sample[]): string {
  const cell = (values: number[]) => {
    const f = figure(values);
    return `${f.median.toFixed(0)} (${f.min.toFixed(0)}–${f.max.toFixed(0)})`;
  };
  return `| ${label} | ${cell(samples.map((s) => s.submitToStart))} | ${
    cell(samples.map((s) => s.endToSeen))
  } | ${cell(samples.map((s) => s.chain))} |`;
}

if (import.meta.main) {
  await using slurm = await startSlurm();
  const env = { ...slurm.env, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
  await using dir = await scratchDir("slurm-latency");
  log(`slurm latency: ${runs} runs each`);
  const sbatch = await sbatchSamples(env, dir.path);
  const sjq5 = await sjqSamples(env, `${dir.path}`, "5s");
  const sjq1 = await sjqSamples(env, `${dir.path}`, "1s");
  console.log(
    `| ${runs} runs, ms, median (min–max) | submit→start | end→seen | parent end→child start |`,
  );
  console.log("|---|---|---|---|");
  console.log(row("sbatch alone (squeue every 50 ms)", sbatch));
  console.log(row("sjq, Slurm backend, sjq.slurm.poll=5s (default)", sjq5));
  console.log(row("sjq, Slurm backend, sjq.slurm.poll=1s", sjq1));
}
