/**
 * The job supervisor: a small POSIX shell program that runs one job and
 * records how it ended in a "done" file, written and fsynced before it
 * exits. It needs nothing from the daemon, so a job goes on, and its end is
 * known, when the daemon crashes or is restarted.
 *
 * The daemon starts it with `setsid`, so the supervisor leads a session and
 * process group of its own, which the job shares and nothing else does: the
 * group id is the supervisor's pid. Signals to the group reach the job with
 * their default action; the supervisor only notes them (a trap), so that it
 * survives a SIGTERM to record the job's end. After SIGKILL the daemon knows
 * the outcome itself (it sent the kill).
 *
 * The daemon spawns it as soon as the job's start is committed, and writes
 * `go` to its stdin once that commit is on disk: the supervisor prepares in
 * the meantime, but never runs the script without the go, so a job runs only
 * when its R is durable and a restart can tell that it never started.
 *
 * Layout in the spool directory:
 * - `jobs/<id>`: the job's script (mode 0700), written by the daemon
 * - `jobs/<id>.started`: made just before the script is run
 * - `done/<id>`: one line, `exit <code>` or `error <reason>`
 * - `jobs/<id>.env`, `jobs/<id>.error`: for a job of another user (below)
 *
 * A job of another user than the daemon's (a root daemon serving several
 * users) gets the environment file and the command line that drops to that
 * user as further arguments: the supervisor stays root (it alone writes the
 * done file) and runs the user stage of src/as_user.ts, which enters the
 * working directory, opens the output files and runs the script as the user.
 *
 * @module
 */

/**
 * Supervisor arguments: script, done file, working dir, stdout path, stderr
 * path, daemon pid, then `-` for a job of the daemon's own user or the
 * environment file of a job of another user, then the script's arguments
 * (own user) or the drop command line with the user stage's arguments
 * (another user, src/as_user.ts).
 */
export const SUPERVISOR_SH = `# sjq job supervisor (src/supervisor.ts). Arguments:
#   $1 script  $2 done file  $3 working directory  $4 stdout file  $5 stderr file
#   $6 pid of the daemon that started it
#   $7 - (the script's arguments follow), or the environment file of a job of
#      another user (the command that drops to that user follows: src/as_user.ts)
script=$1 done=$2 daemon=$6 stop=
record() { # retried until written: a full disk must not lose how the job ended
  until printf '%s\\n' "$1" >"$done"; do [ -d "\${done%/*}" ] || exit 0; sleep 1; done
  # The daemon that started the job commits its end itself; without it, fsync.
  # A done file gone meanwhile was settled by a new daemon: nothing left to do.
  kill -0 "$daemon" 2>/dev/null ||
    until sync "$done" "\${done%/*}"; do [ -e "$done" ] || exit 0; sleep 1; done
  exit 0
}
trap 'stop=1' TERM INT HUP
exec 2>/dev/null
if [ "$7" != - ]; then
  env=$7; shift 7
  read -r go && [ "$go" = go ] || exit 0
  [ -z "$stop" ] || record "exit 143"
  : >"$script.started"
  "$@" <"$env" 5<"$script" 9>"$script.error"
  rc=$?
  [ -s "$script.error" ] && record "error $(head -c 500 "$script.error" | tr '\n' ' ')"
  record "exit $rc"
fi
cd -- "$3" || record "error cannot enter working directory $3"
command exec 3>"$4" || record "error cannot open stdout file $4"
if [ "$5" = "$4" ]; then exec 4>&3; else command exec 4>"$5" || record "error cannot open stderr file $5"; fi
# The go comes once the job's R is on disk; without it (the daemon died), never start.
read -r go && [ "$go" = go ] || exit 0
[ -z "$stop" ] || record "exit 143"
: >"$script.started"
shift 7
"$script" "$@" </dev/null >&3 2>&4 3>&- 4>&-
record "exit $?"
`;

/** How a supervised job ended, as its done file says. */
export type Outcome = { kind: "exit"; code: number } | { kind: "error"; reason: string };

/** Parses a done file's text; null when it is not one (yet: it is written in place). */
export function parseOutcome(text: string): Outcome | null {
  const m = /^(exit (\d+)|error (.*))\n$/.exec(text);
  if (m === null) return null;
  return m[2] !== undefined
    ? { kind: "exit", code: Number(m[2]) }
    : { kind: "error", reason: m[3]! };
}
