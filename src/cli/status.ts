/**
 * `sjq status`: the job table, for eyes (an aligned table), for scripts
 * (`--json`, every field) and for tools of the original (`--raw`).
 *
 * @module
 */

import type { Client } from "../client.ts";
import { formatDuration } from "../duration.ts";
import type { JobInfo } from "../info.ts";
import { type State, STATE_NAMES, STATES } from "../job.ts";
import { formatSize } from "../size.ts";
import { connectDaemon } from "./autostart.ts";
import {
  AUTOSTART_FLAGS,
  AUTOSTART_FLAGS_HELP,
  colourful,
  type Command,
  flagNames,
  out,
  parseFlags,
  parseIdList,
  UsageError,
} from "./common.ts";

const HELP = `sjq status: show jobs

Usage: sjq status [ID|FROM-TO...] [--state STATES] [--json | --raw] [options]

Without ids, shows every job the daemon knows (finished ones are kept for
sjq.keepdone). The table has one row per job:

  ID NAME STATE PROCS MEM DEPS TIME ELAPSED EXIT

STATE is a word (queued, holding, user-hold, running, success, failed,
aborted, killed, error); DEPS lists dependencies (any:ID for --afterany,
notok:ID for --afternotok); TIME is when the job started, or when it was
submitted if it has not started; ELAPSED is how long it ran or has run.
Unknown ids are reported on stderr and make the exit code 1. An array's
tasks show as A_T (task T of array A), its head as A_[SPEC]: 'sjq status A'
shows the head and every task, 'sjq status A_T' one task.

Options:
  -s, --state STATES  only jobs in these states: letters or words, e.g. R,Q or running
      --json          every field of every job as one JSON array (see docs/cli.md)
      --raw           the protocol's STATUS payload (id, name, state letter, deps; tab-separated)
${AUTOSTART_FLAGS_HELP}

Examples:
  sjq status
  sjq status --state R,Q
  sjq status 12-15 --json | jq -r '.[] | select(.state == "F") | .id'
`;

const OPTIONS = {
  ...AUTOSTART_FLAGS,
  state: { type: "string", short: "s" },
  json: { type: "boolean" },
  raw: { type: "boolean" },
} as const;

/** `sjq status`. */
export const statusCommand: Command = {
  name: "status",
  summary: "show jobs (a table, --json or --raw)",
  help: HELP,
  flags: flagNames(OPTIONS),
  async run(args) {
    const { values, positionals } = parseFlags(args, OPTIONS);
    if (values.help) return out(HELP), 0;
    if (values.json && values.raw) throw new UsageError("give --json or --raw, not both");
    const ids = positionals.length > 0 ? parseIdList(positionals) : null;
    const states = values.state === undefined ? null : parseStates(values.state);
    using client = await connectDaemon(values);
    const verb = values.raw ? "STATUS" : "INFO";
    const payloads = await fetchAll(
      client,
      ids === null ? [verb] : ids.map((id) => `${verb} ${id}`),
    );
    const decoder = new TextDecoder();
    if (values.raw) {
      const lines = payloads.flatMap((p) =>
        decoder.decode(p).split("\r\n").filter((l) => l !== "")
      );
      const shown = lines.filter((l) => states === null || states.has(l.split("\t")[2] as State));
      out(shown.map((l) => `${l}\r\n`).join(""));
    } else {
      const jobs = payloads.flatMap((p) => JSON.parse(decoder.decode(p)) as JobInfo[]);
      const shown = jobs.filter((j) => states === null || states.has(j.state as State));
      // Only unknown ids asked for: the error alone, no empty table's header above it.
      const onlyMissing = shown.length === 0 && ids !== null && !values.json;
      if (!onlyMissing) {
        out(
          values.json
            ? `${JSON.stringify(shown, null, 2)}\n`
            : table(shown, Date.now(), colourful()),
        );
      }
    }
    const empty = (p: Uint8Array) => p.length === 0 || decoder.decode(p) === "[]";
    const missing = (ids ?? []).filter((_, i) => empty(payloads[i]!));
    if (missing.length > 0) {
      console.error(`error: unknown job${missing.length > 1 ? "s" : ""} ${missing.join(" ")}`);
    }
    return missing.length > 0 ? 1 : 0;
  },
};

/** Sends every request at once (pipelined) and returns the counted payloads in order. */
async function fetchAll(client: Client, requests: string[]): Promise<Uint8Array[]> {
  const sending = client.send(new TextEncoder().encode(requests.map((r) => `${r}\r\n`).join("")));
  try {
    const payloads: Uint8Array[] = [];
    for (const request of requests) {
      const reply = await client.reply(true, request);
      if (!reply.ok) throw new Error(reply.text);
      payloads.push(reply.payload!);
    }
    return payloads;
  } finally {
    await sending.catch(() => {});
  }
}

/** Parses `--state R,Q` or `--state running,queued` into state letters. */
function parseStates(text: string): Set<State> {
  const states = new Set<State>();
  for (const word of text.split(",")) {
    const letter = STATES.find((s) =>
      s === word.toUpperCase() || STATE_NAMES[s] === word.toLowerCase()
    );
    if (letter === undefined) {
      throw new UsageError(
        `bad state "${word}"`,
        `states are ${STATES.join(",")} or their names (running…)`,
      );
    }
    states.add(letter);
  }
  return states;
}

const COLUMNS = ["ID", "NAME", "STATE", "PROCS", "MEM", "DEPS", "TIME", "ELAPSED", "EXIT"];
/** Columns aligned to the right (numbers). */
const RIGHT = new Set(["ID", "PROCS", "MEM", "ELAPSED", "EXIT"]);
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

/** The aligned job table, header included; `now` is when running jobs' elapsed time ends. */
function table(jobs: JobInfo[], now: number, colour: boolean): string {
  const rows = jobs.map((j) => row(j, now));
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[], job?: JobInfo) =>
    cells.map((cell, i) => {
      const padded = RIGHT.has(COLUMNS[i]!) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
      return colour && job && COLUMNS[i] === "STATE"
        ? `\x1b[${COLOURS[job.state as State]}m${padded}\x1b[0m`
        : padded;
    }).join("  ").trimEnd() + "\n";
  return line(COLUMNS) + rows.map((r, i) => line(r, jobs[i])).join("");
}

function row(j: JobInfo, now: number): string[] {
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
    deps.join(",") || "-",
    clock(started ?? Date.parse(j.submitted), now),
    started === null ? "-" : formatDuration(Math.max(0, end - started) / 1000),
    j.exit_code === null ? "-" : String(j.exit_code),
  ];
}

/** A job as people name it: `12`, an array's task `12_7`, an array's head `12_[1-1000%2]`. */
function displayId(j: JobInfo): string {
  if (j.array_id !== null) return `${j.array_id}_${j.array_task}`;
  return j.array === null ? String(j.id) : `${j.id}_[${j.array}]`;
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
