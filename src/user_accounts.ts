/**
 * The machine's user accounts as /etc/passwd and /etc/group list them: who
 * gets a socket of a daemon that serves several users, and the groups a
 * job of theirs runs with.
 *
 * @module
 */

/** One account of /etc/passwd, with the groups that list it in /etc/group. */
export interface UserAccount {
  name: string;
  uid: number;
  /** Primary group. */
  gid: number;
  home: string;
  shell: string;
  /** Primary and supplementary group ids. */
  groups: number[];
}

/**
 * Parses passwd and group text into accounts, by uid (the first entry of a
 * uid wins, as `getpwuid` does).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAccounts } from "./user_accounts.ts";
 *
 * const users = parseAccounts(
 *   "root:x:0:0:root:/root:/bin/bash\nann:x:1000:1000::/home/ann:/bin/sh\n",
 *   "ann:x:1000:\nlab:x:2000:bob,ann\n",
 * );
 * assert.deepEqual(users.get(1000)?.groups, [1000, 2000]);
 * ```
 */
export function parseAccounts(passwd: string, group: string): Map<number, UserAccount> {
  const members = new Map<string, number[]>();
  for (const line of group.split("\n")) {
    const f = line.split(":");
    if (f.length < 4 || !/^\d+$/.test(f[2]!)) continue;
    for (const name of f[3]!.split(",")) {
      if (name === "") continue;
      const list = members.get(name) ?? [];
      list.push(Number(f[2]));
      members.set(name, list);
    }
  }
  const users = new Map<number, UserAccount>();
  for (const line of passwd.split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || !/^\d+$/.test(f[2]!) || !/^\d+$/.test(f[3]!)) continue;
    const uid = Number(f[2]);
    if (users.has(uid) || f[0] === "" || f[0]!.startsWith("+") || f[0]!.startsWith("-")) continue;
    const gid = Number(f[3]);
    const groups = [gid, ...(members.get(f[0]!) ?? []).filter((g) => g !== gid)];
    users.set(uid, { name: f[0]!, uid, gid, home: f[5]!, shell: f[6]! || "/bin/sh", groups });
  }
  return users;
}

/** Reads the accounts of this machine now. */
export function readAccounts(): Map<number, UserAccount> {
  const read = (path: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return "";
    }
  };
  return parseAccounts(read("/etc/passwd"), read("/etc/group"));
}

let cache: { stamp: string; accounts: Map<number, UserAccount> } | null = null;

/** The accounts as {@linkcode readAccounts} gives them, read again only when the files change. */
export function currentAccounts(): ReadonlyMap<number, UserAccount> {
  const stamp = ["/etc/passwd", "/etc/group"].map(_stamp).join(" ");
  if (cache?.stamp !== stamp) cache = { stamp, accounts: readAccounts() };
  return cache.accounts;
}

function _stamp(path: string): string {
  try {
    const st = Deno.statSync(path);
    return `${st.mtime?.getTime()}:${st.ino}:${st.size}`;
  } catch {
    return "none";
  }
}
