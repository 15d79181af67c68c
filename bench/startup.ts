/**
 * Client start-up: the wall time of one `sjq submit`, `sjq ping` and `sjq
 * status ID` process against a running daemon, beside `deno run` of an empty
 * script in the same hyperfine run (what any Deno program pays to start), and
 * the same through the launcher `make build` writes (one more exec, of
 * /bin/sh). Prints a Markdown table with each median's ratio to the empty
 * `deno run`, and the same for CPU time (user + system), which other load on
 * the machine moves less than wall time.
 *
 * Usage: deno run -A bench/startup.ts [--runs N] [--rounds R] [--before CHECKOUT]
 * (`make bench-startup`)
 *
 * `--rounds R` runs the whole set R times in turn, so that a burst of other
 * load on a shared machine hits every command about equally; each median
 * and CPU time is then the median of the rounds' (min and max over all).
 *
 * `--before` times `ping` and `submit` of another checkout of sjq in the
 * same run (e.g. `git worktree add /tmp/old <commit>`), against this daemon.
 *
 * @module
 */

import { log } from "./log.ts";
import { run } from "./proc.ts";
import { scratchDir } from "./scratch.ts";
import { denoDir, MAIN, startSjq } from "./sjq.ts";
import { figure } from "./stats.ts";

const BUILD = new URL("../build.sh", import.meta.url).pathname;

interface _Hyperfine {
  results: { command: string; times: number[]; user: number; system: number }[];
}

/** One row of the result: a label, the command hyperfine timed, and its times in ms. */
export interface StartupRow {
  label: string;
  command: string;
  median: number;
  min: number;
  max: number;
  /** Mean CPU time (user + system) in ms: less moved by other load than wall time. */
  cpu: number;
}

/**
 * Times every client command `runs` times with hyperfine (no shell in
 * between), in `rounds` rounds; with `before` (another checkout of sjq), its
 * ping and submit too.
 */
export async function clientStartup(
  runs: number,
  before?: string,
  rounds = 1,
): Promise<StartupRow[]> {
  await using dir = await scratchDir("startup");
  const deno = Deno.execPath();
  const cache = await denoDir();
  await Deno.writeTextFile(`${dir.path}/empty.ts`, "export {};\n");
  await run("/bin/sh", [BUILD, `${dir.path}/sjq`], {
    env: { DENO: deno, SJQ_BUILD: "launcher" },
  });
  await using d = await startSjq({ home: dir.path, denoDir: cache, maxprocs: 2 });
  const src = `${deno} run -A --quiet ${MAIN}`;
  const s = `--socket ${d.socket}`;
  const id =
    (await run(deno, ["run", "-A", "--quiet", MAIN, "submit", ...s.split(" "), "--wrap", "true"], {
      env: d.env,
      cwd: dir.path,
    })).stdout.trim();
  const commands: [string, string][] = [
    ["deno run (empty script)", `${deno} run -A --quiet ${dir.path}/empty.ts`],
    ["sjq ping", `${src} ping ${s}`],
    ["sjq submit", `${src} submit ${s} --wrap true`],
    ["sjq status ID", `${src} status ${s} ${id}`],
    ["launcher: sjq ping", `${dir.path}/sjq ping ${s}`],
    ["launcher: sjq submit", `${dir.path}/sjq submit ${s} --wrap true`],
  ];
  if (before !== undefined) {
    const old = `${deno} run -A --quiet --config ${before}/deno.json ${before}/main.ts`;
    commands.push(["before: sjq ping", `${old} ping ${s}`]);
    commands.push(["before: sjq submit", `${old} submit ${s} --wrap true`]);
  }
  const json = `${dir.path}/hyperfine.json`;
  // Each round times every command once in turn; over several rounds a burst of other load
  // hits each command about equally, and each figure is the median of the rounds' figures.
  const medians: number[][] = commands.map(() => []);
  const cpus: number[][] = commands.map(() => []);
  const all: number[][] = commands.map(() => []);
  for (let round = 0; round < rounds; round++) {
    await run("hyperfine", [
      "-N",
      "--warmup",
      "5",
      "--runs",
      String(runs),
      "--export-json",
      json,
      ...commands.map(([, c]) => c),
    ], {
      env: { ...d.env, HOME: dir.path, DENO_DIR: cache, SJQ_CONFIG: "/dev/null" },
      cwd: dir.path,
    });
    const out = JSON.parse(await Deno.readTextFile(json)) as _Hyperfine;
    out.results.forEach((r, i) => {
      const times = r.times.map((t) => t * 1000);
      medians[i]!.push(figure(times).median);
      cpus[i]!.push((r.user + r.system) * 1000);
      all[i]!.push(...times);
    });
  }
  const middle = (values: number[]) => figure(values).median;
  return commands.map(([label, command], i) => {
    const ms = figure(all[i]!);
    const row = {
      label,
      command,
      median: middle(medians[i]!),
      min: ms.min,
      max: ms.max,
      cpu: middle(cpus[i]!),
    };
    log(`${label}: median ${row.median.toFixed(1)} ms, CPU ${row.cpu.toFixed(1)} ms`);
    return row;
  });
}

/**
 * The Markdown table of {@linkcode clientStartup}'s rows: wall time (median,
 * min–max) and CPU time, each with its ratio to the first row's.
 */
export function startupTable(rows: StartupRow[]): string {
  const base = rows[0]!;
  const ratio = (value: number, of: number) => `${(value / of).toFixed(2)}×`;
  const lines = [
    "| command | ms (min–max) | ÷ deno run (empty) | CPU ms | CPU ÷ deno run (empty) |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map((r) =>
      `| ${r.label} | ${r.median.toFixed(1)} (${r.min.toFixed(1)}–${r.max.toFixed(1)}) | ${
        ratio(r.median, base.median)
      } | ${r.cpu.toFixed(1)} | ${ratio(r.cpu, base.cpu)} |`
    ),
  ];
  return `${lines.join("\n")}\n`;
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--runs");
  const runs = at >= 0 ? Number(Deno.args[at + 1]) : 50;
  const from = Deno.args.indexOf("--before");
  const before = from >= 0 ? Deno.args[from + 1] : undefined;
  const r = Deno.args.indexOf("--rounds");
  const rounds = r >= 0 ? Number(Deno.args[r + 1]) : 1;
  console.log(startupTable(await clientStartup(runs, before, rounds)));
}
