/**
 * Jobs whose start and end the test controls: each job appends its id to a
 * ledger file when it starts, and a gate job waits for its gate file before
 * it exits with the code written there. No timing guesses.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { JobInfo } from "../src/info.ts";
import { RawClient, type TestDaemon, waitFor } from "./harness.ts";
import { sameProcess } from "../src/processes.ts";

const LOG_START = `echo "$SJQ_JOB_ID" >> ledger\n`;

/** A script that records its start in the ledger and succeeds. */
export const RUN = `#!/bin/sh\n${LOG_START}`;

/** A script that records its start, then waits for `go.<id>` and exits with the code in it. */
export const GATE = `#!/bin/sh
${LOG_START}while [ ! -e "go.$SJQ_JOB_ID" ]; do sleep 0.02; done
exit "$(cat "go.$SJQ_JOB_ID")"
`;

/** A job directory and a raw connection to the daemon that runs its jobs. */
export class Bench implements AsyncDisposable {
  private constructor(readonly dir: string, readonly client: RawClient) {}

  /** Opens `dir` (created if needed; default `$HOME/work` of the daemon) on daemon `d`. */
  static async open(d: TestDaemon, dir = `${d.home}/work`): Promise<Bench> {
    await Deno.mkdir(dir, { recursive: true });
    return new Bench(dir, await d.connect());
  }

  /** Submits a script that runs in the bench directory; returns its id, fails on an ERROR. */
  async submit(script: string, options: Record<string, string> = {}): Promise<number> {
    const reply = await this.client.submit(script, { CWD: this.dir, ...options });
    const m = /^OK (\d+)$/.exec(reply);
    assert.ok(m, `SUBMIT answered ${JSON.stringify(reply)}`);
    return Number(m[1]);
  }

  /** Submits a {@linkcode GATE} job. */
  gate(options: Record<string, string> = {}): Promise<number> {
    return this.submit(GATE, options);
  }

  /** Lets gate job `id` exit with `code`. */
  async open(id: number, code = 0): Promise<void> {
    const path = `${this.dir}/go.${id}`;
    await Deno.writeTextFile(`${path}.tmp`, `${code}\n`);
    await Deno.rename(`${path}.tmp`, path);
  }

  /** Job ids in the order their scripts started. */
  async ledger(): Promise<number[]> {
    const text = await Deno.readTextFile(`${this.dir}/ledger`).catch(() => "");
    return text.split("\n").filter((l) => l !== "").map(Number);
  }

  /** Waits until as many jobs as `ids` have started, then checks they are `ids`, in order. */
  async waitLedger(ids: number[]): Promise<void> {
    await waitFor(async () => (await this.ledger()).length >= ids.length, `jobs ${ids} to start`);
    assert.deepEqual(await this.ledger(), ids, "jobs started in this order");
  }

  /** The job counts by state, from PING. */
  async counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const pair of (await this.request("PING")).split(" ").slice(1)) {
      const [state, n] = pair.split(":");
      if (state && n) out[state] = Number(n);
    }
    return out;
  }

  /** The state of every job the daemon knows, by id. */
  async states(): Promise<Record<number, string>> {
    const out: Record<number, string> = {};
    for (const [id, , state] of await this.client.status()) out[Number(id)] = state!;
    return out;
  }

  /** Checks the state of every job the daemon knows. */
  async expectStates(expected: Record<number, string>, message?: string): Promise<void> {
    assert.deepEqual(await this.states(), expected, message);
  }

  /** Polls until job `id` is in one of `states`. */
  waitState(id: number, states: string): Promise<string> {
    return this.client.waitState(id, states);
  }

  /** Sends one request and returns its reply line without `\r\n`. */
  async request(line: string): Promise<string> {
    return (await this.client.request(`${line}\r\n`)).replace(/\r\n$/, "");
  }

  /** Sends `WAIT id` and returns its reply (`OK <state> <exitcode|->`) once the job has ended. */
  wait(id: number): Promise<string> {
    return within(this.request(`WAIT ${id}`), `job ${id} to end`);
  }

  /** Every field of job `id`, from INFO. */
  async info(id: number): Promise<JobInfo> {
    const head = await this.request(`INFO ${id}`);
    const m = /^OK (\d+)$/.exec(head);
    assert.ok(m, `INFO answered ${JSON.stringify(head)}`);
    const [job] = JSON.parse(new TextDecoder().decode(await this.client.bytes(Number(m[1]))));
    assert.ok(job, `INFO knows no job ${id}`);
    return job;
  }

  /** Reads a file of the bench directory. */
  read(name: string): Promise<string> {
    return Deno.readTextFile(`${this.dir}/${name}`);
  }

  /** Closes the connection and kills every process named by a `*.pid` file of the directory. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.client[Symbol.dispose]();
    for await (const e of Deno.readDir(this.dir)) {
      if (!e.name.endsWith(".pid")) continue;
      const pid = Number(await this.read(e.name));
      try {
        if (pid > 1) Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
  }
}

/** Whether process `pid` has ended (gone, or a zombie nobody reaps). */
export function processGone(pid: number): boolean {
  return !sameProcess(pid, undefined);
}

/** Waits for `promise`, failing after `ms` with a message naming `what`. */
export async function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
