/**
 * The user a submitted job runs as, from who sent it and the UID/GID lines
 * they sent. A daemon for one user runs every job as itself; a multi-user
 * daemon runs it as the caller (src/authorization.ts decides).
 *
 * @module
 */

import { type Caller, type Denied, submitGid, submitUid } from "./authorization.ts";
import type { UserAccount } from "./user_accounts.ts";

/** The user and group a job runs as, and the home its CWD defaults to. */
export interface Submitter {
  uid: number;
  gid: number;
  home: string;
}

/** What decides a job's user besides the request. */
export interface SubmitterContext {
  /** `sjq.multiuser`. */
  multiuser: boolean;
  /** `sjq.user.minuid`. */
  minUid: number;
  /** The daemon's own uid and gid, and its home (for the single-user case). */
  uid: number;
  gid: number;
  home: string;
  /** The machine's accounts, by uid. */
  accounts: ReadonlyMap<number, UserAccount>;
}

/**
 * The user a job runs as, or why it is refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { submitter } from "./submitter.ts";
 *
 * const ann = { name: "ann", uid: 1000, gid: 1000, home: "/home/ann", shell: "/bin/sh", groups: [1000] };
 * const ctx = { multiuser: true, minUid: 1000, uid: 0, gid: 0, home: "/root", accounts: new Map([[1000, ann]]) };
 * assert.deepEqual(submitter(ctx, { uid: 1000 }, {}), { uid: 1000, gid: 1000, home: "/home/ann" });
 * ```
 */
export function submitter(
  ctx: SubmitterContext,
  caller: Caller,
  requested: { uid?: number; gid?: number },
): Submitter | Denied {
  if (!ctx.multiuser) {
    const problems: string[] = [];
    for (
      const [key, value, own] of [["UID", requested.uid, ctx.uid], [
        "GID",
        requested.gid,
        ctx.gid,
      ]] as const
    ) {
      if (value !== undefined && value !== own) {
        problems.push(
          `${key} ${value} is not the daemon's (${own}): jobs run as the daemon's user`,
        );
      }
    }
    if (problems.length > 0) return { denied: problems.join("; ") };
    return { uid: ctx.uid, gid: ctx.gid, home: ctx.home };
  }
  const uid = submitUid(caller, requested.uid, { minUid: ctx.minUid }, (u) => ctx.accounts.has(u));
  if (typeof uid !== "number") return uid;
  const account = ctx.accounts.get(uid)!;
  const gid = submitGid(account, requested.gid);
  if (typeof gid !== "number") return gid;
  return { uid, gid, home: account.home };
}
