/**
 * `sjq clean`: forgets ended jobs.
 *
 * @module
 */

import { parseDuration } from "../duration.ts";
import { isFinal, STATE_NAMES } from "../job.ts";
import {
  CLIENT_FLAGS,
  CLIENT_FLAGS_HELP,
  connect,
  flagsOnlyCommand,
  out,
  requestOk,
  UsageError,
} from "./common.ts";
import { parseStates } from "./states.ts";

const HELP = `sjq clean: forget ended jobs

Usage: sjq clean [--older-than DURATION] [--state S,F,...] [--socket PATH]

Removes ended jobs (and their stored scripts) from the daemon's database; their
ids are never given out again. Output files are yours and are kept. Prints
how many jobs were removed on stdout (and a sentence saying so on stderr). The daemon also does this by itself for jobs
that ended more than sjq.keepdone ago (default 30d).

Options:
  --older-than DURATION  only jobs that ended at least this long ago: 90s, 12h, 7d (default 0)
  --state LIST           only jobs in these end states, letters or words as in
                         'sjq status --state': F,A or failed,aborted (default all)
${CLIENT_FLAGS_HELP}

Examples:
  sjq clean --older-than 7d
  sjq clean --state S
`;

const OPTIONS = {
  ...CLIENT_FLAGS,
  "older-than": { type: "string" },
  state: { type: "string" },
} as const;

/** `sjq clean`. */
export const cleanCommand = flagsOnlyCommand({
  name: "clean",
  summary: "forget ended jobs",
  help: HELP,
  options: OPTIONS,
}, async (values) => {
  let seconds = 0;
  try {
    if (values["older-than"] !== undefined) seconds = parseDuration(values["older-than"]);
  } catch (e) {
    throw new UsageError(`--older-than: ${(e as Error).message}`);
  }
  const states = values.state === undefined ? "S,F,A,K,E" : finalStates(values.state);
  using client = await connect(values);
  const reply = await requestOk(client, `CLEAN ${seconds} ${states}`);
  out(`${reply.text}\n`);
  const n = Number(reply.text);
  console.error(`sjq: forgot ${n} ended job${n === 1 ? "" : "s"}`);
  return 0;
});

/** `--state` as CLEAN takes it (letters of end states); the same words as `status --state`. */
function finalStates(text: string): string {
  const states = [...parseStates(text)];
  const active = states.find((s) => !isFinal(s));
  if (active !== undefined) {
    throw new UsageError(
      `bad state "${STATE_NAMES[active]}": clean forgets ended jobs only`,
      "end states are S,F,A,K,E or success, failed, aborted, killed, error",
    );
  }
  return states.join(",");
}
