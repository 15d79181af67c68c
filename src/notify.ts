/**
 * Notifications (`sjq submit --notify CMD`, NOTIFY): a command run by
 * `/bin/sh` when a job ends, in the job's working directory, with what
 * ended in its environment (pueue's callback is the model). It runs after
 * the end is durable; the daemon does not wait for it, and its failure is
 * only logged.
 *
 * @module
 */

import { type JobRecord, STATE_NAMES } from "./job.ts";

/** The environment a notification command runs with. */
export function notifyEnvironment(
  job: Pick<JobRecord, "id" | "name" | "state" | "exitCode" | "reason">,
  home: string,
): Record<string, string> {
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    SJQ_JOB_ID: String(job.id),
    SJQ_JOB_NAME: job.name,
    SJQ_JOB_STATE: job.state,
    SJQ_JOB_STATE_NAME: STATE_NAMES[job.state],
    SJQ_JOB_EXIT_CODE: job.exitCode === null ? "" : String(job.exitCode),
    SJQ_JOB_REASON: job.reason ?? "",
  };
}

/** Runs `command` for the end of `job`; problems go to `log`. */
export function runNotify(
  command: string,
  job: JobRecord,
  home: string,
  log: { error(message: string): void },
): void {
  try {
    const child = new Deno.Command("/bin/sh", {
      args: ["-c", command],
      env: notifyEnvironment(job, home),
      clearEnv: true,
      cwd: job.cwd,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.status.then((s) => {
      if (!s.success) log.error(`job ${job.id}: notify command exited ${s.code}`);
    });
  } catch (e) {
    log.error(`job ${job.id}: cannot run notify command: ${(e as Error).message}`);
  }
}
