/**
 * Workload 3, client cost: the wall time of one `sjq submit` process, timed
 * by hyperfine (no shell in between) in the same run as `deno run` of an
 * empty script, which is what any Deno CLI pays to start, and `tsp true`,
 * a C client doing the same job.
 *
 * @module
 */

import { log } from "./log.ts";
import { run } from "./proc.ts";
import type { ClientRow } from "./results.ts";
import { scratchDir } from "./scratch.ts";
import { MAIN, startSjq } from "./sjq.ts";
import { figure } from "./stats.ts";

interface _Hyperfine {
  results: { command: string; times: number[] }[];
}

/** Runs the client-cost commands `runs` times each, sjq's only when `withSjq`. */
export async function clientCost(
  runs: number,
  denoDir: string,
  withSjq: boolean,
): Promise<ClientRow[]> {
  await using dir = await scratchDir("client");
  const deno = Deno.execPath();
  await Deno.writeTextFile(`${dir.path}/empty.ts`, "export {};\n");
  const env = {
    HOME: dir.path,
    DENO_DIR: denoDir,
    TS_SOCKET: `${dir.path}/ts.sock`,
    TMPDIR: dir.path,
    SJQ_CONFIG: "/dev/null",
  };
  const commands: [string, string][] = [
    [`${deno} run -A --quiet ${dir.path}/empty.ts`, "deno run (empty script)"],
    ["tsp -n true", "tsp true"],
  ];
  await using d = withSjq ? await startSjq({ home: dir.path, denoDir, maxprocs: 2 }) : undefined;
  if (d) {
    commands.unshift([
      `${deno} run -A --quiet ${MAIN} submit --socket ${d.socket} --wrap true`,
      "sjq submit",
    ]);
  }
  try {
    await run("tsp", ["-S", "2"], { env, cwd: dir.path });
    const json = `${dir.path}/hyperfine.json`;
    await run("hyperfine", [
      "-N",
      "--warmup",
      "5",
      "--runs",
      String(runs),
      "--export-json",
      json,
      ...commands.map(([c]) => c),
    ], { env, cwd: dir.path });
    const out = JSON.parse(await Deno.readTextFile(json)) as _Hyperfine;
    return out.results.map((r, i) => {
      const [command, label] = commands[i]!;
      const ms = figure(r.times.map((t) => t * 1000));
      log(`client ${label}: median ${ms.median.toFixed(1)} ms`);
      return { command, label, ms };
    });
  } finally {
    await run("tsp", ["-K"], { env, allowFail: true });
  }
}
