/**
 * `sjq log`: prints a job's output file, and with `--follow` goes on
 * printing what the job writes until it ends.
 *
 * @module
 */

import type { Client } from "../client.ts";
import type { JobInfo } from "../info.ts";
import { isFinal, type State, STATE_NAMES } from "../job.ts";
import { connectDaemon } from "./autostart.ts";
import {
  AUTOSTART_FLAGS,
  AUTOSTART_FLAGS_HELP,
  defineCommand,
  oneJobId,
  out,
  requestOk,
} from "./common.ts";
import { lazyImport } from "./lazy.ts";

const HELP = `sjq log: print a job's output

Usage: sjq log ID [--stderr] [--follow] [options]

Prints the job's stdout file (or its stderr file with --stderr). With
--follow, keeps printing what the job writes until it ends, like tail -f;
a job that has not started yet is waited for.

Options:
  -e, --stderr    the stderr file instead of stdout
  -f, --follow    print output as it is written, until the job ends
${AUTOSTART_FLAGS_HELP}

Examples:
  sjq log 12
  sjq log 12 --stderr | tail
  sjq log -f "$(sjq submit --wrap 'make all')"
`;

const OPTIONS = {
  ...AUTOSTART_FLAGS,
  stderr: { type: "boolean", short: "e" },
  follow: { type: "boolean", short: "f" },
} as const;

/** How often a followed output file is looked at for new bytes. */
const FOLLOW_INTERVAL_MS = 100;

/** `sjq log`. */
export const logCommand = defineCommand({
  name: "log",
  summary: "print a job's output (--follow while it runs)",
  help: HELP,
  options: OPTIONS,
}, async (values, positionals) => {
  const id = oneJobId(positionals);
  using client = await connectDaemon(values);
  const reply = await requestOk(client, `INFO ${id}`, true);
  const job = (JSON.parse(new TextDecoder().decode(reply.payload)) as JobInfo[])[0];
  if (job === undefined) throw new Error(`unknown job ${id}`);
  const path = values.stderr ? job.stderr : job.stdout;
  if (values.follow && !isFinal(job.state as State)) {
    if (job.started === null) {
      const { reasonContext } = await lazyImport<typeof import("./job_query.ts")>(
        "./job_query.ts",
        import.meta.url,
      );
      const { jobReason } = await lazyImport<typeof import("./reasons.ts")>(
        "./reasons.ts",
        import.meta.url,
      );
      const reason = jobReason(job, await reasonContext(client, [job], false));
      console.error(
        `sjq: job ${id} is ${job.state_name}${reason ? ` (${reason})` : ""}; ` +
          "its output follows once it starts",
      );
    }
    const end = await follow(client, id, path);
    const m = /^([SFAKE]) (-?\d+|-)$/.exec(end);
    const code = m?.[2] === undefined || m[2] === "-" || m[1] === "S" ? "" : ` (exit code ${m[2]})`;
    console.error(`sjq: job ${id} ended: ${m ? STATE_NAMES[m[1] as State] : end}${code}`);
    return 0;
  }
  using file = await openOutput(path);
  if (file !== null) return await copy(file), 0;
  if (job.started === null) {
    console.error(`job ${id} has not started: no output yet`);
    return 0;
  }
  throw new Error(`job ${id}: no output file ${path}`);
});

/** Prints the output file as it grows until job `id` has ended; returns WAIT's answer (`F 3`). */
async function follow(client: Client, id: string, path: string): Promise<string> {
  let ended = false;
  const waiting = client.request(`WAIT ${id}`).finally(() => ended = true);
  waiting.catch(() => {}); // handled below, whenever it fails
  let file: Deno.FsFile | null = null;
  try {
    for (;;) {
      // Read once more after the end: the last bytes may have come with it.
      const last = ended;
      file ??= await openOutput(path);
      if (file !== null) await copy(file);
      if (last) break;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([waiting, new Promise((r) => timer = setTimeout(r, FOLLOW_INTERVAL_MS))]);
      clearTimeout(timer);
    }
    const reply = await waiting;
    if (!reply.ok) throw new Error(reply.text);
    return reply.text;
  } finally {
    file?.close();
  }
}

/** Opens an output file, or null when it does not exist (yet). */
async function openOutput(path: string): Promise<Deno.FsFile | null> {
  try {
    return await Deno.open(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Copies what can be read from `file` now to stdout. */
async function copy(file: Deno.FsFile): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  for (let n = await file.read(buf); n !== null; n = await file.read(buf)) out(buf.subarray(0, n));
}
