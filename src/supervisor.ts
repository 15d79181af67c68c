/**
 * The job supervisor: a small POSIX shell program that runs one job and
 * records how it ended in a "done" file, written and fsynced before it
 * exits. It needs nothing from the daemon, so a job goes on, and its end is
 * known, when the daemon crashes or is restarted.
 *
 * Layout in the spool directory:
 * - `jobs/<id>/script`: the job's script (mode 0700), written by the daemon
 * - `jobs/<id>/pgid`: the job's process group, written by the job's own
 *   process before it execs the script (so its presence means "started")
 * - `done/<id>`: one line, `exit <code>` or `error <reason>`
 *
 * @module
 */

/** Supervisor arguments: job dir, done file, working dir, stdout path, stderr path. */
export const SUPERVISOR_SH = `# sjq job supervisor (src/supervisor.ts). Arguments:
#   $1 job dir  $2 done file  $3 working directory  $4 stdout file  $5 stderr file
jobdir=$1 done=$2
record() { # retried until it is on disk: a full disk must not lose how the job ended
  until printf '%s\\n' "$1" >"$done.tmp" && sync "$done.tmp" && mv -f "$done.tmp" "$done" &&
    sync "\${done%/*}"; do sleep 1; done
  exit 0
}
exec 2>/dev/null
cd -- "$3" || record "error cannot enter working directory $3"
command exec 3>"$4" || record "error cannot open stdout file $4"
if [ "$5" = "$4" ]; then exec 4>&3; else command exec 4>"$5" || record "error cannot open stderr file $5"; fi
setsid sh -c 'echo $$ >"$0/pgid" && exec "$0/script"' "$jobdir" </dev/null >&3 2>&4 3>&- 4>&-
record "exit $?"
`;

/** How a supervised job ended, as its done file says. */
export type Outcome = { kind: "exit"; code: number } | { kind: "error"; reason: string };

/** Parses a done file's text; null when it is not one. */
export function parseOutcome(text: string): Outcome | null {
  const m = /^(exit (\d+)|error (.*))\n?$/.exec(text);
  if (m === null) return null;
  return m[2] !== undefined ? { kind: "exit", code: Number(m[2]) } : { kind: "error", reason: m[3]! };
}
