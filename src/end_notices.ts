/**
 * What is done for people when a job ends: its NOTIFY command (or
 * `sjq.notify`) runs (src/notify.ts) and its MAIL address (or `sjq.mail`)
 * gets a mail (src/mail.ts). A job's own settings win over the daemon's;
 * the daemon's defaults are not applied to the tasks of an array, whose
 * head has them when the whole array ends.
 *
 * @module
 */

import type { JobRecord } from "./job.ts";
import { runNotify } from "./notify.ts";
import { findSendmail, sendEndMail } from "./mail.ts";

/** What a job's end needs, as stored (src/store.ts `noticesOf`). */
export interface StoredNotices {
  notify: string | null;
  mail: string | null;
  task: boolean;
}

/** The daemon's defaults (`sjq.notify`, `sjq.mail`) and the sendmail setting (`sjq.sendmail`). */
export interface NoticeDefaults {
  readonly notify: string | null;
  readonly mail: string | null;
  readonly sendmail: string | null;
}

/** The command and the address due for a job's end; null fields: nothing to do. */
export function noticesDue(
  stored: StoredNotices,
  defaults: NoticeDefaults,
): { notify: string | null; mail: string | null } {
  return {
    notify: stored.notify ?? (stored.task ? null : defaults.notify),
    mail: stored.mail ?? (stored.task ? null : defaults.mail),
  };
}

/** Runs the notify command and sends the mail of `due` for the end of `job`; problems go to `log`. */
export function sendNotices(
  due: { notify: string | null; mail: string | null },
  job: JobRecord,
  defaults: NoticeDefaults,
  home: string,
  log: { error(message: string): void },
): void {
  if (due.notify !== null) runNotify(due.notify, job, home, log);
  if (due.mail === null) return;
  const sendmail = findSendmail(defaults.sendmail);
  if (sendmail === null) log.error(`job ${job.id}: no sendmail to mail ${due.mail} with`);
  else sendEndMail(sendmail, due.mail, job, log);
}
