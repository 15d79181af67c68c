/**
 * `sjq acct`: what ended jobs used, summed per name, state, day or user
 * (Slurm's `sacct` is the model): runs, wall time, CPU time in user and
 * system mode, the largest peak memory. The figures come from INFO
 * (docs/accounting.md says how they are measured).
 *
 * @module
 */

import { parseDuration } from "../duration.ts";
import type { JobInfo, UsageInfo } from "../info.ts";
import { isFinal, type State, STATE_NAMES, STATES } from "../job.ts";
import { formatSize } from "../size.ts";
import { connectDaemon } from "./autostart.ts";
import {
  AUTOSTART_FLAGS,
  AUTOSTART_FLAGS_HELP,
  flagsOnlyCommand,
  out,
  UsageError,
} from "./common.ts";
import { fetchJobs } from "./job_query.ts";
import { parseStates } from "./states.ts";
import { elapsed, globPattern } from "./status.ts";
import { renderTable } from "./table.ts";

const HELP = `sjq acct: what ended jobs used, summed

Usage: sjq acct [--by name|state|day|user] [--since WHEN] [--state STATES]
                [--name GLOB] [--json] [options]

Sums up the jobs that have ended (those the daemon still keeps, see
sjq.keepdone), one row per group and a total:

  NAME RUNS WALL CPU-USER CPU-SYS PEAK

RUNS counts the jobs (each earlier attempt of a restarted or retried job is
a run of its own); WALL is their summed wall time, CPU-USER and CPU-SYS the
CPU time their processes spent in user and kernel mode, as M:SS.mmm below
an hour and [D-]H:MM:SS above;
PEAK is the largest peak memory of one job of the group (all its processes
together). Jobs that never ran (aborted, killed while waiting) count as runs
that used nothing. docs/accounting.md says how the figures are measured.

Options:
  --by KEY          group by name (the default), state, day (the day a job
                    ended, local time) or user
  --since WHEN      only jobs that ended since WHEN: a date (2026-11-30, or
                    2026-11-30T08:00, local time) or a duration ago (12h, 7d)
  -s, --state STATES  only jobs that ended in these states, e.g. F,K or failed
  --name GLOB       only jobs whose name matches GLOB (* and ?)
  --json            the groups as a JSON array (fields in docs/cli.md)
${AUTOSTART_FLAGS_HELP}

Examples:
  sjq acct
  sjq acct --by day --since 7d
  sjq acct --by state --name 'align*'
  sjq acct --json | jq '.[] | select(.name == "total") | .cpu_user'
`;

const OPTIONS = {
  ...AUTOSTART_FLAGS,
  by: { type: "string" },
  since: { type: "string" },
  state: { type: "string", short: "s" },
  name: { type: "string" },
  json: { type: "boolean" },
} as const;

/** What `--by` groups on. */
export type GroupKey = "name" | "state" | "day" | "user";
/** Every `--by` key (also for shell completions). */
export const GROUP_KEYS: readonly GroupKey[] = ["name", "state", "day", "user"];

/** One group's sums, as `--json` prints them. */
export interface AcctRow {
  /** The group: a job name, a state word, a day `YYYY-MM-DD`, a uid; `total` for the last row. */
  group: string;
  runs: number;
  /** Runs by the state each ended in (letters). */
  states: Partial<Record<State, number>>;
  /** Seconds. */
  wall: number;
  cpu_user: number;
  cpu_system: number;
  /** The largest peak memory of one run, in bytes; null when none was measured. */
  max_rss: number | null;
  /** Runs whose usage was measured (jobs that ran on a backend that measures it). */
  measured: number;
}

/** `sjq acct`. */
export const acctCommand = flagsOnlyCommand({
  name: "acct",
  summary: "what ended jobs used (CPU, memory, wall time), summed per name, state or day",
  help: HELP,
  options: OPTIONS,
}, async (values) => {
  const by = (values.by ?? "name") as GroupKey;
  if (!GROUP_KEYS.includes(by)) {
    throw new UsageError(`bad --by "${values.by}"`, `give one of ${GROUP_KEYS.join(", ")}`);
  }
  const since = values.since === undefined ? null : parseSince(values.since, Date.now());
  const states = values.state === undefined ? null : parseStates(values.state);
  const name = values.name === undefined ? null : globPattern(values.name);
  using client = await connectDaemon(values);
  const jobs = await fetchJobs(client, null);
  const rows = summarize(runsOf(jobs), by, {
    since,
    states,
    name,
  });
  if (values.json) return out(`${JSON.stringify(rows, null, 2)}\n`), 0;
  out(render(rows, by));
  return 0;
});

/** One run of a job: the job's last end, or an earlier attempt. */
export interface Run {
  name: string;
  uid: number;
  state: State;
  ended: number;
  usage: UsageInfo | null;
}

/** The runs of ended jobs and every earlier attempt; an array's head is not a run (its tasks are). */
export function runsOf(jobs: readonly JobInfo[]): Run[] {
  const runs: Run[] = [];
  for (const job of jobs) {
    for (const a of job.attempts ?? []) {
      if (a.ended === null) continue;
      const run = { name: job.name, uid: job.uid, state: a.state as State };
      runs.push({ ...run, ended: Date.parse(a.ended), usage: a.usage ?? null });
    }
    if (job.array !== null || !isFinal(job.state as State) || job.ended === null) continue;
    const run = { name: job.name, uid: job.uid, state: job.state as State };
    runs.push({ ...run, ended: Date.parse(job.ended), usage: job.usage ?? null });
  }
  return runs;
}

/** What `summarize` leaves out. */
export interface AcctFilter {
  /** Runs that ended before this (ms since the epoch). */
  since: number | null;
  states: ReadonlySet<State> | null;
  name: RegExp | null;
}

/**
 * The sums of `runs` per group, in the group's order (names and days
 * ascending, states in their protocol order), then a `total` row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarize } from "./acct.ts";
 *
 * const usage = { cpu_user: 1, cpu_system: 0.5, max_rss: 1024, wall: 2, signal: null };
 * const run = { name: "a", uid: 0, state: "S" as const, ended: 0, usage };
 * const rows = summarize([run, run], "name", { since: null, states: null, name: null });
 * assert.deepEqual(rows.map((r) => [r.group, r.runs, r.cpu_user]), [["a", 2, 2], ["total", 2, 2]]);
 * ```
 */
export function summarize(runs: readonly Run[], by: GroupKey, filter: AcctFilter): AcctRow[] {
  const groups = new Map<string, AcctRow>();
  const total = emptyRow("total");
  for (const run of runs) {
    if (filter.since !== null && run.ended < filter.since) continue;
    if (filter.states !== null && !filter.states.has(run.state)) continue;
    if (filter.name !== null && !filter.name.test(run.name)) continue;
    const key = by === "name"
      ? run.name
      : by === "state"
      ? run.state
      : by === "user"
      ? String(run.uid)
      : localDay(run.ended);
    let row = groups.get(key);
    if (row === undefined) groups.set(key, row = emptyRow(key));
    add(row, run);
    add(total, run);
  }
  const order = by === "state"
    ? (a: string, b: string) => STATES.indexOf(a as State) - STATES.indexOf(b as State)
    : by === "user"
    ? (a: string, b: string) => Number(a) - Number(b)
    : (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const rows = [...groups.keys()].sort(order).map((k) => groups.get(k)!);
  if (by === "state") { for (const row of rows) row.group = STATE_NAMES[row.group as State]; }
  return [...rows, total];
}

function emptyRow(group: string): AcctRow {
  return {
    group,
    runs: 0,
    states: {},
    wall: 0,
    cpu_user: 0,
    cpu_system: 0,
    max_rss: null,
    measured: 0,
  };
}

function add(row: AcctRow, run: Run): void {
  row.runs++;
  row.states[run.state] = (row.states[run.state] ?? 0) + 1;
  const u = run.usage;
  if (u === null) return;
  row.wall = round(row.wall + (u.wall ?? 0));
  if (u.cpu_user !== null || u.cpu_system !== null) row.measured++;
  row.cpu_user = round(row.cpu_user + (u.cpu_user ?? 0));
  row.cpu_system = round(row.cpu_system + (u.cpu_system ?? 0));
  if (u.max_rss !== null) row.max_rss = Math.max(row.max_rss ?? 0, u.max_rss);
}

/** Milliseconds kept, float noise of long sums gone. */
function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

function render(rows: AcctRow[], by: GroupKey): string {
  const cells = rows.map((r) => [
    r.group,
    String(r.runs),
    time(r.wall),
    r.measured === 0 ? "-" : time(r.cpu_user),
    r.measured === 0 ? "-" : time(r.cpu_system),
    r.max_rss === null ? "-" : formatSize(r.max_rss),
  ]);
  return renderTable(cells, {
    columns: [by.toUpperCase(), "RUNS", "WALL", "CPU-USER", "CPU-SYS", "PEAK"],
    right: new Set(["RUNS", "WALL", "CPU-USER", "CPU-SYS", "PEAK"]),
    shrink: [by.toUpperCase()],
    maxWidth: Infinity,
  });
}

/**
 * A duration as sacct writes CPU times: `M:SS.mmm` below an hour, else
 * `[D-]H:MM:SS` (src/cli/status.ts `elapsed`).
 */
export function time(seconds: number): string {
  if (seconds >= 3600) return elapsed(seconds);
  const ms = Math.round(seconds * 1000);
  const s = Math.floor(ms / 1000) % 60;
  return `${Math.floor(ms / 60000)}:${String(s).padStart(2, "0")}.${
    String(ms % 1000).padStart(3, "0")
  }`;
}

/** The local day of a time, `YYYY-MM-DD`. */
function localDay(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

/**
 * `--since`: a local date (`2026-11-30`, `2026-11-30T08:00`) or a duration
 * before `now`; ms since the epoch.
 */
export function parseSince(text: string, now: number): number {
  const date = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d))?)?$/.exec(text.trim());
  if (date !== null) {
    const [y, mo, d, h = "0", mi = "0", s = "0"] = date.slice(1);
    const ms = new Date(+y!, +mo! - 1, +d!, +h, +mi, +s).getTime();
    if (Number.isNaN(ms)) throw new UsageError(`bad --since "${text}": not a date`);
    return ms;
  }
  try {
    return now - parseDuration(text) * 1000;
  } catch (e) {
    throw new UsageError(
      `bad --since "${text}": ${(e as Error).message}`,
      "give a date such as 2026-11-30 or a duration such as 12h or 7d",
    );
  }
}
