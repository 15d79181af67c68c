/**
 * Who may do what to which job in a daemon that serves several users
 * (docs/security.md). Pure: the caller's identity comes from the socket it
 * connected to (src/user_sockets.ts), the job's owner from the store.
 *
 * @module
 */

/** A user as the kernel vouched for them: the owner of the socket they connected through. */
export interface Caller {
  uid: number;
}

/** What a caller may ask the daemon to do to one job. */
export type JobAction = "kill" | "hold" | "release" | "restart" | "output";

/** What a caller may ask of the daemon as a whole. */
export type DaemonAction = "shutdown" | "reload" | "clean-all";

/** What the user a job runs as must satisfy, by configuration. */
export interface AccountPolicy {
  /** The lowest uid, other than root's, whose jobs may run (`sjq.user.minuid`). */
  minUid: number;
}

/** A refusal, with the message for the client (without the `ERROR ` prefix). */
export interface Denied {
  denied: string;
}

const ROOT = 0;

/**
 * Whether `caller` may act on a job owned by `owner`: users on their own
 * jobs only, root on every job.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mayActOnJob } from "./authorization.ts";
 *
 * assert.equal(mayActOnJob({ uid: 1000 }, "kill", 7, 1000), null);
 * assert.match(mayActOnJob({ uid: 1001 }, "kill", 7, 1000)!.denied, /another user/);
 * assert.equal(mayActOnJob({ uid: 0 }, "kill", 7, 1000), null);
 * ```
 */
export function mayActOnJob(
  caller: Caller,
  action: JobAction,
  id: number,
  owner: number,
): Denied | null {
  if (caller.uid === ROOT || caller.uid === owner) return null;
  return { denied: `Permission denied: job ${id} belongs to another user (cannot ${action} it)` };
}

/** Whether `caller` may stop the daemon or forget other users' jobs: root only. */
export function mayActOnDaemon(caller: Caller, action: DaemonAction): Denied | null {
  if (caller.uid === ROOT) return null;
  return {
    denied: action === "clean-all"
      ? "Permission denied: only root may clean other users' jobs"
      : `Permission denied: only root may ${action === "shutdown" ? "shut down" : "reload"} ` +
        "a daemon that serves several users",
  };
}

/** Whether `caller` may see a job's environment and script: its owner and root. */
export function maySeeJobDetails(caller: Caller, owner: number): boolean {
  return caller.uid === ROOT || caller.uid === owner;
}

/**
 * The user a SUBMIT runs as. A user submits as themselves: a UID line
 * naming anyone else is refused (it cannot prove anything; the socket
 * does). Root may name any user, and submits as root without one. The
 * user must exist (`uidExists`), and accounts below `minUid` other than
 * root's are refused. UID 0 jobs thus come only from root.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { submitUid } from "./authorization.ts";
 *
 * const policy = { minUid: 1000 };
 * const exists = (uid: number) => [0, 1000, 1001].includes(uid);
 * assert.equal(submitUid({ uid: 1000 }, undefined, policy, exists), 1000);
 * assert.equal(submitUid({ uid: 1000 }, 1000, policy, exists), 1000);
 * assert.ok(typeof submitUid({ uid: 1000 }, 1001, policy, exists) === "object");
 * assert.equal(submitUid({ uid: 0 }, 1001, policy, exists), 1001);
 * ```
 */
export function submitUid(
  caller: Caller,
  requested: number | undefined,
  policy: AccountPolicy,
  uidExists: (uid: number) => boolean,
): number | Denied {
  const uid = requested ?? caller.uid;
  if (uid !== caller.uid && caller.uid !== ROOT) {
    return {
      denied: `UID ${uid} is not yours: this socket belongs to uid ${caller.uid}, ` +
        "and jobs run as the user whose socket they came through",
    };
  }
  if (uid === ROOT) {
    return caller.uid === ROOT ? ROOT : { denied: "Only root may run jobs as root" };
  }
  if (!uidExists(uid)) return { denied: `UID ${uid} is not a user of this machine` };
  if (isSystemUid(uid, policy.minUid)) {
    return {
      denied: `UID ${uid} is a system account (below sjq.user.minuid = ${policy.minUid}, ` +
        "or from 60000 to 65535): its jobs are refused",
    };
  }
  return uid;
}

/**
 * Whether `uid` is a system account: below `minUid` (but root), or in the
 * range Debian and login.defs keep for system users and `nobody` (60000 to
 * 65535).
 */
export function isSystemUid(uid: number, minUid: number): boolean {
  return uid !== ROOT && (uid < minUid || (uid >= 60000 && uid <= 65535));
}

/**
 * The primary group a job of `uid` runs with: the GID line if it names one
 * of the user's groups (as a client after `newgrp` sends), else refused;
 * the user's primary group without one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { submitGid } from "./authorization.ts";
 *
 * const user = { uid: 1000, gid: 1000, groups: [1000, 27] };
 * assert.equal(submitGid(user, undefined), 1000);
 * assert.equal(submitGid(user, 27), 27);
 * assert.ok(typeof submitGid(user, 0) === "object");
 * ```
 */
export function submitGid(
  user: { uid: number; gid: number; groups: readonly number[] },
  requested: number | undefined,
): number | Denied {
  if (requested === undefined || requested === user.gid) return user.gid;
  if (user.groups.includes(requested)) return requested;
  return { denied: `GID ${requested} is not one of the groups of uid ${user.uid}` };
}
