/**
 * A protocol fuzzer: valid requests, mutated (bytes flipped, inserted,
 * deleted, duplicated, line breaks and odd characters spliced in, numbers
 * made huge), each sent on a connection of its own. Afterwards the daemon
 * must answer PING, take a new job, and list every job it ever gave an id
 * (ids are given only to accepted jobs, one after the other, so any gap is a
 * lost job).
 *
 * The suite runs a few seconds of it (tests/fuzz_test.ts); `make fuzz` runs
 * it long: `deno run -A tests/fuzz.ts [INPUTS] [SEED]`.
 *
 * @module
 */

import { RawClient, TestDaemon } from "./harness.ts";
import { random } from "./prng.ts";

const encoder = new TextEncoder();

const SCRIPT = "#!/bin/sh\nexit 0\n";

/** Valid requests to start from; SUBMITs hold their job, so that few run. */
function validRequests(cwd: string): string[] {
  const submit = (options: string[], script = SCRIPT) =>
    `SUBMIT\r\n${options.map((o) => `${o}\r\n`).join("")}HOLD\r\nSRC ${
      encoder.encode(script).length
    }\r\n${script}`;
  return [
    "PING\r\n",
    "STATUS\r\n",
    "STATUS 1\r\n",
    "INFO\r\n",
    "INFO 2\r\n",
    "KILL 3\r\n",
    "RELEASE 99999\r\n",
    "HOLD 1\r\n",
    "WAIT 1\r\n",
    "EXIT\r\n",
    "BOGUS x y\r\n",
    "\r\n",
    submit([]),
    submit(["NAME fuzz", `CWD ${cwd}`]),
    submit(["PROCS 1", "MEM 100M", "TIMEOUT 5"]),
    submit(["DEPENDS 1", "AFTERANY 2"]),
    submit(["AFTERNOTOK 1:2"]),
    submit(["STDOUT o", "STDERR e", `CWD ${cwd}`]),
    submit(["ENV A=YQ==;B=Yg==", "UID 0", "GID 0"]),
    submit(["ARG YQ==", "ARG Yg=="]),
    submit(["NAME x"], "echo hello\n"),
  ];
}

/** Bytes worth splicing in: line ends, separators, NUL, UTF-8 of U+2028, invalid UTF-8. */
const INTERESTING = [
  [13],
  [10],
  [13, 10],
  [0],
  [9],
  [32],
  [58],
  [59],
  [61],
  [0xe2, 0x80, 0xa8],
  [0xe2, 0x80, 0xa9],
  [0xff],
  [0xc0, 0x80],
  [...encoder.encode("99999999999999999999")],
  [...encoder.encode("-1")],
  [...encoder.encode("0")],
  [...encoder.encode("SRC 1\r\n")],
  [...encoder.encode("SUBMIT\r\n")],
];

/** One fuzz input: one to four valid requests, then one to four mutations. */
export function fuzzInput(next: () => number, cwd: string): Uint8Array {
  const requests = validRequests(cwd);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  let bytes: number[] = [];
  for (let n = 1 + Math.floor(next() * 4); n > 0; n--) {
    bytes.push(...encoder.encode(pick(requests)));
  }
  for (let n = 1 + Math.floor(next() * 4); n > 0; n--) {
    const at = Math.floor(next() * (bytes.length + 1));
    const len = 1 + Math.floor(next() * 8);
    switch (Math.floor(next() * 7)) {
      case 0: // flip a byte
        if (at < bytes.length) bytes[at] = Math.floor(next() * 256);
        break;
      case 1: // insert something interesting
        bytes.splice(at, 0, ...pick(INTERESTING));
        break;
      case 2: // delete a range
        bytes.splice(at, len);
        break;
      case 3: // duplicate a range
        bytes.splice(at, 0, ...bytes.slice(at, at + len));
        break;
      case 4: // cut the input short
        bytes = bytes.slice(0, at);
        break;
      case 5: // a random byte
        bytes.splice(at, 0, Math.floor(next() * 256));
        break;
      case 6: // a long line
        bytes.splice(at, 0, ...new Array(1000 + Math.floor(next() * 70_000)).fill(65));
        break;
    }
  }
  return new Uint8Array(bytes);
}

/** How long one input's connection is kept open for its replies (a WAIT may never answer). */
const INPUT_MS = 150;

/** Sends one input on its own connection, half-closes it, and reads until the daemon closes. */
async function sendInput(socket: string, input: Uint8Array): Promise<void> {
  let conn: Deno.UnixConn;
  for (let tries = 1;; tries++) {
    try {
      conn = await Deno.connect({ transport: "unix", path: socket });
      break;
    } catch (e) {
      // A full listen backlog (EAGAIN) while the daemon catches up; anything else is a failure.
      if (!(e instanceof Deno.errors.WouldBlock) || tries >= 1000) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const timer = setTimeout(() => conn.close(), INPUT_MS);
  try {
    for (let off = 0; off < input.length;) off += await conn.write(input.subarray(off));
    await conn.closeWrite();
    const buf = new Uint8Array(64 * 1024);
    while (await conn.read(buf) !== null) { /* replies are not checked one by one */ }
  } catch {
    /* closed by the daemon or by the timer */
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/** What a fuzz run found. */
export interface FuzzResult {
  inputs: number;
  jobs: number;
}

/**
 * Sends fuzz inputs to the daemon `d` until `inputs` were sent or `ms`
 * passed, `parallel` at a time; then checks that the daemon still works and
 * that no accepted job is missing.
 *
 * @throws {Error} When the daemon died, stopped answering or lost a job.
 */
export async function fuzz(
  d: TestDaemon,
  cwd: string,
  opts: { seed: number; inputs: number; ms: number; parallel?: number },
): Promise<FuzzResult> {
  const next = random(opts.seed);
  const deadline = Date.now() + opts.ms;
  let sent = 0;
  const worker = async () => {
    while (sent < opts.inputs && Date.now() < deadline) {
      sent++;
      await sendInput(d.socket, fuzzInput(next, cwd));
      if (d.exitedCode !== undefined) {
        throw new Error(`the daemon exited (${d.exitedCode}) after ${sent} inputs: ${d.stderr}`);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.parallel ?? 8 }, worker));
  using c = await RawClient.connect(d.socket);
  const pong = await c.request("PING\r\n");
  if (!/^OK /.test(pong)) throw new Error(`PING is not answered: ${JSON.stringify(pong)}`);
  const last = /^OK (\d+)$/.exec(await c.submit(SCRIPT, { HOLD: "", CWD: cwd }))?.[1];
  if (last === undefined) throw new Error("a new job is refused after fuzzing");
  const ids = (await c.status()).map((row) => Number(row[0]));
  const listed = new Set(ids);
  const missing = [];
  for (let id = 1; id <= Number(last); id++) if (!listed.has(id)) missing.push(id);
  if (missing.length > 0) {
    throw new Error(`jobs given an id are missing: ${missing.slice(0, 20).join(" ")}`);
  }
  return { inputs: sent, jobs: Number(last) };
}

if (import.meta.main) {
  const inputs = Number(Deno.args[0] ?? 100_000);
  const seed = Number(Deno.args[1] ?? Date.now() % 1_000_000);
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2", "--autoshutdown", "F"] });
  const cwd = await Deno.makeTempDir({ prefix: "sjq-fuzz-" });
  try {
    const started = Date.now();
    const result = await fuzz(d, cwd, { seed, inputs, ms: Infinity, parallel: 32 });
    const took = ((Date.now() - started) / 1000).toFixed(0);
    console.log(
      `fuzz: ${result.inputs} inputs (seed ${seed}) in ${took} s: 0 crashes, PING answered, ` +
        `all ${result.jobs} jobs given an id present`,
    );
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}
