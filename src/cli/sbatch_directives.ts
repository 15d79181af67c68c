/**
 * `#SBATCH` directives: a script written for Slurm's `sbatch` runs under sjq
 * unchanged. The options sjq has an equivalent for become sjq job options
 * (below the script's `#SJQ` lines and the command line, which win); the
 * others are passed to the Slurm backend (`SLURMOPT`) with a warning, never
 * dropped silently.
 *
 * | `#SBATCH` | sjq |
 * |---|---|
 * | `-c N`, `--cpus-per-task=N` | CPUs per task |
 * | `-n N`, `--ntasks=N` | procs = ntasks × cpus-per-task |
 * | `--mem=SIZE` | memory (a bare number is MiB, as in Slurm) |
 * | `--mem-per-cpu=SIZE` | memory = SIZE × procs |
 * | `-J`, `--job-name` | name |
 * | `-o`, `--output`; `-e`, `--error` | stdout, stderr (`%j %x %A %a %u %%`); stderr follows `-o` when `-e` is not given |
 * | `-D`, `--chdir` | working directory |
 * | `-t`, `--time` | timeout |
 * | `-d`, `--dependency` | afterok, afterany, afternotok, singleton (`after` waits for the end) |
 * | `-H`, `--hold` | hold |
 * | `--export` | ALL, NONE, `[ALL,]NAME[=VALUE],…` |
 * | `-G`, `--gpus`, `--gpus-per-node` (`[type:]N`); `--gres=gpu[:type][:N]` | GPUs (the type is ignored; other gres go to the Slurm backend) |
 * | `-p`, `--partition` | queue (src/queue_config.ts; the Slurm backend's partition) |
 *
 * @module
 */

import { parseDirectives } from "./directives.ts";
import { parseSize } from "../size.ts";

/** Job options from `#SBATCH` lines, written as `sjq submit` flags take them. */
export interface SbatchValues {
  procs?: string;
  mem?: string;
  name?: string;
  stdout?: string;
  stderr?: string;
  cwd?: string;
  timeout?: string;
  after?: string[];
  afterany?: string[];
  afternotok?: string[];
  hold?: boolean;
  env?: string[];
  "no-env"?: boolean;
  gpus?: string;
  queue?: string;
}

/** What the `#SBATCH` lines of a script say. */
export interface SbatchDirectives {
  /** The options sjq understands. */
  values: SbatchValues;
  /** `--dependency=singleton`: wait for every other active job of this name. */
  singleton: boolean;
  /** Options sjq has no equivalent for, as sbatch arguments, for the Slurm backend. */
  slurmOptions: string[];
  /** One line for each option that is not taken as written, for stderr. */
  warnings: string[];
}

/** An sbatch option sjq knows: its long name, short letter, and whether it takes a value. */
interface Known {
  long: string;
  short?: string;
  value: boolean;
}

const KNOWN: readonly Known[] = [
  { long: "cpus-per-task", short: "c", value: true },
  { long: "ntasks", short: "n", value: true },
  { long: "mem", value: true },
  { long: "mem-per-cpu", value: true },
  { long: "job-name", short: "J", value: true },
  { long: "output", short: "o", value: true },
  { long: "error", short: "e", value: true },
  { long: "chdir", short: "D", value: true },
  { long: "time", short: "t", value: true },
  { long: "dependency", short: "d", value: true },
  { long: "hold", short: "H", value: false },
  { long: "export", value: true },
  { long: "gpus", short: "G", value: true },
  { long: "gpus-per-node", value: true },
  { long: "gres", value: true },
  { long: "partition", short: "p", value: true },
];

/** Short sbatch options of others that take a value (so that `-p gpu` stays one option). */
const OTHER_SHORT_WITH_VALUE = new Set("ACLMNSabikmpqwx".split(""));

/**
 * Reads the `#SBATCH` lines of a script (the leading comment block, as sbatch
 * reads them) into sjq job options.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSbatchDirectives } from "./sbatch_directives.ts";
 *
 * const script = new TextEncoder().encode("#!/bin/sh\n#SBATCH -c 2 -n 2 --mem=100\n#SBATCH -p gpu -q high\necho\n");
 * const { values, slurmOptions } = parseSbatchDirectives(script, "job.sh");
 * assert.deepEqual(values, { procs: "4", mem: "100M", queue: "gpu" });
 * assert.deepEqual(slurmOptions, ["-q", "high"]);
 * ```
 *
 * @param source How to name the script in messages (its path).
 * @throws {SyntaxError} When a directive cannot be read or its value cannot be used; the message names the line.
 */
export function parseSbatchDirectives(script: Uint8Array, source: string): SbatchDirectives {
  const given = new Map<string, { value: string; where: string }[]>();
  const result: SbatchDirectives = { values: {}, singleton: false, slurmOptions: [], warnings: [] };
  let directives;
  try {
    directives = parseDirectives(script, "SBATCH");
  } catch (e) {
    throw new SyntaxError(`${source}: bad #SBATCH directive: ${(e as Error).message}`);
  }
  for (const { line, words } of directives) {
    const where = `${source}:${line}`;
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!;
      const option = splitOption(word, words[i + 1]);
      if (option === null) {
        throw new SyntaxError(`${where}: bad #SBATCH directive: unexpected argument "${word}"`);
      }
      if (option.usedNext) i++;
      if (option.known === null) {
        result.slurmOptions.push(...option.words);
        result.warnings.push(
          `${where}: #SBATCH ${
            option.words.join(" ")
          }: no sjq equivalent; only the Slurm backend (sjq.backend=slurm) uses it`,
        );
        continue;
      }
      if (option.known.value && option.value === undefined) {
        throw new SyntaxError(`${where}: bad #SBATCH directive: ${word} needs a value`);
      }
      const list = given.get(option.known.long) ?? [];
      list.push({ value: option.value ?? "", where });
      given.set(option.known.long, list);
    }
  }
  apply(given, result);
  return result;
}

/** One option of a directive line: which known option it is (null: another), its value, its words. */
function splitOption(
  word: string,
  next: string | undefined,
): { known: Known | null; value?: string; words: string[]; usedNext: boolean } | null {
  let m = /^--([^=]+)(?:=(.*))?$/s.exec(word);
  if (m) {
    const known = KNOWN.find((k) => k.long === m![1]) ?? null;
    if (known === null) return { known, words: [word], usedNext: false };
    if (!known.value || m[2] !== undefined) {
      return {
        known,
        ...(m[2] === undefined ? {} : { value: m[2] }),
        words: [word],
        usedNext: false,
      };
    }
    return next === undefined
      ? { known, words: [word], usedNext: false }
      : { known, value: next, words: [word, next], usedNext: true };
  }
  m = /^-([A-Za-z])(.*)$/s.exec(word);
  if (!m) return null;
  const letter = m[1]!;
  const known = KNOWN.find((k) => k.short === letter) ?? null;
  const takesValue = known === null ? OTHER_SHORT_WITH_VALUE.has(letter) : known.value;
  if (!takesValue || m[2] !== "") {
    return { known, ...(takesValue ? { value: m[2]! } : {}), words: [word], usedNext: false };
  }
  return next === undefined
    ? { known, words: [word], usedNext: false }
    : { known, value: next, words: [word, next], usedNext: true };
}

/** Turns the known options (the last of each wins, as in sbatch) into sjq values. */
function apply(
  given: Map<string, { value: string; where: string }[]>,
  result: SbatchDirectives,
): void {
  const last = (long: string) => given.get(long)?.at(-1);
  const v = result.values;
  const whole = (long: string): number | undefined => {
    const g = last(long);
    if (g === undefined) return undefined;
    if (!/^\d+$/.test(g.value) || Number(g.value) < 1) {
      throw new SyntaxError(
        `${g.where}: bad #SBATCH --${long} "${g.value}": expected a whole number ≥ 1`,
      );
    }
    return Number(g.value);
  };
  const cpus = whole("cpus-per-task");
  const tasks = whole("ntasks");
  const procs = (cpus ?? 1) * (tasks ?? 1);
  if (cpus !== undefined || tasks !== undefined) v.procs = String(procs);

  const mem = last("mem");
  const perCpu = last("mem-per-cpu");
  if (mem !== undefined && perCpu !== undefined) {
    throw new SyntaxError(`${perCpu.where}: #SBATCH --mem and --mem-per-cpu exclude each other`);
  }
  if (mem !== undefined) {
    const bytes = slurmSize(mem.value, mem.where, "mem");
    if (bytes === 0) {
      result.warnings.push(
        `${mem.where}: #SBATCH --mem=0 (all of a node's memory): sjq uses its default`,
      );
    } else v.mem = mem.value.match(/^\d+$/) ? `${mem.value}M` : mem.value;
  }
  if (perCpu !== undefined) {
    v.mem = `${slurmSize(perCpu.value, perCpu.where, "mem-per-cpu") * procs}B`;
  }

  const name = last("job-name");
  if (name !== undefined) v.name = name.value;
  const output = last("output");
  const error = last("error");
  if (output !== undefined) v.stdout = output.value;
  if (error !== undefined) v.stderr = error.value;
  // As in sbatch: without --error, stderr goes where stdout goes.
  else if (output !== undefined) v.stderr = output.value;
  const chdir = last("chdir");
  if (chdir !== undefined) v.cwd = chdir.value;
  const time = last("time");
  if (time !== undefined) {
    const seconds = slurmTime(time.value, time.where);
    if (seconds !== null) v.timeout = String(seconds);
  }
  if (given.has("hold")) v.hold = true;
  const partition = last("partition");
  if (partition !== undefined) v.queue = partition.value;
  for (const dep of given.get("dependency") ?? []) dependency(dep.value, dep.where, result);
  const exp = last("export");
  if (exp !== undefined) exportEnv(exp.value, v);
  gpus(given, result);
}

/** `--gpus`/`-G`/`--gpus-per-node=[type:]N` and the GPUs of `--gres=gpu[:type][:N],…` (the last one given wins). */
function gpus(
  given: Map<string, { value: string; where: string }[]>,
  result: SbatchDirectives,
): void {
  let count: { n: number; where: string; typed: boolean } | undefined;
  const take = (text: string, where: string, option: string) => {
    const m = /^(?:([A-Za-z][\w.-]*):)?(\d+)$/.exec(text);
    if (m === null) {
      throw new SyntaxError(`${where}: bad #SBATCH ${option} "${text}": expected [type:]N`);
    }
    count = { n: Number(m[2]), where, typed: m[1] !== undefined };
  };
  const line = (where: string) => Number(where.slice(where.lastIndexOf(":") + 1));
  const all = ["gpus", "gpus-per-node", "gres"]
    .flatMap((long) => (given.get(long) ?? []).map((g) => ({ long, ...g })))
    .sort((a, b) => line(a.where) - line(b.where));
  for (const g of all) {
    if (g.long !== "gres") {
      take(g.value, g.where, `--${g.long}`);
      continue;
    }
    const others: string[] = [];
    for (const part of g.value.split(",").filter((p) => p !== "")) {
      if (part !== "gpu" && !part.startsWith("gpu:")) others.push(part);
      else take(part === "gpu" ? "1" : part.slice(4), g.where, "--gres=gpu");
    }
    if (others.length > 0) {
      result.slurmOptions.push(`--gres=${others.join(",")}`);
      result.warnings.push(
        `${g.where}: #SBATCH --gres=${
          others.join(",")
        }: no sjq equivalent; only the Slurm backend (sjq.backend=slurm) uses it`,
      );
    }
  }
  if (count === undefined) return;
  if (count.typed) {
    result.warnings.push(`${count.where}: #SBATCH GPU type ignored: sjq counts GPUs`);
  }
  result.values.gpus = String(count.n);
}

/** A Slurm memory size in bytes: a bare number is MiB; units K, M, G, T. */
function slurmSize(text: string, where: string, long: string): number {
  const plain = /^\d+$/.test(text) ? `${text}M` : text;
  try {
    return parseSize(plain);
  } catch (e) {
    throw new SyntaxError(`${where}: bad #SBATCH --${long} "${text}": ${(e as Error).message}`);
  }
}

/**
 * A Slurm time limit in seconds, or null for none: `M`, `M:S`, `H:M:S`,
 * `D-H`, `D-H:M`, `D-H:M:S`, `UNLIMITED`/`INFINITE`.
 */
export function slurmTime(text: string, where = "time"): number | null {
  if (/^(unlimited|infinite)$/i.test(text)) return null;
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(text);
  if (!m) {
    throw new SyntaxError(
      `${where}: bad #SBATCH --time "${text}": expected minutes, M:S, H:M:S, D-H, D-H:M or D-H:M:S`,
    );
  }
  const [, days, a, b, c] = m;
  const n = (s: string | undefined) => Number(s ?? 0);
  let seconds: number;
  if (days !== undefined) seconds = n(days) * 86400 + n(a) * 3600 + n(b) * 60 + n(c);
  else if (c !== undefined) seconds = n(a) * 3600 + n(b) * 60 + n(c);
  else if (b !== undefined) seconds = n(a) * 60 + n(b);
  else seconds = n(a) * 60;
  return seconds > 0 ? seconds : null;
}

/** `--dependency=KIND:ID[:ID…][,KIND:ID…]`, and `singleton`. */
function dependency(text: string, where: string, result: SbatchDirectives): void {
  if (text.includes("?")) {
    throw new SyntaxError(
      `${where}: #SBATCH --dependency "${text}": '?' (any one of) is not supported by sjq`,
    );
  }
  for (const part of text.split(",")) {
    if (part === "singleton") {
      result.singleton = true;
      continue;
    }
    const [kind = "", ...ids] = part.split(":");
    if (ids.length === 0 || ids.some((id) => !/^\d+(\+\d+)?$/.test(id))) {
      throw new SyntaxError(`${where}: bad #SBATCH --dependency "${part}": expected KIND:ID[:ID…]`);
    }
    if (ids.some((id) => id.includes("+"))) {
      result.warnings.push(`${where}: #SBATCH --dependency ${part}: the +time delays are ignored`);
    }
    const plain = ids.map((id) => id.replace(/\+.*$/, "")).join(":");
    const v = result.values;
    const add = (key: "after" | "afterany" | "afternotok") => (v[key] ??= []).push(plain);
    switch (kind) {
      case "afterok":
        add("after");
        break;
      case "afterany":
        add("afterany");
        break;
      case "afternotok":
        add("afternotok");
        break;
      case "after":
      case "afterburstbuffer":
        result.warnings.push(
          `${where}: #SBATCH --dependency ${kind}: sjq waits for the end (afterany), not the start`,
        );
        add("afterany");
        break;
      case "aftercorr":
        result.warnings.push(`${where}: #SBATCH --dependency aftercorr: taken as afterok`);
        add("after");
        break;
      default:
        throw new SyntaxError(
          `${where}: bad #SBATCH --dependency "${part}": unknown kind "${kind}" (afterok, afterany, afternotok, after, singleton)`,
        );
    }
  }
}

/** `--export`: ALL (sjq's default), NONE, or `[ALL,]NAME[=VALUE],…`. */
function exportEnv(text: string, v: SbatchValues): void {
  const parts = text.split(",").filter((p) => p !== "");
  const upper = parts.map((p) => p.toUpperCase());
  if (upper.includes("NONE") || upper.includes("NIL")) {
    v["no-env"] = true;
    return;
  }
  if (!upper.includes("ALL")) v["no-env"] = true;
  const names = parts.filter((_, i) => upper[i] !== "ALL");
  if (names.length > 0) v.env = names;
}
