/**
 * `sjq wait`: blocks until jobs have ended, with the WAIT extension (the
 * daemon answers when a job ends; nothing polls).
 *
 * @module
 */

import { clearLongTimeout, setLongTimeout } from "../long_timer.ts";
import { type Client, DaemonClosedError } from "../client.ts";
import { parseDuration } from "../duration.ts";
import type { JobInfo } from "../info.ts";
import type { FinalState } from "../job.ts";
import { STATE_NAMES } from "../job.ts";
import { connectDaemon } from "./autostart.ts";
import {
  AUTOSTART_FLAGS,
  AUTOSTART_FLAGS_HELP,
  type ClientValues,
  defineCommand,
  parseIdList,
  UsageError,
} from "./common.ts";
import { lazyImport } from "./lazy.ts";

const HELP = `sjq wait: wait for jobs to end

Usage: sjq wait ID|FROM-TO... [--timeout DURATION] [options]

Blocks until every job named has ended. Exits 0 when all of them succeeded
(S), 1 when any ended otherwise (F, A, K, E) or is unknown, and 124 when
--timeout passes first. A job that did not succeed is reported on stderr.

Options:
  -t, --timeout DURATION  give up after this long (exit 124): 90, 15m, 2h
${AUTOSTART_FLAGS_HELP}

Examples:
  sjq wait 12
  sjq wait 3-7 12 && echo "all done"
  id=$(sjq submit big.sh); sjq wait --timeout 3600 "$id" || echo "failed or late"
`;

const OPTIONS = { ...AUTOSTART_FLAGS, timeout: { type: "string", short: "t" } } as const;

/** How a job ended, as WAIT answers; `error` when the daemon could not tell (unknown job). */
export type Ended = { state: FinalState; exitCode: number | null } | { error: string };

/** The exit code of `sjq wait` on timeout, as timeout(1) uses. */
const TIMED_OUT = 124;

/** Connections a wait makes at most: the first, then one per daemon that stopped meanwhile. */
const MAX_CONNECTIONS = 3;

/** `sjq wait`. */
export const waitCommand = defineCommand({
  name: "wait",
  summary: "wait for jobs to end; exit 0 if all succeeded",
  help: HELP,
  options: OPTIONS,
}, async (values, positionals) => {
  const ids = parseIdList(positionals);
  let timeout: number | null = null;
  if (values.timeout !== undefined) {
    try {
      timeout = parseDuration(values.timeout);
    } catch {
      throw new UsageError(
        `bad --timeout "${values.timeout}": expected a duration such as 90, 15m or 2h`,
      );
    }
  }
  const results = await waitForJobs(ids, values, timeout === null ? null : timeout * 1000);
  if (results === null) {
    console.error(
      `error: timed out after ${timeout} s waiting for job${ids.length > 1 ? "s" : ""} ${
        ids.join(" ")
      }`,
    );
    return TIMED_OUT;
  }
  const failed = [...results].filter(([, ended]) => !("state" in ended && ended.state === "S"));
  for (const line of await explainEnds(failed, values)) console.error(line);
  return failed.length === 0 ? 0 : 1;
});

/** A job's end in words: `failed (exit code 3)`, `killed`, `unknown job 9`. */
export function describe(ended: Ended): string {
  if ("error" in ended) return ended.error;
  const code = ended.exitCode === null ? "" : ` (exit code ${ended.exitCode})`;
  return `${STATE_NAMES[ended.state]}${code}`;
}

/**
 * One line per job that did not succeed, with why: `job 21: aborted: job 20
 * failed (exit 1)`, `job 5: failed: timed out after 60 s`. The reasons come
 * from INFO; without them (the daemon is gone), the state alone.
 */
export async function explainEnds(
  ends: [number | string, Ended][],
  values: ClientValues,
): Promise<string[]> {
  if (ends.length === 0) return [];
  let reasons = new Map<number | string, string | null>();
  try {
    const { fetchAll, reasonContext } = await lazyImport<typeof import("./job_query.ts")>(
      "./job_query.ts",
      import.meta.url,
    );
    const { jobReason } = await lazyImport<typeof import("./reasons.ts")>(
      "./reasons.ts",
      import.meta.url,
    );
    using client = await connectDaemon({ ...values, "no-autostart": true });
    const payloads = await fetchAll(client, ends.map(([id]) => `INFO ${id}`));
    const decoder = new TextDecoder();
    const jobs = payloads.map((p) => (JSON.parse(decoder.decode(p)) as JobInfo[])[0]);
    const found = jobs.filter((j) => j !== undefined);
    const context = await reasonContext(client, found, false);
    reasons = new Map(ends.map(([id], i) => [id, jobs[i] ? jobReason(jobs[i], context) : null]));
  } catch { /* the state alone */ }
  return ends.map(([id, ended]) => {
    const reason = reasons.get(id);
    const redundant = reason == null || /^exit -?\d+$/.test(reason);
    return `job ${id}: ${describe(ended)}${redundant ? "" : `: ${reason}`}`;
  });
}

/**
 * Waits until every job in `ids` has ended, or `timeoutMs` passed (then null).
 * When the daemon stops while jobs still run (they outlive it), waits on
 * with the next daemon, starting one unless auto-start is off.
 */
export async function waitForJobs(
  ids: readonly (number | string)[],
  values: ClientValues,
  timeoutMs: number | null,
): Promise<Map<number | string, Ended> | null> {
  const results = new Map<number | string, Ended>();
  let expired = false;
  let current: Client | null = null;
  const timer = timeoutMs === null ? undefined : setLongTimeout(() => {
    expired = true;
    current?.[Symbol.dispose]();
  }, timeoutMs);
  try {
    for (let attempt = 1; results.size < ids.length; attempt++) {
      using client = current = await connectDaemon(values);
      if (expired) return null;
      try {
        await waitOn(client, ids.filter((id) => !results.has(id)), results);
      } catch (e) {
        if (expired) return null;
        if (
          !(e instanceof DaemonClosedError || e instanceof DaemonStopped) ||
          attempt >= MAX_CONNECTIONS
        ) {
          throw e;
        }
      }
    }
    return new Map(ids.map((id) => [id, results.get(id)!]));
  } finally {
    clearLongTimeout(timer);
  }
}

/** The daemon stopped before a job ended: the job runs on, and the next daemon knows its end. */
class DaemonStopped extends Error {}

/** Sends a WAIT per job (pipelined) and records each answer as it comes. */
async function waitOn(
  client: Client,
  ids: (number | string)[],
  results: Map<number | string, Ended>,
): Promise<void> {
  const sending = client.send(new TextEncoder().encode(ids.map((id) => `WAIT ${id}\r\n`).join("")));
  try {
    for (const id of ids) {
      const reply = await client.reply(false, "WAIT");
      const m = /^([SFAKE]) (-?\d+|-)$/.exec(reply.text);
      if (reply.ok && m) {
        results.set(id, {
          state: m[1] as FinalState,
          exitCode: m[2] === "-" ? null : Number(m[2]),
        });
      } else if (!reply.ok && /daemon (has )?stopped/i.test(reply.text)) {
        throw new DaemonStopped(reply.text);
      } else if (!reply.ok) {
        results.set(id, { error: reply.text.replace(/^Unknown job/, "unknown job") });
      } else {
        throw new Error(`unexpected reply to WAIT ${id}: OK ${reply.text}`);
      }
    }
  } finally {
    await sending.catch(() => {});
  }
}
