/**
 * Running a job as another user from a root process (docs/security.md).
 * Root does nothing with what the user chose: the working directory, the
 * output files, the script and the environment are all acted on by the
 * "user stage", a small shell program that runs after the privileges are
 * dropped, so the kernel checks every path as the user. Root keeps what
 * decides other users' jobs: it waits for the user stage and records how
 * it ended.
 *
 * The drop is `setpriv --reuid U --regid G --init-groups --` (util-linux):
 * uid, primary gid and the user's supplementary groups. setpriv and the
 * user stage start with a fixed environment (`SAFE_ENV`); the job's own
 * environment reaches only the job, through the user stage's stdin, as
 * shell assignments it applies just before it runs the script.
 *
 * How a root process (supervisor or shepherd) starts a job of another user:
 * - fd 0: the file {@linkcode envScript} wrote (root's, mode 0600), opened by root
 * - fd 5: the script (owned by the user, mode 0500), opened by root
 * - fd 9: an empty file (root's) where the user stage says why it could not start
 * - argv: {@linkcode userStageArgv}, then the working directory, stdout and stderr paths
 * Its exit status is the job's; a non-empty fd 9 file means the job never
 * started (state E) and says why.
 *
 * @module
 */

import { isExecutable } from "./file_tests.ts";

/** The environment setpriv and the user stage start with: nothing of the user's or the daemon's. */
export const SAFE_ENV: Readonly<Record<string, string>> = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
};

/**
 * The user stage. Arguments: working directory, stdout file, stderr file,
 * then the script's own arguments. Output files are created with mode 0600
 * (then the job's umask is the daemon's again). Its last step is the code
 * {@linkcode envScript} made, read from stdin: the job's environment, then
 * the exec of the script through /dev/fd/5, so the job needs no path into
 * root's spool (its `$0` is `/dev/fd/5`).
 */
export const USER_STAGE_SH = `cwd=$1 out=$2 err=$3; shift 3
fail() { printf '%s' "$1" >&9; exit 1; }
env=$(cat) || fail "cannot read the job's environment"
exec </dev/null
cd -- "$cwd" || fail "cannot enter working directory $cwd"
mask=$(umask); umask 077
command exec 3>"$out" || fail "cannot open stdout file $out"
if [ "$err" = "$out" ]; then exec 4>&3; else command exec 4>"$err" || fail "cannot open stderr file $err"; fi
umask "$mask"
exec 9>&-
eval "$env"
`;

/**
 * The command line that drops to `uid`/`gid` (with the user's
 * supplementary groups) and runs the user stage; the working directory,
 * stdout and stderr paths and the script's arguments follow it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { userStageArgv } from "./as_user.ts";
 *
 * const tools = { setpriv: "/usr/bin/setpriv", sh: "/bin/sh", env: "/usr/bin/env" };
 * const argv = userStageArgv(tools, 1000, 1000);
 * assert.deepEqual(argv.slice(0, 7), [
 *   "/usr/bin/setpriv", "--reuid", "1000", "--regid", "1000", "--init-groups", "--",
 * ]);
 * ```
 */
export function userStageArgv(tools: DropTools, uid: number, gid: number): string[] {
  return [
    tools.setpriv,
    "--reuid",
    String(uid),
    "--regid",
    String(gid),
    "--init-groups",
    "--",
    tools.sh,
    "-c",
    USER_STAGE_SH,
    "sh",
  ];
}

/** The programs the drop needs, by absolute path. */
export interface DropTools {
  setpriv: string;
  sh: string;
  env: string;
}

/** Finds setpriv and sh; null when setpriv is missing (jobs of other users cannot run). */
export function findDropTools(): DropTools | null {
  const setpriv = ["/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv"].find(isExecutable);
  const sh = ["/bin/sh", "/usr/bin/sh"].find(isExecutable);
  const env = ["/usr/bin/env", "/bin/env"].find(isExecutable);
  return setpriv && sh && env ? { setpriv, sh, env } : null;
}

/** A name the shell can assign; any other goes to the job through `env` (argv). */
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names some shells (bash as sh) hold read-only or use themselves: set through `env` too. */
const SHELL_OWN = new Set([
  "UID",
  "EUID",
  "PPID",
  "SHELLOPTS",
  "BASHOPTS",
  "BASH_VERSINFO",
  "BASH_ARGV",
  "BASH_ARGC",
  "IFS",
]);

/**
 * The user stage's last step as shell code: the job's environment as
 * `export NAME='value'` lines, then the exec of the script (with the
 * stage's remaining arguments). Names a shell cannot assign go through
 * `envProgram` (`env 'NAME=value' … /dev/fd/5`). Every value is
 * single-quoted, so nothing in it is interpreted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { envScript } from "./as_user.ts";
 *
 * assert.equal(
 *   envScript({ A: "it's", "f%%": "x" }, "/usr/bin/env"),
 *   "export A='it'\\''s'\n" +
 *     "exec '/usr/bin/env' 'f%%=x' /dev/fd/5 \"$@\" >&3 2>&4 3>&- 4>&-\n",
 * );
 * ```
 */
export function envScript(env: Readonly<Record<string, string>>, envProgram: string): string {
  let text = "";
  const odd: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (SHELL_NAME.test(name) && !SHELL_OWN.has(name)) text += `export ${name}=${quote(value)}\n`;
    else odd.push(quote(`${name}=${value}`));
  }
  const via = odd.length > 0 ? `${quote(envProgram)} ${odd.join(" ")} ` : "";
  return `${text}exec ${via}/dev/fd/5 "$@" >&3 2>&4 3>&- 4>&-\n`;
}

function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
