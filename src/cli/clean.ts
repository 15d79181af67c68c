/**
 * `sjq clean`: forgets ended jobs.
 *
 * @module
 */

import { parseDuration } from "../duration.ts";
import {
  CLIENT_FLAGS,
  CLIENT_FLAGS_HELP,
  type Command,
  connect,
  out,
  parseFlags,
  UsageError,
} from "./common.ts";

const HELP = `sjq clean: forget ended jobs

Usage: sjq clean [--older-than DURATION] [--state S,F,...] [--socket PATH]

Removes ended jobs (and their stored scripts) from the daemon's database; their
ids are never given out again. Output files are yours and are kept. Prints
how many jobs were removed. The daemon also does this by itself for jobs
that ended more than sjq.keepdone ago (default 30d).

Options:
  --older-than DURATION  only jobs that ended at least this long ago: 90s, 12h, 7d (default 0)
  --state LIST           only jobs in these end states (default S,F,A,K,E)
${CLIENT_FLAGS_HELP}

Examples:
  sjq clean --older-than 7d
  sjq clean --state S
`;

/** `sjq clean`. */
export const cleanCommand: Command = {
  name: "clean",
  summary: "forget ended jobs",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      ...CLIENT_FLAGS,
      "older-than": { type: "string" },
      state: { type: "string" },
    }, false);
    if (values.help) return out(HELP), 0;
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    let seconds = 0;
    try {
      if (values["older-than"] !== undefined) seconds = parseDuration(values["older-than"]);
    } catch (e) {
      throw new UsageError(`--older-than: ${(e as Error).message}`);
    }
    const states = values.state ?? "S,F,A,K,E";
    using client = await connect(values);
    const reply = await client.request(`CLEAN ${seconds} ${states}`);
    if (!reply.ok) throw new Error(reply.text);
    out(`${reply.text}\n`);
    return 0;
  },
};
