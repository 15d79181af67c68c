/**
 * `sjq kill`, `sjq release` and `sjq hold`: one request per job id, ranges allowed.
 *
 * @module
 */

import { isFinal, type State, STATE_NAMES } from "../job.ts";
import { connectDaemon } from "./autostart.ts";
import {
  AUTOSTART_FLAGS,
  AUTOSTART_FLAGS_HELP,
  type Command,
  defineCommand,
  parseIdList,
  requestPerJob,
} from "./common.ts";

function controlCommand(name: string, verb: string, summary: string, what: string): Command {
  const help = `sjq ${name}: ${summary}

Usage: sjq ${name} ID|FROM-TO... [options]

${what}
Ids may be listed and given as ranges; exits 1 if the daemon refused any.
An id it changes nothing for (unknown, ended, or not in a state this acts
on) is reported on stderr; the exit code stays 0.
An array's id (A) means all of its tasks, A_T one task, A_1-5 several.

Options:
${AUTOSTART_FLAGS_HELP}

Examples:
  sjq ${name} 12
  sjq ${name} 3 7-9 12
  sjq ${name} 20_4 20_7-9
`;
  return defineCommand({ name, summary, help, options: AUTOSTART_FLAGS }, async (values, args) => {
    const ids = parseIdList(args);
    using client = await connectDaemon(values);
    const refused = await requestPerJob(client, ids, (id) => `${verb} ${id}`, (id, text) => {
      const note = text === "" ? null : noopNote(name, id, text);
      if (note !== null) console.error(`sjq: ${note}`);
    });
    return refused > 0 ? 1 : 0;
  });
}

/**
 * Why a KILL, RELEASE or HOLD changed nothing, from the daemon's `OK unknown`
 * or `OK noop <state>` (an original daemon answers a bare `OK`).
 */
export function noopNote(verb: string, id: string, text: string): string | null {
  if (text === "unknown") return `job ${id}: no such job, nothing to ${verb}`;
  const state = /^noop ([A-Z])$/.exec(text)?.[1] as State | undefined;
  if (state === undefined) return null;
  const word = STATE_NAMES[state];
  if (isFinal(state)) return `job ${id} has already ended (${word}): nothing to ${verb}`;
  if (verb === "hold") {
    return state === "U"
      ? `job ${id} is held already`
      : `job ${id} is ${word}: only queued or waiting jobs can be held`;
  }
  if (verb === "release") return `job ${id} is ${word}, not held: nothing to release`;
  return `job ${id} is ${word}: nothing to ${verb}`;
}

/** `sjq kill`. */
export const killCommand = controlCommand(
  "kill",
  "KILL",
  "kill jobs",
  `A running job gets SIGTERM on its whole process group, then SIGKILL after
sjq.killgrace seconds; a queued or held job ends at once. Either ends in K, and
jobs that depend on it are aborted (A). An unknown or finished id changes
nothing and says so on stderr (the exit code stays 0).`,
);

/** `sjq release`. */
export const releaseCommand = controlCommand(
  "release",
  "RELEASE",
  "release user-held jobs",
  `A job submitted with --hold (or held with 'sjq hold') waits in U until
released; then it queues (Q), or waits for its dependencies (H).`,
);

/** `sjq hold`. */
export const holdCommand = controlCommand(
  "hold",
  "HOLD",
  "put queued or waiting jobs into user-hold",
  `A queued (Q) or holding (H) job moves to user-hold (U) and will not start
until 'sjq release'. Running and finished jobs are not affected.`,
);
