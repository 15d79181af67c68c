/**
 * `sjq status`: the job table, for eyes (an aligned table), for scripts
 * (`--json`, every field) and for tools of the original (`--raw`).
 *
 * @module
 */

import type { JobInfo } from "../info.ts";
import { type State, STATE_NAMES, STATES } from "../job.ts";
import { formatSize } from "../size.ts";
import { connectDaemon } from "./autostart.ts";
import { fetchAll, reasonContext } from "./job_query.ts";
import { jobReason, type ReasonContext } from "./reasons.ts";
import { parseStates } from "./states.ts";
import { renderTable } from "./table.ts";
import {
  AUTOSTART_FLAGS,
  AUTOSTART_FLAGS_HELP,
  colourful,
  defineCommand,
  out,
  parseIdList,
  UsageError,
} from "./common.ts";
import { lazyImport } from "./lazy.ts";

const HELP = `sjq status: show jobs

Usage: sjq status [ID|FROM-TO...] [--state STATES] [--name GLOB] [--user USER]
                  [--queue NAME] [--json | --raw | --watch] [options]

Without ids, shows every job the daemon knows (finished ones are kept for
sjq.keepdone). The table has one row per job:

  ID NAME STATE PROCS MEM PEAK [QUEUE] DEPS STARTED ELAPSED EXIT REASON

STATE is a word (queued, holding, user-hold, running, success, failed,
aborted, killed, error); MEM is the memory the job declared, PEAK the most
its processes held together once it ended (docs/accounting.md; 'sjq acct'
sums it up, 'sjq show' has CPU times); QUEUE, shown when the jobs are in
more than one queue, is the job's queue (sjq submit --queue); DEPS lists dependencies (any:ID for --afterany,
notok:ID for --afternotok); STARTED is when the job started; ELAPSED is how
long it ran or has run, as [D-]H:MM:SS; REASON says why a job waits (the
dependency, the CPUs or memory it lacks, the hold) or why it ended as it did.
On a terminal, NAME, DEPS and REASON are cut to fit its width (COLUMNS
elsewhere). A count of the jobs by state follows on stderr. Unknown ids are
reported on stderr and make the exit code 1. An array's
tasks show as A_T (task T of array A), its head as A_[SPEC]: 'sjq status A'
shows the head and every task, 'sjq status A_T' one task.

Options:
  -s, --state STATES  only jobs in these states: letters or words, e.g. R,Q or running
      --name GLOB     only jobs whose name matches GLOB (* and ?), e.g. 'align*'
  -u, --user USER     only jobs of this user (a name or a uid)
  -q, --queue NAME    only jobs of this queue (sjq submit --queue)
  -W, --watch         redraw the table every 2 s until Ctrl-C
      --json          every field of every job as one JSON array (see docs/cli.md)
      --raw           the protocol's STATUS payload (id, name, state letter, deps; tab-separated)
${AUTOSTART_FLAGS_HELP}

Examples:
  sjq status
  sjq status --state R,Q
  sjq status --name 'align*' --watch
  sjq status 12-15 --json | jq -r '.[] | select(.state == "F") | .id'
`;

const OPTIONS = {
  ...AUTOSTART_FLAGS,
  state: { type: "string", short: "s" },
  name: { type: "string" },
  user: { type: "string", short: "u" },
  queue: { type: "string", short: "q" },
  watch: { type: "boolean", short: "W" },
  json: { type: "boolean" },
  raw: { type: "boolean" },
} as const;

/** How often `--watch` redraws. */
const WATCH_INTERVAL_MS = 2000;

/** `sjq status`. */
export const statusCommand = defineCommand({
  name: "status",
  summary: "show jobs (a table, --json or --raw)",
  help: HELP,
  options: OPTIONS,
}, async (values, positionals) => {
  if (values.json && values.raw) throw new UsageError("give --json or --raw, not both");
  if (values.watch && (values.json || values.raw)) {
    throw new UsageError("--watch draws the table: give it without --json or --raw");
  }
  const ids = positionals.length > 0 ? parseIdList(positionals) : null;
  const states = values.state === undefined ? null : parseStates(values.state);
  const name = values.name === undefined ? null : globPattern(values.name);
  const uid = values.user === undefined ? null : userId(values.user);
  const queue = values.queue?.toLowerCase() ?? null;
  const wanted = (j: { state: string; name: string; uid?: number; queue?: string | null }) =>
    (states === null || states.has(j.state as State)) && (name === null || name.test(j.name)) &&
    (uid === null || j.uid === uid) && (queue === null || j.queue === queue);
  if (values.raw && uid !== null) {
    throw new UsageError("--user needs the table or --json: STATUS has no user");
  }
  if (values.raw && queue !== null) {
    throw new UsageError("--queue needs the table or --json: STATUS has no queue");
  }
  using client = await connectDaemon(values);
  if (values.raw) {
    const payloads = await fetchAll(
      client,
      ids === null ? ["STATUS"] : ids.map((id) => `STATUS ${id}`),
    );
    const decoder = new TextDecoder();
    const lines = payloads.flatMap((p) => decoder.decode(p).split("\r\n").filter((l) => l !== ""));
    const rows = lines.map((l) => l.split("\t"));
    const shown = lines.filter((_, i) => wanted({ state: rows[i]![2]!, name: rows[i]![1]! }));
    out(shown.map((l) => `${l}\r\n`).join(""));
    return reportMissing(ids, payloads);
  }
  for (let frame = 0;; frame++) {
    const payloads = await fetchAll(
      client,
      ids === null ? ["INFO"] : ids.map((id) => `INFO ${id}`),
    );
    const decoder = new TextDecoder();
    const jobs = payloads.flatMap((p) => JSON.parse(decoder.decode(p)) as JobInfo[]);
    const shown = jobs.filter(wanted);
    if (values.json) {
      out(`${JSON.stringify(shown, null, 2)}\n`);
      return reportMissing(ids, payloads);
    }
    const context = await reasonContext(client, shown, ids === null);
    // Only unknown ids asked for: the error alone, no empty table's header above it.
    const onlyMissing = shown.length === 0 && ids !== null;
    const text = onlyMissing ? "" : await table(shown, context, Date.now(), colourful());
    if (values.watch) {
      const page = `${new Date().toLocaleTimeString()}  ${summary(shown)}\n${text}`;
      out(Deno.stdout.isTerminal() ? overDrawn(page, frame === 0, terminalRows()) : page);
      await new Promise((r) => setTimeout(r, WATCH_INTERVAL_MS));
      continue;
    }
    out(text);
    // The count by state under a whole listing; with ids, stderr keeps to their errors.
    if (ids === null) console.error(summary(shown));
    return reportMissing(ids, payloads);
  }
});

/** Reports ids asked for that the daemon does not know (their payload is empty); the exit code. */
function reportMissing(ids: string[] | null, payloads: Uint8Array[]): number {
  const decoder = new TextDecoder();
  const empty = (p: Uint8Array) => p.length === 0 || decoder.decode(p) === "[]";
  const missing = (ids ?? []).filter((_, i) => empty(payloads[i]!));
  if (missing.length > 0) {
    console.error(`error: unknown job${missing.length > 1 ? "s" : ""} ${missing.join(" ")}`);
  }
  return missing.length > 0 ? 1 : 0;
}

/** `3 jobs: 1 running, 2 queued`. */
function summary(jobs: JobInfo[]): string {
  const counts = new Map<State, number>();
  for (const j of jobs) counts.set(j.state as State, (counts.get(j.state as State) ?? 0) + 1);
  const parts = STATES.filter((s) => counts.has(s)).map((s) =>
    `${counts.get(s)} ${STATE_NAMES[s]}`
  );
  return `${jobs.length} job${jobs.length === 1 ? "" : "s"}${
    parts.length ? `: ${parts.join(", ")}` : ""
  }`;
}

/** A glob (`*`, `?`) as an anchored regular expression. */
export function globPattern(glob: string): RegExp {
  const body = [...glob].map((c) =>
    c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")
  ).join("");
  return new RegExp(`^${body}$`, "s");
}

/** A user name or uid as a uid, from /etc/passwd. */
function userId(user: string): number {
  if (/^\d+$/.test(user)) return Number(user);
  const passwd = (() => {
    try {
      return Deno.readTextFileSync("/etc/passwd");
    } catch {
      return "";
    }
  })();
  const line = passwd.split("\n").find((l) => l.split(":")[0] === user);
  if (line === undefined) throw new UsageError(`unknown user "${user}"`);
  return Number(line.split(":")[2]);
}

const COLUMNS = [
  "ID",
  "NAME",
  "STATE",
  "PROCS",
  "MEM",
  "PEAK",
  "DEPS",
  "STARTED",
  "ELAPSED",
  "EXIT",
  "REASON",
];
/** Columns aligned to the right (numbers). */
const RIGHT = new Set(["ID", "PROCS", "MEM", "PEAK", "ELAPSED", "EXIT"]);
/** SGR colour of each state's word on a terminal. */
const COLOURS: Record<State, string> = {
  Q: "0",
  H: "2",
  U: "2",
  R: "1;34",
  S: "32",
  F: "1;31",
  A: "33",
  K: "35",
  E: "1;31",
};

/** The aligned job table, header included, cut to the terminal's width; `now` ends running jobs' elapsed time. */
async function table(
  jobs: JobInfo[],
  context: ReasonContext,
  now: number,
  colour: boolean,
): Promise<string> {
  let rows = jobs.map((j) => row(j, jobReason(j, context), now));
  let columns: readonly string[] = COLUMNS;
  // Jobs of more than one queue (sjq submit --queue): a QUEUE column before DEPS.
  if (new Set(jobs.map((j) => j.queue ?? "-")).size > 1) {
    const at = COLUMNS.indexOf("DEPS");
    columns = [...COLUMNS.slice(0, at), "QUEUE", ...COLUMNS.slice(at)];
    rows = rows.map((r, i) => [...r.slice(0, at), jobs[i]!.queue ?? "-", ...r.slice(at)]);
  }
  return renderTable(rows, {
    columns,
    right: RIGHT,
    shrink: ["REASON", "DEPS", "NAME"],
    maxWidth: terminalWidth(),
    width: await displayWidth(rows),
    decorate: (cell, column, i) =>
      colour && i >= 0 && column === "STATE"
        ? `\x1b[${COLOURS[jobs[i]!.state as State]}m${cell}\x1b[0m`
        : cell,
  });
}

/**
 * `--watch`'s page drawn over the last one in place: from the top left, each
 * line cleared to its end and the screen below cleared, so nothing flickers
 * (only the first page clears the screen first). A page taller than the
 * terminal is cut to fit, or it would scroll and the next one would not
 * land on it.
 */
export function overDrawn(page: string, first: boolean, rows: number): string {
  let lines = page.replace(/\n$/, "").split("\n");
  if (lines.length > rows) {
    const more = lines.length - (rows - 1);
    lines = [...lines.slice(0, rows - 1), `… ${more} more line${more === 1 ? "" : "s"}`];
  }
  return `\x1b[H${first ? "\x1b[2J" : ""}${lines.join("\x1b[K\n")}\x1b[K\x1b[J`;
}

/** The terminal's height in lines (24 when it does not say). */
function terminalRows(): number {
  try {
    const { rows } = Deno.consoleSize();
    return rows > 1 ? rows : 24;
  } catch {
    return 24;
  }
}

/** The width to fit: the terminal's, else `COLUMNS`, else none. */
function terminalWidth(): number {
  if (Deno.stdout.isTerminal()) {
    try {
      const { columns } = Deno.consoleSize();
      if (columns > 0) return columns;
    } catch { /* no size */ }
  }
  const columns = Number(Deno.env.get("COLUMNS"));
  return Number.isSafeInteger(columns) && columns > 0 ? columns : Infinity;
}

/**
 * Display width: `.length` for printable ASCII; npm:string-width (wide CJK
 * characters, combining marks, emoji), loaded only when a cell needs it.
 */
async function displayWidth(rows: string[][]): Promise<(text: string) => number> {
  const length = (t: string) => t.length;
  if (rows.every((r) => r.every((c) => /^[\x20-\x7e]*$/.test(c)))) return length;
  try {
    const { stringWidth } = await lazyImport<typeof import("./string_width.ts")>(
      "./string_width.ts",
      import.meta.url,
    );
    return (t) => stringWidth(t);
  } catch {
    return length; // offline with no cached copy: columns may be off, the table still prints
  }
}

function row(j: JobInfo, reason: string | null, now: number): string[] {
  const deps = j.dependencies.map((d) =>
    d.kind === "afterok" ? String(d.id) : `${d.kind.slice(5)}:${d.id}`
  );
  const started = j.started === null ? null : Date.parse(j.started);
  const end = j.ended === null ? now : Date.parse(j.ended);
  return [
    displayId(j),
    j.name,
    j.state_name,
    String(j.procs),
    formatSize(j.mem),
    j.usage?.max_rss == null ? "-" : formatSize(j.usage.max_rss),
    deps.join(",") || "-",
    started === null ? "-" : clock(started, now),
    started === null ? "-" : elapsed(Math.max(0, end - started) / 1000),
    j.exit_code === null ? "-" : String(j.exit_code),
    reason ?? "-",
  ];
}

/** A job as people name it: `12`, an array's task `12_7`, an array's head `12_[1-1000%2]`. */
function displayId(j: JobInfo): string {
  if (j.array_id !== null) return `${j.array_id}_${j.array_task}`;
  return j.array === null ? String(j.id) : `${j.id}_[${j.array}]`;
}

/** A duration as `[D-]H:MM:SS`, as Slurm writes elapsed times. */
export function elapsed(seconds: number): string {
  const s = Math.floor(seconds);
  const two = (n: number) => String(n).padStart(2, "0");
  const days = Math.floor(s / 86400);
  const h = Math.floor(s / 3600) % 24;
  const clock = `${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
  return days > 0 ? `${days}-${two(h)}:${clock}` : `${h}:${clock}`;
}

/** Local time: `HH:MM:SS` today, `YYYY-MM-DD HH:MM` on other days. */
function clock(ms: number, now: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  const day = `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
  const time = `${two(d.getHours())}:${two(d.getMinutes())}`;
  return new Date(now).toDateString() === d.toDateString()
    ? `${time}:${two(d.getSeconds())}`
    : `${day} ${time}`;
}
