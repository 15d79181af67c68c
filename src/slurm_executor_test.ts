import assert from "node:assert/strict";
import type { JobRecord } from "./job.ts";
import { wrapper } from "./slurm_executor.ts";

/**
 * Runs the batch script of a job as Slurm would (with Slurm's variables in
 * its environment), the job's script printing what it sees; returns that.
 */
async function runWrapper(
  job: Partial<JobRecord>,
  env: Record<string, string>,
  slurmEnv: Record<string, string>,
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "sjq-wrapper-" });
  try {
    const record = {
      id: 1,
      name: "job",
      cwd: dir,
      ...job,
    } as JobRecord;
    await Deno.writeTextFile(
      `${dir}/1.sh`,
      `#!/bin/sh\nprintf '%s|%s|%s\\n' "\${CUDA_VISIBLE_DEVICES-unset}" "\${SJQ_GPUS-unset}" "$FOO" > ${dir}/seen\n`,
      { mode: 0o755 },
    );
    const script = wrapper({ job: record, script: new Uint8Array(), env }, dir);
    const run = await new Deno.Command("/bin/sh", {
      args: ["-c", script],
      env: { PATH: "/usr/bin:/bin", ...slurmEnv },
      clearEnv: true,
    }).output();
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    assert.equal((await Deno.readTextFile(`${dir}/1.exit`)).trim(), "exit 0");
    return (await Deno.readTextFile(`${dir}/seen`)).trim();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("Slurm wrapper: a GPU job sees the devices Slurm gave it, not the ones sjq counted", async () => {
  const env = { CUDA_VISIBLE_DEVICES: "0,1", SJQ_GPUS: "0,1", FOO: "bar" };
  const slurm = { CUDA_VISIBLE_DEVICES: "5,7", SLURM_JOB_ID: "99" };
  assert.equal(await runWrapper({ gpus: 2 }, env, slurm), "5,7|5,7|bar");
});

Deno.test("Slurm wrapper: a job without GPUs keeps its own environment, none of Slurm's GPU variables", async () => {
  const slurm = { CUDA_VISIBLE_DEVICES: "5,7", SLURM_JOB_ID: "99" };
  assert.equal(await runWrapper({}, { FOO: "bar" }, slurm), "unset|unset|bar");
});
