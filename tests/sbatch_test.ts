/**
 * End-to-end: a script written for `sbatch` runs under sjq's local backend
 * unchanged. Its #SBATCH lines set the job's options (below #SJQ lines and
 * flags), its output names expand, it sees the SLURM_* variables, and
 * options sjq has no equivalent for are warned about.
 */

import assert from "node:assert/strict";
import type { JobInfo } from "../src/info.ts";
import { type Output, TestDaemon } from "./harness.ts";

async function run(d: TestDaemon, args: string[], cwd: string, code = 0): Promise<Output> {
  const out = await d.cli(args, { cwd });
  assert.equal(out.code, code, `sjq ${args.join(" ")} exited ${out.code}; stderr:\n${out.stderr}`);
  return out;
}

async function jobs(d: TestDaemon, cwd: string, ids: number[]): Promise<JobInfo[]> {
  const out = await run(d, ["status", "--json", ...ids.map(String)], cwd);
  return JSON.parse(out.stdout) as JobInfo[];
}

Deno.test("#SBATCH script: options, output patterns, SLURM_* variables, warnings, #SJQ wins", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "4"] });
  const dir = `${d.home}/work`;
  await Deno.mkdir(`${dir}/logs`, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/job.sh`,
    `#!/bin/bash
#SBATCH --job-name=align
#SBATCH -c 2 --ntasks=1
#SBATCH --mem=512
#SBATCH -o logs/%x-%j.out
#SBATCH -t 0:30
#SBATCH --qos=debug
#SBATCH --export=ALL,EXTRA=yes
#SJQ --mem 1G
echo "id=$SLURM_JOB_ID name=$SLURM_JOB_NAME cpus=$SLURM_CPUS_PER_TASK mem=$SLURM_MEM_PER_NODE"
echo "tasks=$SLURM_NTASKS submit=$SLURM_SUBMIT_DIR extra=$EXTRA sjq=$SJQ_JOB_ID"
echo to-stderr >&2
`,
  );
  const out = await run(d, ["submit", "--wait", "job.sh"], dir);
  const id = Number(out.stdout);
  assert.match(out.stderr, /warning: job\.sh:7: #SBATCH --qos=debug: no sjq equivalent/);
  const [job] = await jobs(d, dir, [id]);
  assert.deepEqual(
    [job!.name, job!.procs, job!.mem, job!.timeout, job!.state],
    ["align", 2, 1024 ** 3, 30, "S"],
  );
  assert.equal(job!.stdout, `${dir}/logs/align-${id}.out`);
  assert.equal(job!.stderr, job!.stdout, "without -e, stderr goes with stdout, as in sbatch");
  assert.equal(
    await Deno.readTextFile(`${dir}/logs/align-${id}.out`),
    `id=${id} name=align cpus=2 mem=1024\ntasks=1 submit=${dir} extra=yes sjq=${id}\nto-stderr\n`,
  );

  // The command line wins over both kinds of directive.
  const flag = Number(
    (await run(d, ["submit", "-n", "flagname", "-p", "1", "job.sh"], dir)).stdout,
  );
  await run(d, ["wait", String(flag)], dir);
  const [byFlag] = await jobs(d, dir, [flag]);
  assert.deepEqual([byFlag!.name, byFlag!.procs], ["flagname", 1]);
});

Deno.test("#SBATCH dependencies, hold and singleton under sjq", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "4"] });
  const dir = `${d.home}/work`;
  await Deno.mkdir(dir, { recursive: true });
  const failing = Number((await run(d, ["submit", "--wrap", "exit 3"], dir)).stdout);
  await run(d, ["wait", String(failing)], dir, 1);
  await Deno.writeTextFile(
    `${dir}/child.sh`,
    `#!/bin/sh\n#SBATCH --dependency=afterok:${failing}\n#SBATCH -J child\ntrue\n`,
  );
  await Deno.writeTextFile(
    `${dir}/rescue.sh`,
    `#!/bin/sh\n#SBATCH -d afternotok:${failing} -H\ntrue\n`,
  );
  const child = Number((await run(d, ["submit", "child.sh"], dir)).stdout);
  const rescue = Number((await run(d, ["submit", "rescue.sh"], dir)).stdout);
  let [c, r] = await jobs(d, dir, [child, rescue]);
  assert.equal(c!.state, "A", "afterok on a failed job aborts");
  assert.equal(r!.state, "U", "-H holds");
  await run(d, ["release", String(rescue)], dir);
  await run(d, ["wait", String(rescue)], dir);
  [r] = await jobs(d, dir, [rescue]);
  assert.equal(r!.state, "S");

  // singleton: waits for the active job of the same name.
  await Deno.writeTextFile(`${dir}/one.sh`, "#!/bin/sh\n#SBATCH -J one -d singleton\ntrue\n");
  const first = Number((await run(d, ["submit", "--hold", "one.sh"], dir)).stdout);
  const second = Number((await run(d, ["submit", "one.sh"], dir)).stdout);
  [c] = await jobs(d, dir, [second]);
  assert.deepEqual([c!.state, c!.depends], ["H", [first]]);
  await run(d, ["release", String(first)], dir);
  await run(d, ["wait", String(second)], dir);
});

Deno.test("#SBATCH: a bad directive is a usage error naming the line, and submits nothing", async () => {
  await using d = await TestDaemon.start();
  const dir = d.home;
  await Deno.writeTextFile(`${dir}/bad.sh`, "#!/bin/sh\n#SBATCH -c 2\n#SBATCH --time=soon\ntrue\n");
  const out = await run(d, ["submit", "bad.sh"], dir, 2);
  assert.match(out.stderr, /^error: bad\.sh:3: bad #SBATCH --time "soon"/);
  assert.equal((await jobs(d, dir, [])).length, 0);
});
