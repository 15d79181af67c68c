/**
 * Mail when a job ends (`sjq submit --mail ADDR`, MAIL; `sjq.mail` for
 * every job): a short message handed to the local `sendmail` program
 * (`sjq.sendmail`, else the first of {@linkcode SENDMAIL_PLACES} or
 * `sendmail` on PATH). It is sent after the end is durable; the daemon does
 * not wait for it, and its failure is only logged. Without a sendmail,
 * SUBMIT refuses MAIL.
 *
 * @module
 */

import { type JobRecord, STATE_NAMES } from "./job.ts";
import { isExecutable } from "./file_tests.ts";

/** What MAIL accepts: one address, no spaces, not starting with `-` (it is a sendmail argument). */
export const MAIL_ADDRESS = /^[^\s\-<>()",;][^\s<>()",;]*$/;

/** Where sendmail is looked for when `sjq.sendmail` is not set, before PATH. */
export const SENDMAIL_PLACES = ["/usr/sbin/sendmail", "/usr/lib/sendmail"] as const;

/**
 * The sendmail program to use: `configured` if it is an executable file,
 * else the first executable of {@linkcode SENDMAIL_PLACES} and `PATH`; null
 * when there is none.
 */
export function findSendmail(
  configured: string | null,
  path = Deno.env.get("PATH") ?? "",
): string | null {
  if (configured !== null) return isExecutable(configured) ? configured : null;
  const dirs = path.split(":").filter((d) => d.startsWith("/"));
  for (const place of [...SENDMAIL_PLACES, ...dirs.map((d) => `${d}/sendmail`)]) {
    if (isExecutable(place)) return place;
  }
  return null;
}

/**
 * The message about the end of `job`, headers included (RFC 5322, CRLF
 * lines): subject with the id, name, state and exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { endMail } from "./mail.ts";
 *
 * const job = { id: 7, name: "align", state: "F", exitCode: 3, reason: null, cwd: "/w", stdout: "/w/7.out", stderr: "/w/7.err", ended: 0 };
 * assert.match(endMail(job as never, "me@example.org"), /^Subject: sjq job 7 \(align\) failed: F, exit code 3\r$/m);
 * ```
 */
export function endMail(
  job: Pick<
    JobRecord,
    "id" | "name" | "state" | "exitCode" | "reason" | "cwd" | "stdout" | "stderr" | "ended"
  >,
  to: string,
): string {
  // A line break in a header would start a header of the user's making.
  // deno-lint-ignore no-control-regex
  const oneLine = (text: string) => text.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, " ");
  const code = job.exitCode === null ? "" : `, exit code ${job.exitCode}`;
  const lines = [
    `To: ${to}`,
    `Subject: sjq job ${job.id} (${oneLine(job.name)}) ${
      STATE_NAMES[job.state]
    }: ${job.state}${code}`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    `Job ${job.id} (${oneLine(job.name)}) ended in ${job.state} (${STATE_NAMES[job.state]})` +
    (job.ended === null ? "." : ` at ${new Date(job.ended).toISOString()}.`),
    `Exit code: ${job.exitCode ?? "-"}`,
    `Reason: ${oneLine(job.reason ?? "-")}`,
    `Directory: ${oneLine(job.cwd)}`,
    `Output: ${oneLine(job.stdout)}`,
    `Errors: ${oneLine(job.stderr)}`,
    "",
  ];
  return lines.join("\r\n");
}

/** Hands the mail about the end of `job` to `sendmail` for `to`; problems go to `log`. */
export function sendEndMail(
  sendmail: string,
  to: string,
  job: JobRecord,
  log: { error(message: string): void },
): void {
  try {
    const child = new Deno.Command(sendmail, {
      args: ["-i", "--", to],
      env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
      clearEnv: true,
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(endMail(job, to)))
      .then(() => writer.close())
      .catch((e) => log.error(`job ${job.id}: cannot write the mail to ${sendmail}: ${e}`));
    child.status.then((s) => {
      if (!s.success) log.error(`job ${job.id}: ${sendmail} exited ${s.code}`);
    });
  } catch (e) {
    log.error(`job ${job.id}: cannot run ${sendmail}: ${(e as Error).message}`);
  }
}
