/**
 * The `SLURM_*` variables a script written for Slurm reads, for a job that
 * runs on this machine (the local executor): one task on one node with all
 * the job's CPUs. Jobs run by the Slurm backend get Slurm's own instead.
 *
 * @module
 */

import type { JobRecord } from "./job.ts";

/**
 * The Slurm batch environment of a locally run job.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { slurmEnvironment } from "./slurm_env.ts";
 *
 * const job = { id: 3, name: "a", procs: 2, mem: 2 ** 30, cwd: "/tmp", env: {}, uid: 0, gid: 0 };
 * const env = slurmEnvironment(job, "ann", "box");
 * assert.equal(env.SLURM_JOB_ID, "3");
 * assert.equal(env.SLURM_MEM_PER_NODE, "1024");
 * ```
 */
export function slurmEnvironment(
  job: Pick<JobRecord, "id" | "name" | "procs" | "mem" | "cwd" | "env" | "uid" | "gid">,
  user: string,
  host: string,
): Record<string, string> {
  const pwd = job.env.PWD;
  const id = String(job.id);
  const procs = String(job.procs);
  return {
    SLURM_JOB_ID: id,
    SLURM_JOBID: id,
    SLURM_JOB_NAME: job.name,
    SLURM_JOB_USER: user,
    SLURM_JOB_UID: String(job.uid),
    SLURM_JOB_GID: String(job.gid),
    SLURM_CPUS_PER_TASK: procs,
    SLURM_CPUS_ON_NODE: procs,
    SLURM_JOB_CPUS_PER_NODE: procs,
    SLURM_NTASKS: "1",
    SLURM_NPROCS: "1",
    SLURM_TASKS_PER_NODE: "1",
    SLURM_NNODES: "1",
    SLURM_JOB_NUM_NODES: "1",
    SLURM_MEM_PER_NODE: String(Math.ceil(job.mem / 2 ** 20)),
    SLURM_SUBMIT_DIR: pwd !== undefined && pwd.startsWith("/") ? pwd : job.cwd,
    SLURM_SUBMIT_HOST: host,
    SLURM_JOB_NODELIST: host,
    SLURM_NODELIST: host,
    SLURMD_NODENAME: host,
  };
}
