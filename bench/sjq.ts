/**
 * The sjq side of the benchmark: a daemon run from source in a scratch
 * directory, pipelined SUBMITs over one raw connection, and PING-based
 * waiting. Daemon start-up and the raw client come from the end-to-end test
 * harness, so that the benchmark drives sjq exactly as the tests do.
 *
 * @module
 */

import { RawClient, TestDaemon } from "../tests/harness.ts";
import { run, sleep } from "./proc.ts";

/** `main.ts` of this checkout. */
export const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Deno's module cache, kept when a scratch HOME would otherwise hide it. */
export async function denoDir(): Promise<string> {
  const info = JSON.parse((await run(Deno.execPath(), ["info", "--json"])).stdout);
  return String(info.denoDir);
}

/**
 * Why sjq cannot be benchmarked here, or undefined when it can: `main.ts`
 * must exist and `sjq daemon --help` must succeed.
 */
export async function sjqUnavailable(): Promise<string | undefined> {
  try {
    await Deno.stat(MAIN);
  } catch {
    return `${MAIN} does not exist`;
  }
  const out = await run(Deno.execPath(), ["run", "-A", "--quiet", MAIN, "daemon", "--help"], {
    allowFail: true,
  });
  return out.code === 0 ? undefined : `"sjq daemon --help" exited ${out.code}`;
}

/** Options of a benchmark daemon. */
export interface SjqOptions {
  /** Scratch directory used as HOME; socket, database and job output go here. */
  home: string;
  denoDir: string;
  maxprocs: number;
  /** `--maxmem`, e.g. `12G`. */
  maxmem?: string;
}

/** A running daemon for the benchmark. */
export interface SjqDaemon extends AsyncDisposable {
  readonly socket: string;
  readonly home: string;
  readonly pid: number;
  /** Environment for `sjq` CLI processes talking to this daemon. */
  readonly env: Record<string, string>;
  connect(): Promise<RawClient>;
  /** Whether the daemon still runs, and the end of what it wrote to stderr: for error messages. */
  diagnosis(): string;
}

/** Starts `sjq daemon` in the foreground with autoshutdown off and waits until it answers. */
export async function startSjq(opts: SjqOptions): Promise<SjqDaemon> {
  const socket = `${opts.home}/sjq.sock`;
  const env = { DENO_DIR: opts.denoDir, SJQ_CONFIG: "/dev/null" };
  const args = ["--socket", socket, "--db", `${opts.home}/sjq.db`, "--autoshutdown", "F"];
  args.push("--maxprocs", String(opts.maxprocs));
  if (opts.maxmem) args.push("--maxmem", opts.maxmem);
  const d = await TestDaemon.start({ home: opts.home, args, env });
  return {
    socket,
    home: opts.home,
    pid: d.pid,
    env: { ...d.env, ...env, SJQ_SOCKET: socket },
    connect: () => d.connect(),
    diagnosis: () => {
      const state = d.exitedCode === undefined ? "running" : `exited ${d.exitedCode}`;
      return `daemon ${state}; its stderr ends: ${d.stderr.slice(-2000) || "(nothing)"}`;
    },
    [Symbol.asyncDispose]: () => d[Symbol.asyncDispose](),
  };
}

/**
 * A daemon of the checkout whose main.ts is `main` (another checkout's, for
 * a same-run comparison) on a socket in `home`, 2 slots, and a connection
 * to it: for the drivers that read its /proc figures themselves.
 * `denoFlags` go before the program (e.g. `--cpu-prof`).
 */
export async function startRawDaemon(
  opts: { main: string; home: string; denoFlags?: string[]; stderr?: "inherit" | "null" },
): Promise<{ process: Deno.ChildProcess; client: RawClient; socket: string }> {
  const socket = `${opts.home}/sjq.sock`;
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      ...["run", "-A", "--quiet", ...(opts.denoFlags ?? []), opts.main, "daemon"],
      ...["--socket", socket, "--db", `${opts.home}/sjq.db`, "--maxprocs", "2"],
      ...["--autoshutdown", "F"],
    ],
    env: { HOME: opts.home, SJQ_CONFIG: "/dev/null" },
    stdin: "null",
    stdout: "null",
    stderr: opts.stderr ?? "null",
  }).spawn();
  for (let i = 0; i < 500; i++) {
    const client = await RawClient.connect(socket).catch(() => null);
    if (client !== null) return { process, client, socket };
    await sleep(20);
  }
  process.kill("SIGKILL");
  throw new Error(`the daemon of ${opts.main} does not answer on ${socket}`);
}

/** Resident set size of a process in bytes (VmRSS). */
export async function rssBytes(pid: number): Promise<number> {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(await Deno.readTextFile(`/proc/${pid}/status`));
  if (!m) throw new Error(`No VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** The bytes of one SUBMIT request. */
export function encodeSubmit(script: string, options: Record<string, string>): Uint8Array {
  const src = new TextEncoder().encode(script);
  let head = "SUBMIT\r\n";
  for (const [k, v] of Object.entries(options)) head += `${k} ${v}\r\n`;
  head += `SRC ${src.length}\r\n`;
  const h = new TextEncoder().encode(head);
  const all = new Uint8Array(h.length + src.length);
  all.set(h);
  all.set(src, h.length);
  return all;
}

/** `count` copies of `request`, back to back. */
export function repeat(request: Uint8Array, count: number): Uint8Array {
  const all = new Uint8Array(request.length * count);
  for (let i = 0; i < count; i++) all.set(request, i * request.length);
  return all;
}

/**
 * Sends `requests` (`count` SUBMITs back to back) in one stream while reading
 * the replies, and returns the job ids. Reading runs alongside writing so that
 * neither side's socket buffer can stall the other.
 */
export async function submitPipelined(
  client: RawClient,
  requests: Uint8Array,
  count: number,
): Promise<number[]> {
  const replies = (async () => {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const line = await client.line();
      const m = line === null ? null : /^OK (\d+)\r?\n$/.exec(line);
      if (!m) throw new Error(`SUBMIT ${i + 1} of ${count} failed: ${JSON.stringify(line)}`);
      ids.push(Number(m[1]));
    }
    return ids;
  })();
  await client.send(requests);
  return await replies;
}

/** The job counts by state letter from `PING`. */
export async function ping(client: RawClient): Promise<Record<string, number>> {
  const line = await client.request("PING\r\n");
  if (!line.startsWith("OK")) throw new Error(`Bad PING reply: ${JSON.stringify(line)}`);
  const counts: Record<string, number> = {};
  for (const pair of line.slice(2).trim().split(" ")) {
    const [state, n] = pair.split(":");
    if (state && n) counts[state] = Number(n);
  }
  return counts;
}

/**
 * Polls PING every `intervalMs` until no job is queued, holding or running,
 * and returns the time (`performance.now()`) of the reply that said so with
 * the counts it gave.
 */
export async function waitIdle(
  client: RawClient,
  intervalMs: number,
): Promise<{ at: number; counts: Record<string, number> }> {
  const deadline = performance.now() + 600_000;
  for (;;) {
    const counts = await ping(client);
    const at = performance.now();
    if (!counts.Q && !counts.R && !counts.H && !counts.U) return { at, counts };
    if (at > deadline) throw new Error(`Jobs still pending after 600 s: ${JSON.stringify(counts)}`);
    await sleep(intervalMs);
  }
}
