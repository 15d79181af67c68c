/**
 * What a job runs with: the account of the user it runs as and its
 * environment (PROTOCOL.md *Jobs*). Shared by every executor.
 *
 * @module
 */

import type { JobRecord } from "./job.ts";
import { slurmEnvironment } from "./slurm_env.ts";
import { arrayEnvironment } from "./arrays.ts";
import { gpuEnvironment } from "./gpus.ts";

/** A user's account details, for a job's environment. */
export interface Account {
  name: string;
  home: string;
  shell: string;
}

/** The environment a job runs with (PROTOCOL.md, *Jobs*). */
export function jobEnvironment(job: JobRecord, account: Account): Record<string, string> {
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: account.home,
    USER: account.name,
    LOGNAME: account.name,
    SHELL: account.shell,
    ...job.env,
    ...slurmEnvironment(job, account.name, Deno.hostname()),
    SJQ_JOB_ID: String(job.id),
    SJQ_JOB_NAME: job.name,
    SJQ_PROCS: String(job.procs),
    SJQ_MEM: String(job.mem),
    JOB_ID: String(job.id),
    ...arrayEnvironment(job),
    ...gpuEnvironment(job),
  };
}

const accounts = new Map<number, Account>();

/**
 * The account of `uid` from /etc/passwd (read once per uid); for the
 * daemon's own user, HOME and USER from its environment win (they are what
 * its user expects).
 */
export function accountOf(uid: number): Account {
  const known = accounts.get(uid);
  if (known !== undefined) return known;
  let account: Account = { name: String(uid), home: "/", shell: "/bin/sh" };
  try {
    for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
      const f = line.split(":");
      if (f.length >= 7 && Number(f[2]) === uid && f[2] !== "") {
        account = { name: f[0]!, home: f[5]!, shell: f[6]! || "/bin/sh" };
        break;
      }
    }
  } catch { /* no passwd: keep the fallback */ }
  if (uid === Deno.uid()) {
    account.home = Deno.env.get("HOME") ?? account.home;
    account.name = Deno.env.get("USER") ?? account.name;
  }
  accounts.set(uid, account);
  return account;
}
