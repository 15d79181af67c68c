/**
 * The wire protocol's edge: bytes in, typed requests out. Nothing else in the
 * daemon sees raw lines. See docs/protocol.md.
 *
 * @module
 */

import {
  type Dependency,
  type DependencyKind,
  type FinalState,
  isFinal,
  type State,
  STATES,
} from "./job.ts";
import { parseSize } from "./size.ts";
import { type ArraySpec, parseArraySpec } from "./array_spec.ts";
import { QUEUE_NAME } from "./queue_config.ts";
import { MAIL_ADDRESS } from "./mail.ts";

export { encodeBase64 } from "./base64.ts";

/**
 * What SHUTDOWN does with running jobs: leave them to the next daemon
 * (`detach`, plain SHUTDOWN), wait for them (`drain`), or kill them (`kill`).
 */
export type ShutdownMode = "detach" | "drain" | "kill";

/** Options of a SUBMIT, as far as they can be checked without the daemon's state. */
export interface SubmitOptions {
  procs?: number;
  mem?: number;
  /** Dependencies; one with `task` names task `task` of array `id`. */
  deps: (Dependency & { task?: number })[];
  stdout?: string;
  stderr?: string;
  env: [string, string][];
  cwd?: string;
  name?: string;
  uid?: number;
  gid?: number;
  hold: boolean;
  timeout?: number;
  /** Arguments given to the script (ARG lines, in order). */
  args: string[];
  /** SLURMOPT lines: sbatch arguments for the Slurm backend. */
  slurmOpts?: string[];
  /** ARRAY: submit an array of tasks. */
  array?: ArraySpec;
  /** PRIORITY: place in the queue, from -1000 to 1000 (src/scheduler.ts `rankOf`). */
  priority?: number;
  /** NOTIFY: a command run by /bin/sh when the job ends (src/notify.ts). */
  notify?: string;
  /** QUEUE: the named queue the job waits and runs in (src/queue_config.ts); absent: the default one. */
  queue?: string;
  /** MAIL: an address mailed when the job ends (src/mail.ts). */
  mail?: string;
  /** RETRIES: how often a failing job is run again by itself; RETRYDELAY: seconds before each. */
  retries?: number;
  retryDelay?: number;
  /** GPUS: how many GPU devices the job needs (src/gpus.ts). */
  gpus?: number;
}

/** A job named by a request: a job id, or `ARRAY_TASK` (`12_7`), task 7 of array 12. */
export interface JobRef {
  id: number;
  task?: number;
}

/** A request, parsed. `invalid` is answered with ERROR; `fatal` too, and then the connection closes. */
export type Request =
  | { kind: "ping" }
  | { kind: "exit" }
  | { kind: "shutdown"; mode: ShutdownMode }
  | { kind: "submit"; options: SubmitOptions; errors: string[]; script: Uint8Array }
  | ({ kind: "kill" | "release" | "hold" | "wait" } & JobRef)
  | { kind: "status" | "info"; id: number | null; task?: number }
  | ({ kind: "restart"; dependents: boolean } & JobRef)
  | { kind: "clean"; olderThan: number; states: FinalState[] }
  | { kind: "config" }
  | { kind: "script"; id: number }
  | { kind: "reload" }
  | { kind: "invalid"; message: string }
  | { kind: "fatal"; message: string };

/** Limits the parser enforces. */
export interface ParserLimits {
  /** Longest line in bytes, terminator included. */
  maxLine: number;
  /** Largest SRC byte count. */
  maxScript: number;
}

/** The protocol's default limits (64 KiB lines, 16 MiB scripts). */
export const DEFAULT_LIMITS: ParserLimits = { maxLine: 64 * 1024, maxScript: 16 * 1024 * 1024 };

const LF = 10;
/**
 * Characters of ENV lines a connection keeps decoded (src/client.ts splits a
 * large environment over lines of up to 60 KiB): a few environments' worth,
 * so that many connections cannot make the daemon hold much.
 */
const MAX_ENV_CACHE = 128 * 1024;
/** Any name a process environment can hold (bash exports functions as `BASH_FUNC_f%%`). */
const ENV_NAME = /^[^=\0]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const decoder = new TextDecoder();
/**
 * What a NAME may not hold: TAB (the STATUS column separator), control
 * characters, and anything some line reader takes for a line end (CR, NEL,
 * U+2028, U+2029). Each becomes a space.
 */
// deno-lint-ignore no-control-regex
const NAME_BREAKS = /[\x00-\x1f\x7f\x85\u2028\u2029]/g;

/**
 * An incremental request parser for one connection: `push` bytes as they
 * arrive, then take complete requests with `next` until it returns null.
 */
export class RequestParser {
  readonly #limits: ParserLimits;
  #buf = new Uint8Array(0);
  #start = 0;
  #end = 0;
  /** A SUBMIT being read: its options so far, then the script byte count once SRC came. */
  #submit: { options: SubmitOptions; errors: string[]; src: number | null } | null = null;
  #failed = false;
  /** ENV lines decoded on this connection, by their text (a few: a client sends the same ones). */
  readonly #envLines = new Map<string, _EnvLine>();
  #envChars = 0;

  constructor(limits: ParserLimits = DEFAULT_LIMITS) {
    this.#limits = limits;
  }

  /** Bytes received and not yet taken as requests. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Whether part of a request has arrived but not all of it. */
  get midRequest(): boolean {
    return this.#submit !== null || this.#end > this.#start;
  }

  /** Appends bytes received from the client. */
  push(chunk: Uint8Array): void {
    const have = this.#end - this.#start;
    if (this.#buf.length - this.#end < chunk.length) {
      // Reuse the space of consumed bytes; grow only for bytes still unparsed,
      // or a long-lived connection's buffer grows with all it ever received.
      if (have + chunk.length <= this.#buf.length) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const next = new Uint8Array(Math.max(this.#buf.length * 2, have + chunk.length, 4096));
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
      }
      this.#start = 0;
      this.#end = have;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** The next complete request, or null when more bytes are needed. */
  next(): Request | null {
    if (this.#failed) return null;
    for (;;) {
      const submit = this.#submit;
      if (submit?.src != null) {
        if (this.#end - this.#start < submit.src) return null;
        const script = this.#buf.slice(this.#start, this.#start + submit.src);
        this.#start += submit.src;
        this.#submit = null;
        return { kind: "submit", options: submit.options, errors: submit.errors, script };
      }
      const line = this.#line();
      if (line === null) return null;
      if (typeof line !== "string") return this.#fail(line.fatal);
      if (line.trim() === "") continue;
      const request = submit ? this.#option(submit, line) : this.#command(line);
      if (request) return request;
    }
  }

  #fail(message: string): Request {
    this.#failed = true;
    return { kind: "fatal", message };
  }

  /** The next line without its terminator, null if incomplete, or a framing error. */
  #line(): string | null | { fatal: string } {
    const i = this.#buf.subarray(this.#start, this.#end).indexOf(LF);
    if (i < 0) {
      if (this.#end - this.#start >= this.#limits.maxLine) {
        return { fatal: `Line too long: more than ${this.#limits.maxLine} bytes` };
      }
      return null;
    }
    if (i + 1 > this.#limits.maxLine) {
      return { fatal: `Line too long: more than ${this.#limits.maxLine} bytes` };
    }
    let stop = this.#start + i;
    if (stop > this.#start && this.#buf[stop - 1] === 13) stop--;
    const line = decoder.decode(this.#buf.subarray(this.#start, stop));
    this.#start += i + 1;
    return line;
  }

  #command(line: string): Request | null {
    const [word = "", ...args] = line.trim().split(/\s+/);
    const command = word.toUpperCase();
    switch (command) {
      case "PING":
        return { kind: "ping" };
      case "EXIT":
        return { kind: "exit" };
      case "SHUTDOWN":
        if (args.length === 0) return { kind: "shutdown", mode: "detach" };
        if (args.length === 1 && /^(DRAIN|KILL)$/i.test(args[0]!)) {
          return { kind: "shutdown", mode: args[0]!.toLowerCase() as ShutdownMode };
        }
        return { kind: "invalid", message: `Bad SHUTDOWN mode: ${args.join(" ")}` };
      case "SUBMIT":
        this.#submit = {
          options: { deps: [], env: [], hold: false, args: [] },
          errors: [],
          src: null,
        };
        return null;
      case "KILL":
      case "RELEASE":
      case "HOLD":
      case "WAIT": {
        const ref = args.length === 1 ? parseJobRef(args[0]!) : null;
        if (ref === null) return { kind: "invalid", message: "Bad jobid" };
        return { kind: command.toLowerCase() as "kill" | "release" | "hold" | "wait", ...ref };
      }
      case "STATUS":
      case "INFO": {
        const kind = command === "STATUS" ? "status" : "info";
        if (args.length === 0) return { kind, id: null };
        const ref = args.length === 1 ? parseJobRef(args[0]!) : null;
        if (ref === null) return { kind: "invalid", message: "Bad jobid" };
        return { kind, ...ref };
      }
      case "CLEAN":
        return parseClean(args);
      case "RESTART": {
        const ref = args.length >= 1 ? parseJobRef(args[0]!) : null;
        if (ref === null) return { kind: "invalid", message: "Bad jobid" };
        const mode = args.slice(1).join(" ").toUpperCase();
        if (mode !== "" && mode !== "DEPENDENTS") {
          return { kind: "invalid", message: `Bad RESTART mode: ${args.slice(1).join(" ")}` };
        }
        return { kind: "restart", ...ref, dependents: mode === "DEPENDENTS" };
      }
      case "SCRIPT": {
        const id = args.length === 1 ? parseJobId(args[0]!) : null;
        return id === null ? { kind: "invalid", message: "Bad jobid" } : { kind: "script", id };
      }
      case "CONFIG":
      case "RELOAD":
        if (args.length > 0) return { kind: "invalid", message: `${command} takes no arguments` };
        return command === "CONFIG" ? { kind: "config" } : { kind: "reload" };
      default:
        return { kind: "invalid", message: `Unknown command: ${word}` };
    }
  }

  /** One option line of a SUBMIT; returns a request only for a framing error. */
  #option(
    submit: { options: SubmitOptions; errors: string[]; src: number | null },
    line: string,
  ): Request | null {
    // dotAll: a CR, U+2028 or U+2029 inside a value is part of the value, not the end of the line.
    const m = /^\s*(\S+)(?:\s(.*))?$/s.exec(line)!;
    const key = m[1]!.toUpperCase();
    const value = (m[2] ?? "").trim();
    const { options, errors } = submit;
    const bad = (what: string) => errors.push(`Bad ${key} value "${value}": ${what}`);
    switch (key) {
      case "SRC": {
        if (!/^\d+$/.test(value)) return this.#fail(`Bad SRC byte count "${value}"`);
        const n = Number(value);
        if (n > this.#limits.maxScript) {
          return this.#fail(`Script too large: ${n} bytes (limit ${this.#limits.maxScript})`);
        }
        if (n === 0) errors.push("Empty script: SRC must be at least 1");
        submit.src = n;
        return null;
      }
      case "PROCS": {
        const n = parseWhole(value);
        if (n === null || n < 1) bad("expected a whole number ≥ 1");
        else options.procs = n;
        return null;
      }
      case "MEM":
        try {
          const mem = parseSize(value);
          if (mem === 0) bad("a job needs more than 0 bytes");
          else options.mem = mem;
        } catch (e) {
          bad((e as Error).message);
        }
        return null;
      case "DEPENDS":
      case "AFTEROK":
      case "AFTERANY":
      case "AFTERNOTOK": {
        const kind = (key === "DEPENDS" ? "afterok" : key.toLowerCase()) as DependencyKind;
        const refs = value.split(":").map(parseJobRef);
        if (value === "" || refs.includes(null)) bad("expected job ids separated by ':'");
        else for (const ref of refs) options.deps.push({ ...ref!, kind });
        return null;
      }
      case "STDOUT":
      case "STDERR":
      case "CWD":
        if (value === "") bad("expected a path");
        else options[key.toLowerCase() as "stdout" | "stderr" | "cwd"] = value;
        return null;
      case "NAME":
        if (value !== "") options.name = value.replace(NAME_BREAKS, " ");
        return null;
      case "ENV": {
        // A client sends the same environment with every job: each line is decoded once.
        let env = this.#envLines.get(value);
        if (env === undefined) {
          env = parseEnvLine(value);
          if (this.#envChars + value.length > MAX_ENV_CACHE) {
            this.#envLines.clear();
            this.#envChars = 0;
          }
          if (value.length <= MAX_ENV_CACHE) {
            this.#envLines.set(value, env);
            this.#envChars += value.length;
          }
        }
        for (const pair of env.pairs) options.env.push(pair);
        for (const e of env.errors) errors.push(e);
        return null;
      }
      case "UID":
      case "GID": {
        const n = parseWhole(value);
        if (n === null) bad("expected a whole number");
        else options[key.toLowerCase() as "uid" | "gid"] = n;
        return null;
      }
      case "HOLD":
        options.hold = true;
        return null;
      case "ARRAY":
        try {
          options.array = parseArraySpec(value);
        } catch (e) {
          bad((e as Error).message);
        }
        return null;
      case "PRIORITY": {
        const n = /^[+-]?\d{1,4}$/.test(value) ? Number(value) : NaN;
        if (!(Math.abs(n) <= 1000)) bad("expected a whole number from -1000 to 1000");
        else options.priority = n;
        return null;
      }
      case "NOTIFY":
        if (value === "") bad("expected a command");
        else options.notify = value;
        return null;
      case "GPUS": {
        const n = parseWhole(value);
        if (n === null) bad("expected a whole number");
        else options.gpus = n;
        return null;
      }
      case "QUEUE":
        if (!QUEUE_NAME.test(value.toLowerCase())) {
          bad("expected a queue name (letters, digits, _ and -)");
        } else options.queue = value.toLowerCase();
        return null;
      case "MAIL":
        if (!MAIL_ADDRESS.test(value)) bad("expected a mail address such as me@example.org");
        else options.mail = value;
        return null;
      case "RETRIES": {
        const n = parseWhole(value);
        if (n === null) bad("expected a whole number");
        else options.retries = n;
        return null;
      }
      case "RETRYDELAY": {
        const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
        if (!(n >= 0)) bad("expected seconds ≥ 0");
        else options.retryDelay = n;
        return null;
      }
      case "ARG":
        // One argument per line, base64 like ENV values, so that any byte (and "") survives.
        if (!BASE64.test(value)) bad("expected base64");
        else options.args.push(decodeBase64(value));
        return null;
      case "SLURMOPT":
        if (value === "") bad("expected an sbatch option");
        else (options.slurmOpts ??= []).push(value);
        return null;
      case "TIMEOUT": {
        const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
        if (!(n > 0)) bad("expected seconds > 0");
        else options.timeout = n;
        return null;
      }
      default:
        errors.push(`Unknown option: ${m[1]}`);
        return null;
    }
  }
}

/** The pairs of one ENV line, and what is wrong with it. */
interface _EnvLine {
  /** Shared by every request that sent the line: read, never changed. */
  pairs: readonly [string, string][];
  errors: readonly string[];
}

function parseEnvLine(value: string): _EnvLine {
  const pairs: [string, string][] = [];
  const errors: string[] = [];
  for (const pair of value.split(";")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const encoded = eq < 0 ? "" : pair.slice(eq + 1);
    if (eq < 0 || !ENV_NAME.test(name)) errors.push(`Bad ENV name "${name}"`);
    else if (!BASE64.test(encoded)) errors.push(`Bad ENV value for ${name}: not base64`);
    else pairs.push([name, decodeBase64(encoded)]);
  }
  return { pairs, errors };
}

/** `CLEAN <seconds> [S,F,…]`: forget jobs that ended at least that long ago (all final states by default). */
function parseClean(args: string[]): Request {
  const [age = "", states = "S,F,A,K,E", ...rest] = args;
  const seconds = /^\d+(\.\d+)?$/.test(age) ? Number(age) : NaN;
  const letters = states.toUpperCase().split(",");
  if (rest.length > 0 || !(seconds >= 0)) {
    return { kind: "invalid", message: "Bad CLEAN age: expected seconds" };
  }
  const bad = letters.find((l) => !STATES.includes(l as State) || !isFinal(l as State));
  if (bad !== undefined) {
    return { kind: "invalid", message: `Bad CLEAN state "${bad}": expected S, F, A, K or E` };
  }
  return { kind: "clean", olderThan: seconds, states: letters as FinalState[] };
}

/** A job id (`12`) or an array's task (`12_7`), or null. */
export function parseJobRef(text: string): JobRef | null {
  const m = /^(\d+)_(\d+)$/.exec(text);
  if (m === null) {
    const id = parseJobId(text);
    return id === null ? null : { id };
  }
  const id = parseJobId(m[1]!);
  const task = parseWhole(m[2]!);
  return id === null || task === null ? null : { id, task };
}

/** A job id: a positive integer, or null. */
export function parseJobId(text: string): number | null {
  const n = parseWhole(text);
  return n !== null && n >= 1 ? n : null;
}

function parseWhole(text: string): number | null {
  if (!/^\d{1,15}$/.test(text)) return null;
  return Number(text);
}

function decodeBase64(text: string): string {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return decoder.decode(bytes);
}
