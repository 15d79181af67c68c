/**
 * `sjq show ID`: everything about one job, for people: every field, why it
 * waits or why it ended as it did, its output files, the first lines of its
 * script, and whatever else the daemon reports about it (accounting).
 *
 * @module
 */

import { formatDuration } from "../duration.ts";
import type { JobInfo } from "../info.ts";
import { formatSize } from "../size.ts";
import { memoryWarning } from "../job_usage.ts";
import { connectDaemon } from "./autostart.ts";
import {
  AUTOSTART_FLAGS,
  AUTOSTART_FLAGS_HELP,
  defineCommand,
  type Flags,
  oneJobId,
  out,
  UsageError,
} from "./common.ts";
import { fetchJobs, reasonContext } from "./job_query.ts";
import { jobReason } from "./reasons.ts";

const HELP = `sjq show: everything about one job

Usage: sjq show ID [--lines N] [options]

Prints every field of the job, one per line: its state and why (the
dependency it waits for, the CPUs, memory or GPUs it lacks, the hold, or why it
failed, was aborted or killed), its size, dependencies, directory, output
files, times, exit code or signal, what it used once it ended (CPU time in
user and system mode, the peak memory of all its processes together, wall
time; a warning when the peak exceeded its declared memory), the first
lines of its script. 'sjq status --json ID' has the same fields for
scripts; docs/accounting.md says how they are measured.

Options:
  -n, --lines N   script lines to show (default 10; 0 for none)
${AUTOSTART_FLAGS_HELP}

Examples:
  sjq show 12
  sjq show "$id" --lines 40
`;

const OPTIONS = {
  ...AUTOSTART_FLAGS,
  lines: { type: "string", short: "n" },
} as const satisfies Flags;

/** Fields printed in their own way, in this order; any other field follows as it comes. */
const KNOWN = new Set([
  "id",
  "name",
  "state",
  "state_name",
  "reason",
  "procs",
  "mem",
  "depends",
  "dependencies",
  "cwd",
  "stdout",
  "stderr",
  "timeout",
  "submitted",
  "started",
  "ended",
  "exit_code",
  "pid",
  "args",
  "gpus",
  "gpu_ids",
  "queue",
  "usage",
]);

/** `sjq show`. */
export const showCommand = defineCommand({
  name: "show",
  summary: "everything about one job: fields, reason, script, output files",
  help: HELP,
  options: OPTIONS,
}, async (values, positionals) => {
  const id = oneJobId(positionals);
  const lines = values.lines === undefined ? 10 : Number(values.lines);
  if (!Number.isSafeInteger(lines) || lines < 0) {
    throw new UsageError(`bad --lines "${values.lines}": expected a whole number`);
  }
  using client = await connectDaemon(values);
  const [job] = await fetchJobs(client, [id]);
  if (job === undefined) throw new Error(`unknown job ${id}`);
  const context = await reasonContext(client, [job], false);
  const script = lines === 0 ? null : await client.request(`SCRIPT ${id}`, true).catch(() => null);
  out(
    render(
      job,
      jobReason(job, context),
      context.jobs,
      script?.ok ? script.payload! : null,
      lines,
    ),
  );
  return 0;
});

function render(
  job: JobInfo,
  reason: string | null,
  jobs: ReadonlyMap<number, JobInfo>,
  script: Uint8Array | null,
  lines: number,
): string {
  const rows: [string, string][] = [];
  const add = (label: string, value: string | null | undefined) => {
    if (value !== null && value !== undefined && value !== "") rows.push([label, value]);
  };
  const time = (iso: string | null) => iso === null ? null : localTime(Date.parse(iso));
  add("state", `${job.state_name} (${job.state})`);
  add("reason", reason ?? job.reason);
  add("procs", String(job.procs));
  add("mem", formatSize(job.mem));
  if (job.gpus) {
    const ids = job.gpu_ids ?? [];
    add("gpus", `${job.gpus}${ids.length > 0 ? ` (devices ${ids.join(",")})` : ""}`);
  }
  add("queue", job.queue);
  add(
    "depends",
    job.dependencies.map((d) => {
      const dep = jobs.get(d.id);
      return `${d.kind === "afterok" ? "" : `${d.kind.slice(5)}:`}${d.id}${
        dep ? ` (${dep.state_name})` : ""
      }`;
    }).join(", "),
  );
  add("cwd", job.cwd);
  add("stdout", job.stdout);
  add("stderr", job.stderr);
  add("args", job.args?.length ? job.args.map((a) => JSON.stringify(a)).join(" ") : null);
  add("timeout", job.timeout === null ? null : formatDuration(job.timeout));
  add("submitted", time(job.submitted));
  add("started", time(job.started));
  add("ended", time(job.ended));
  if (job.started !== null) {
    const end = job.ended === null ? Date.now() : Date.parse(job.ended);
    add("elapsed", formatDuration(Math.max(0, end - Date.parse(job.started)) / 1000));
  }
  add("exit code", job.exit_code === null ? null : String(job.exit_code));
  const usage = job.usage;
  if (usage !== undefined) {
    add("signal", usage.signal === null ? null : String(usage.signal));
    if (usage.cpu_user !== null && usage.cpu_system !== null) {
      add("cpu", `${seconds(usage.cpu_user)} user, ${seconds(usage.cpu_system)} system`);
    }
    add("peak mem", usage.max_rss === null ? null : formatSize(usage.max_rss));
    add("wall", usage.wall === null ? null : seconds(usage.wall));
    add("warning", memoryWarning(job.mem, usage.max_rss));
  }
  add("pid", job.pid === null ? null : String(job.pid));
  for (const [key, value] of Object.entries(job)) {
    if (KNOWN.has(key) || value === null || value === undefined) continue;
    add(key.replaceAll("_", " "), typeof value === "string" ? value : JSON.stringify(value));
  }
  const width = Math.max(...rows.map(([l]) => l.length));
  let text = `job ${job.id}: ${job.name}\n`;
  text += rows.map(([l, v]) => `  ${l.padEnd(width)}  ${v}\n`).join("");
  if (script !== null) {
    const all = new TextDecoder().decode(script).replace(/\n$/, "").split("\n");
    text += `  script${all.length > lines ? ` (first ${lines} of ${all.length} lines)` : ""}:\n`;
    text += all.slice(0, lines).map((l) => `    ${l}\n`).join("");
  }
  return text;
}

/** Seconds with millisecond precision: `1.234 s`. */
function seconds(s: number): string {
  return `${s.toFixed(3)} s`;
}

/** Local time `YYYY-MM-DD HH:MM:SS`. */
function localTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${
    two(d.getMinutes())
  }:${two(d.getSeconds())}`;
}
