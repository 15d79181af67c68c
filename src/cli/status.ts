/**
 * `sjq status`: the job table, for eyes and for scripts.
 *
 * @module
 */

import { CLIENT_FLAGS, CLIENT_FLAGS_HELP, type Command, connect, out, parseFlags, parseIdList } from "./common.ts";
import type { JobInfo } from "../info.ts";

const HELP = `sjq status: show jobs

Usage: sjq status [ID|FROM-TO...] [--raw | --json] [--socket PATH]

Options:
  --raw           print the protocol's STATUS payload (id, name, state, deps; tab-separated)
  --json          print every field of every job as one JSON array
${CLIENT_FLAGS_HELP}
`;

/** `sjq status`. */
export const statusCommand: Command = {
  name: "status",
  summary: "show jobs",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...CLIENT_FLAGS, raw: { type: "boolean" }, json: { type: "boolean" } });
    if (values.help) return out(HELP), 0;
    const ids = positionals.length > 0 ? parseIdList(positionals) : null;
    using client = await connect(values);
    if (values.raw) {
      for (const id of ids ?? [null]) {
        const reply = await client.request(id === null ? "STATUS" : `STATUS ${id}`, true);
        if (!reply.ok) throw new Error(reply.text);
        out(reply.payload!);
      }
      return 0;
    }
    const jobs: JobInfo[] = [];
    for (const id of ids ?? [null]) {
      const reply = await client.request(id === null ? "INFO" : `INFO ${id}`, true);
      if (!reply.ok) throw new Error(reply.text);
      jobs.push(...JSON.parse(new TextDecoder().decode(reply.payload)) as JobInfo[]);
    }
    if (values.json) {
      out(`${JSON.stringify(jobs, null, 2)}\n`);
      return 0;
    }
    for (const j of jobs) out(`${j.id}\t${j.name}\t${j.state_name}\t${j.depends.join(":")}\n`);
    return 0;
  },
};
