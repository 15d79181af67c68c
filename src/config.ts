/**
 * The effective configuration. Each key is taken from the first place that sets it: a
 * command-line flag, an `SJQ_*` environment variable, the rc file (`$SJQ_CONFIG` or
 * `~/.sjqrc`), or the built-in default.
 *
 * @module
 */

import { formatDuration, parseDuration } from "./duration.ts";
import { type IniEntry, parseIni } from "./ini.ts";
import { dirname, resolvePath } from "./path.ts";
import { formatSize, parseSize } from "./size.ts";
import { parseGpus } from "./gpus.ts";
import { parseQueues, queueKey, type QueueLimits } from "./queue_config.ts";

/** The effective configuration of a client or daemon. Sizes are in bytes, durations in seconds. */
export interface Config {
  /** `sjq.socket`: the daemon's Unix socket. */
  socket: string;
  /** `sjq.logfile`: the daemon's log; null leaves the choice to the caller. */
  logfile: string | null;
  /** `sjq.daemon`: whether `sjq daemon` detaches. */
  daemon: boolean;
  /** `sjq.pidfile`: where the daemon writes its process id; null for nowhere. */
  pidfile: string | null;
  /** `sjq.autoshutdown`: whether an idle daemon exits after `waittime`. */
  autoshutdown: boolean;
  /** `sjq.schedtime`: seconds between periodic scheduling passes, more than 0. */
  schedtime: number;
  /** `sjq.waittime`: seconds an idle daemon waits before an autoshutdown. */
  waittime: number;
  /** `sjq.maxprocs`: CPUs shared by running jobs, at least 1. */
  maxprocs: number;
  /** `sjq.maxmem`: memory shared by running jobs; null for unlimited. */
  maxmem: number | null;
  /** `sjq.defaults.procs`: CPUs of a job submitted without PROCS, at most `maxprocs`. */
  defaultProcs: number;
  /** `sjq.defaults.mem`: memory of a job submitted without MEM, at most `maxmem`. */
  defaultMem: number;
  /** `sjq.db`: the job database. */
  db: string;
  /** `sjq.keepdone`: seconds finished jobs are kept; 0 keeps them forever. */
  keepdone: number;
  /** `sjq.killgrace`: seconds from SIGTERM to SIGKILL when a running job is killed. */
  killgrace: number;
  /** `sjq.maxscript`: the largest script SUBMIT accepts. */
  maxscript: number;
  /** `sjq.maxconnections`: client connections the daemon serves at once; null derives it from the file-descriptor limit. */
  maxconnections: number | null;
  /** `sjq.autostart`: whether a client starts the daemon when none answers. */
  autostart: boolean;
  /** `sjq.backend`: the executor that runs jobs (src/executors.ts), e.g. `local`. */
  backend: string;
  /** `sjq.multiuser`: whether a root daemon serves every user, each through a socket of their own. */
  multiuser: boolean;
  /** `sjq.userdir`: the directory of the per-user sockets of a multi-user daemon. */
  userdir: string;
  /** `sjq.user.minuid`: the lowest uid (but root's) that may submit to a multi-user daemon. */
  minUid: number;
  /** `sjq.user.maxprocs`: CPUs one user's running jobs may hold together; null for no limit. */
  userMaxprocs: number | null;
  /** `sjq.user.maxjobs`: jobs one user may have waiting or running; null for no limit. */
  userMaxjobs: number | null;
  /** `sjq.slurm.options`: sbatch arguments for every job of the Slurm backend; null for none. */
  slurmOptions: string | null;
  /** `sjq.slurm.poll`: longest interval between two polls of Slurm, in seconds. */
  slurmPoll: number;
  /** `sjq.contain`: whether a job's escaped descendants are ended with it. */
  contain: boolean;
  /** `sjq.gpus`: the GPU device ids jobs are given (`CUDA_VISIBLE_DEVICES`); empty for none. */
  gpus: string[];
  /** `sjq.defaults.queue`: the queue of a job submitted without one; it always exists. */
  defaultQueue: string;
  /** The queues configured by `[sjq.queue.NAME]` sections (src/queue_config.ts); `defaultQueue` exists besides. */
  queues: Record<string, QueueLimits>;
  /** `sjq.notify`: a command run when any job ends (as `--notify`); null for none. */
  notify: string | null;
  /** `sjq.mail`: where a mail goes when any job ends (as `--mail`); null for nowhere. */
  mail: string | null;
  /** `sjq.sendmail`: the sendmail program mails go through; null finds one (src/mail.ts). */
  sendmail: string | null;
  /** `sjq.memmargin`: memory kept free beyond what a starting job declares (src/memory_gate.ts); 0 for none. */
  memmargin: number;
  /** `sjq.enforce`: `memory` limits each job to its declared memory (src/memory_cgroup.ts); `none` does not. */
  enforce: "none" | "memory";
}

/** How a configuration value is written. */
export type ConfigKind =
  | "path"
  | "bool"
  | "int"
  | "size"
  | "duration"
  | "word"
  | "text"
  | "devices";

/** The description of one configuration key: a row of {@linkcode CONFIG_KEYS}. */
export interface ConfigKeyInfo {
  /** The dotted key, as written in the rc file. */
  key: string;
  /** The {@linkcode Config} field it sets. */
  field: keyof Config;
  /** How its value is written. */
  kind: ConfigKind;
  /** The default as written in the rc file; empty means the one `doc` describes. */
  default: string;
  /** The environment variable that sets it. */
  env: string;
  /** The command-line option that sets it, without `--`, as error messages name it. */
  flag: string;
  /** One line for help texts and the README. */
  doc: string;
}

/** Every configuration key, in the order help texts list them. */
export const CONFIG_KEYS = [
  {
    key: "sjq.socket",
    field: "socket",
    kind: "path",
    default: "~/.sjq.sock",
    env: "SJQ_SOCKET",
    flag: "socket",
    doc: "Unix socket of the daemon",
  },
  {
    key: "sjq.logfile",
    field: "logfile",
    kind: "path",
    default: "",
    env: "SJQ_LOGFILE",
    flag: "logfile",
    doc: "Daemon log; if empty, stderr in the foreground and ~/.sjq.log when detached",
  },
  {
    key: "sjq.daemon",
    field: "daemon",
    kind: "bool",
    default: "false",
    env: "SJQ_DAEMON",
    flag: "daemon",
    doc: "Whether `sjq daemon` detaches from the terminal",
  },
  {
    key: "sjq.pidfile",
    field: "pidfile",
    kind: "path",
    default: "",
    env: "SJQ_PIDFILE",
    flag: "pidfile",
    doc: "File the daemon writes its process id to; none if empty",
  },
  {
    key: "sjq.autoshutdown",
    field: "autoshutdown",
    kind: "bool",
    default: "true",
    env: "SJQ_AUTOSHUTDOWN",
    flag: "autoshutdown",
    doc: "Whether the daemon exits after sjq.waittime with no job running or waiting",
  },
  {
    key: "sjq.schedtime",
    field: "schedtime",
    kind: "duration",
    default: "10s",
    env: "SJQ_SCHEDTIME",
    flag: "schedtime",
    doc: "Interval of the periodic scheduling pass (a safety net; scheduling is event-driven)",
  },
  {
    key: "sjq.waittime",
    field: "waittime",
    kind: "duration",
    default: "60s",
    env: "SJQ_WAITTIME",
    flag: "waittime",
    doc: "Idle time after which the daemon exits if sjq.autoshutdown is on",
  },
  {
    key: "sjq.maxprocs",
    field: "maxprocs",
    kind: "int",
    default: "",
    env: "SJQ_MAXPROCS",
    flag: "maxprocs",
    doc: "CPUs shared by running jobs; all CPUs if empty",
  },
  {
    key: "sjq.maxmem",
    field: "maxmem",
    kind: "size",
    default: "",
    env: "SJQ_MAXMEM",
    flag: "maxmem",
    doc: "Memory shared by running jobs; unlimited if empty",
  },
  {
    key: "sjq.defaults.procs",
    field: "defaultProcs",
    kind: "int",
    default: "1",
    env: "SJQ_DEFAULTS_PROCS",
    flag: "default-procs",
    doc: "CPUs of a job submitted without a CPU count",
  },
  {
    key: "sjq.defaults.mem",
    field: "defaultMem",
    kind: "size",
    default: "2G",
    env: "SJQ_DEFAULTS_MEM",
    flag: "default-mem",
    doc: "Memory of a job submitted without a memory size",
  },
  {
    key: "sjq.db",
    field: "db",
    kind: "path",
    default: "~/.sjq.db",
    env: "SJQ_DB",
    flag: "db",
    doc: "Job database of the daemon",
  },
  {
    key: "sjq.keepdone",
    field: "keepdone",
    kind: "duration",
    default: "30d",
    env: "SJQ_KEEPDONE",
    flag: "keepdone",
    doc: "How long finished jobs are kept; 0 keeps them forever",
  },
  {
    key: "sjq.killgrace",
    field: "killgrace",
    kind: "duration",
    default: "10s",
    env: "SJQ_KILLGRACE",
    flag: "killgrace",
    doc: "Time from SIGTERM to SIGKILL when a running job is killed",
  },
  {
    key: "sjq.maxscript",
    field: "maxscript",
    kind: "size",
    default: "16M",
    env: "SJQ_MAXSCRIPT",
    flag: "maxscript",
    doc: "Largest job script the daemon accepts",
  },
  {
    key: "sjq.maxconnections",
    field: "maxconnections",
    kind: "int",
    default: "",
    env: "SJQ_MAXCONNECTIONS",
    flag: "maxconnections",
    doc: "Client connections served at once, more are refused; half the open-file limit if empty",
  },
  {
    key: "sjq.autostart",
    field: "autostart",
    kind: "bool",
    default: "true",
    env: "SJQ_AUTOSTART",
    flag: "autostart",
    doc: "Whether a client starts the daemon when none is running",
  },
  {
    key: "sjq.backend",
    field: "backend",
    kind: "word",
    default: "local",
    env: "SJQ_BACKEND",
    flag: "backend",
    doc: "What runs the jobs: local (processes on this machine) or slurm (docs/slurm.md)",
  },
  {
    key: "sjq.slurm.options",
    field: "slurmOptions",
    kind: "text",
    default: "",
    env: "SJQ_SLURM_OPTIONS",
    flag: "slurm-options",
    doc: "sbatch options for every job of the Slurm backend, e.g. --partition=batch",
  },
  {
    key: "sjq.slurm.poll",
    field: "slurmPoll",
    kind: "duration",
    default: "5s",
    env: "SJQ_SLURM_POLL",
    flag: "slurm-poll",
    doc: "Longest interval between two polls of Slurm (idle polls back off to it)",
  },
  {
    key: "sjq.multiuser",
    field: "multiuser",
    kind: "bool",
    default: "false",
    env: "SJQ_MULTIUSER",
    flag: "multiuser",
    doc: "A root daemon for every user: a socket each in sjq.userdir, jobs run as their submitter",
  },
  {
    key: "sjq.userdir",
    field: "userdir",
    kind: "path",
    default: "/run/sjq/u",
    env: "SJQ_USERDIR",
    flag: "userdir",
    doc: "Where a multi-user daemon puts each user's socket (<uid>.sock)",
  },
  {
    key: "sjq.user.minuid",
    field: "minUid",
    kind: "int",
    default: "1000",
    env: "SJQ_USER_MINUID",
    flag: "user-minuid",
    doc: "Lowest uid but root's with a socket of a multi-user daemon (system accounts are below)",
  },
  {
    key: "sjq.user.maxprocs",
    field: "userMaxprocs",
    kind: "int",
    default: "",
    env: "SJQ_USER_MAXPROCS",
    flag: "user-maxprocs",
    doc: "CPUs the running jobs of one user may hold together; no limit if empty",
  },
  {
    key: "sjq.user.maxjobs",
    field: "userMaxjobs",
    kind: "int",
    default: "",
    env: "SJQ_USER_MAXJOBS",
    flag: "user-maxjobs",
    doc: "Jobs one user may have queued, held or running at once; no limit if empty",
  },
  {
    key: "sjq.contain",
    field: "contain",
    kind: "bool",
    default: "true",
    env: "SJQ_CONTAIN",
    flag: "contain",
    doc: "End every process a job started (also those that left its group or session) with it",
  },
  {
    key: "sjq.gpus",
    field: "gpus",
    kind: "devices",
    default: "",
    env: "SJQ_GPUS",
    flag: "gpus",
    doc:
      "GPUs for jobs: a count N (devices 0..N-1) or device ids 0,1,3; from nvidia-smi -L if empty",
  },
  {
    key: "sjq.defaults.queue",
    field: "defaultQueue",
    kind: "word",
    default: "default",
    env: "SJQ_DEFAULTS_QUEUE",
    flag: "default-queue",
    doc: "Queue of a job submitted without --queue; other queues are [sjq.queue.NAME] sections",
  },
  {
    key: "sjq.notify",
    field: "notify",
    kind: "text",
    default: "",
    env: "SJQ_NOTIFY",
    flag: "notify",
    doc: "Command run by /bin/sh when any job ends (as submit --notify); none if empty",
  },
  {
    key: "sjq.mail",
    field: "mail",
    kind: "text",
    default: "",
    env: "SJQ_MAIL",
    flag: "mail",
    doc: "Address mailed when any job ends (as submit --mail, through sendmail); none if empty",
  },
  {
    key: "sjq.sendmail",
    field: "sendmail",
    kind: "path",
    default: "",
    env: "SJQ_SENDMAIL",
    flag: "sendmail",
    doc:
      "The sendmail program for --mail; if empty, /usr/sbin/sendmail, /usr/lib/sendmail or PATH's",
  },
  {
    key: "sjq.enforce",
    field: "enforce",
    kind: "word",
    default: "none",
    env: "SJQ_ENFORCE",
    flag: "enforce",
    doc:
      "memory: the kernel ends a job that takes more than it declared (cgroup v2); none: it does not",
  },
  {
    key: "sjq.memmargin",
    field: "memmargin",
    kind: "size",
    default: "256M",
    env: "SJQ_MEMMARGIN",
    flag: "memmargin",
    doc:
      "A job starts only while MemAvailable holds its memory and this much more (0 for no margin)",
  },
] as const satisfies readonly ConfigKeyInfo[];

/** `sjq.maxprocs` of the Slurm backend when it is not set: no limit of sjq's own. */
export const UNLIMITED_PROCS = 1_000_000;

/** A configuration key by its dotted name, e.g. `sjq.maxprocs`. */
export type ConfigKey = (typeof CONFIG_KEYS)[number]["key"];

/** What {@linkcode loadConfig} reads. */
export interface ConfigInput {
  /** Values given on the command line, as typed. */
  flags: Partial<Record<ConfigKey, string>>;
  /** The environment, usually `Deno.env.toObject()`. */
  env: Record<string, string | undefined>;
  /** The user's home directory: where `~` points and the rc file lives. */
  home: string;
  /** The number of CPUs: the default of `sjq.maxprocs`. */
  cpus: number;
  /**
   * Finds the GPUs (src/gpus.ts `detectGpus`): the default of `sjq.gpus`,
   * called only when it is set nowhere. Without it (clients) there are none.
   */
  gpus?: () => readonly string[];
  /** The directory relative flag and environment paths start from; defaults to `Deno.cwd()`. */
  cwd?: string;
  /** Reads a file, returning null if it does not exist; defaults to `Deno.readTextFileSync`. */
  readFile?: (path: string) => string | null;
  /**
   * The user's uid: when given and `sjq.socket` is set nowhere, the socket a
   * multi-user daemon made for this user (`<sjq.userdir>/<uid>.sock`) is the
   * default if it exists (`exists`, by default a stat).
   */
  uid?: number;
  exists?: (path: string) => boolean;
}

/** The outcome of {@linkcode loadConfig}. */
export interface LoadedConfig {
  /** The effective configuration. */
  config: Config;
  /** Where each value came from: `flag`, `env SJQ_X`, `<file>:<line>` or `default`. */
  sources: Record<ConfigKey, string>;
  /** Problems that did not stop loading, one sentence each, for stderr. */
  warnings: string[];
  /** The rc file that was read, or null if there was none. */
  file: string | null;
}

/** A configuration that cannot be used: a bad value, an unreadable rc file, clashing limits. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Where a value was found: `place` names it in messages, `base` resolves relative paths. */
interface Setting {
  raw: string;
  source: string;
  place: string;
  base: string;
}

const BOOLEANS = new Map<string, boolean>([
  ...["t", "true", "yes", "on", "1"].map((word) => [word, true] as const),
  ...["f", "false", "no", "off", "0"].map((word) => [word, false] as const),
]);

/**
 * Loads the effective configuration from flags, then environment variables, then the rc file,
 * then the defaults. An empty flag or rc value selects the default; an empty environment variable
 * counts as unset. `~` starts a path in the home directory; other relative paths are relative to
 * `cwd` for flags and environment variables and to the rc file's directory for rc values.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./config.ts";
 *
 * const { config, sources } = loadConfig({
 *   flags: { "sjq.maxprocs": "2" },
 *   env: { SJQ_MAXMEM: "8G" },
 *   home: "/home/u",
 *   cpus: 8,
 *   readFile: () => "[sjq]\nmaxprocs = 4\nsocket = run/sjq.sock\n",
 * });
 * assert.equal(config.maxprocs, 2);
 * assert.equal(config.maxmem, 8 * 1024 ** 3);
 * assert.equal(config.socket, "/home/u/run/sjq.sock");
 * assert.equal(sources["sjq.socket"], "/home/u/.sjqrc:3");
 * ```
 *
 * @param input The flags, environment and machine facts to load from.
 * @returns The configuration, where each value came from, and warnings such as unknown rc keys.
 * @throws {ConfigError} When a value is invalid, the rc file cannot be read or parsed, or a
 * default exceeds its limit (`sjq.defaults.procs` > `sjq.maxprocs`, `sjq.defaults.mem` >
 * `sjq.maxmem`).
 */
export function loadConfig(input: ConfigInput): LoadedConfig {
  const { flags, env, home, cpus, cwd = Deno.cwd(), readFile = _readTextFile } = input;
  const file = _path(env.SJQ_CONFIG || "~/.sjqrc", cwd, home);
  const entries = _readIni(file, readFile);
  const warnings: string[] = [];
  if (entries === null && env.SJQ_CONFIG) {
    warnings.push(`Configuration file "${file}" named by SJQ_CONFIG does not exist`);
  }
  const fromFile = new Map<string, IniEntry>();
  for (const entry of entries ?? []) {
    if (queueKey(entry.key) === null && !CONFIG_KEYS.some((row) => row.key === entry.key)) {
      warnings.push(`Unknown configuration key "${entry.key}" in ${file}:${entry.line} (ignored)`);
    }
    fromFile.set(entry.key, entry);
  }

  const setting = (row: (typeof CONFIG_KEYS)[number]): Setting => {
    const flag = flags[row.key];
    if (flag !== undefined) {
      return { raw: flag, source: "flag", place: `--${row.flag}`, base: cwd };
    }
    const fromEnv = env[row.env];
    if (fromEnv) {
      return {
        raw: fromEnv,
        source: `env ${row.env}`,
        place: `environment variable ${row.env}`,
        base: cwd,
      };
    }
    const entry = fromFile.get(row.key);
    if (entry) {
      const place = `${file}:${entry.line}`;
      return { raw: entry.value, source: place, place, base: dirname(file) };
    }
    return { raw: row.default, source: "default", place: "the default", base: home };
  };
  const settings = {} as Record<ConfigKey, Setting>;
  const sources = {} as Record<ConfigKey, string>;
  const values: Record<string, unknown> = {};
  for (const row of CONFIG_KEYS) {
    settings[row.key] = setting(row);
    sources[row.key] = settings[row.key].source;
    values[row.field] = row.kind === "devices" && !(settings[row.key].raw.trim() || row.default)
      ? [...(input.gpus?.() ?? [])]
      : _value(row, settings[row.key], home, cpus);
  }
  const config = values as unknown as Config;
  const queues = parseQueues(
    entries ?? [],
    (line) => `${file}:${line}`,
    (message) => new ConfigError(message),
  );
  warnings.push(...queues.warnings);
  config.queues = queues.queues;
  if (input.uid !== undefined && sources["sjq.socket"] === "default") {
    const own = `${config.userdir.replace(/\/+$/, "")}/${input.uid}.sock`;
    if ((input.exists ?? _exists)(own)) {
      config.socket = own;
      sources["sjq.socket"] = "default (the multi-user daemon's socket for this user)";
    }
  }

  const describe = (key: ConfigKey, value: string) =>
    `${key} = ${value} (from ${settings[key].place})`;
  if (config.enforce !== "none" && config.enforce !== "memory") {
    throw new ConfigError(
      `Invalid value "${settings["sjq.enforce"].raw}" for sjq.enforce in ${
        settings["sjq.enforce"].place
      }: expected none or memory`,
    );
  }
  // Slurm schedules the cluster: sjq's own limits apply only when they are set.
  if (config.backend === "slurm" && sources["sjq.maxprocs"] === "default") {
    config.maxprocs = UNLIMITED_PROCS;
  }
  // A default job size larger than the limit follows the limit; a configured one is an error.
  if (config.defaultProcs > config.maxprocs) {
    if (sources["sjq.defaults.procs"] !== "default") {
      throw new ConfigError(
        `${describe("sjq.defaults.procs", String(config.defaultProcs))} is larger than ` +
          describe("sjq.maxprocs", String(config.maxprocs)),
      );
    }
    config.defaultProcs = config.maxprocs;
  }
  if (config.maxmem !== null && config.defaultMem > config.maxmem) {
    if (sources["sjq.defaults.mem"] !== "default") {
      throw new ConfigError(
        `${describe("sjq.defaults.mem", formatSize(config.defaultMem))} is larger than ` +
          describe("sjq.maxmem", formatSize(config.maxmem)),
      );
    }
    config.defaultMem = config.maxmem;
  }
  return { config, sources, warnings, file: entries === null ? null : file };
}

/** Parses one value by its key's kind; an empty value means the key's default. */
function _value(row: ConfigKeyInfo, setting: Setting, home: string, cpus: number): unknown {
  const text = setting.raw.trim() || row.default;
  if (text === "") return row.key === "sjq.maxprocs" ? cpus : null;
  const invalid = (expected: string) =>
    new ConfigError(
      `Invalid value "${setting.raw}" for ${row.key} in ${setting.place}: expected ${expected}`,
    );
  switch (row.kind) {
    case "path":
      return _path(text, setting.base, home);
    case "bool": {
      const value = BOOLEANS.get(text.toLowerCase());
      if (value === undefined) throw invalid("true or false (or yes/no, on/off, T/F, 1/0)");
      return value;
    }
    case "int": {
      const value = Number(text);
      if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
        throw invalid("a whole number ≥ 1");
      }
      return value;
    }
    case "size": {
      let bytes: number;
      try {
        bytes = parseSize(text);
      } catch {
        throw invalid("a size such as 512M, 2G or 1.5T");
      }
      // No job fits in 0 bytes of memory, and no script in a 0-byte limit; a margin may be 0.
      if (bytes === 0 && row.key !== "sjq.memmargin") throw invalid("a size above 0");
      return bytes;
    }
    case "text":
      return text;
    case "devices":
      try {
        return parseGpus(text);
      } catch {
        throw invalid("a GPU count such as 2, or device ids such as 0,1,3");
      }
    case "word":
      if (!/^[a-z][a-z0-9_-]*$/i.test(text)) throw invalid("a name such as local");
      return text.toLowerCase();
    case "duration": {
      let seconds: number;
      try {
        seconds = parseDuration(text);
      } catch {
        throw invalid("a duration such as 90s, 15m, 2h or 1h30m");
      }
      // A zero interval would make the daemon's periodic pass spin.
      if (seconds === 0 && row.key === "sjq.schedtime") throw invalid("a duration above 0");
      return seconds;
    }
  }
}

/** Expands a leading `~` to `home` and resolves the result against `base`. */
function _path(text: string, base: string, home: string): string {
  return resolvePath(base, text === "~" || text.startsWith("~/") ? home + text.slice(1) : text);
}

/** Reads and parses the rc file; null if it does not exist. */
function _readIni(file: string, readFile: (path: string) => string | null): IniEntry[] | null {
  let text: string | null;
  try {
    text = readFile(file);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`Cannot read configuration file "${file}": ${detail}`, { cause: error });
  }
  try {
    return text === null ? null : parseIni(text, file);
  } catch (error) {
    throw new ConfigError((error as SyntaxError).message, { cause: error });
  }
}

function _exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function _readTextFile(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/**
 * A configuration value as the rc file writes it (`2G`, `1m00s`, `true`);
 * empty for none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CONFIG_KEYS, formatConfigValue } from "./config.ts";
 *
 * const maxmem = CONFIG_KEYS.find((k) => k.key === "sjq.maxmem")!;
 * assert.equal(formatConfigValue(maxmem, 8 * 1024 ** 3), "8G");
 * assert.equal(formatConfigValue(maxmem, null), "");
 * ```
 */
export function formatConfigValue(
  row: ConfigKeyInfo,
  value: string | number | boolean | readonly string[] | null,
): string {
  if (value === null) return "";
  if (Array.isArray(value)) {
    // One numeric id alone would read back as a count.
    return value.length === 0 ? "0" : value.join(",") + (/^\d+$/.test(value.join(",")) ? "," : "");
  }
  switch (row.kind) {
    case "size":
      return formatSize(value as number);
    case "duration":
      return formatDuration(value as number);
    default:
      return String(value);
  }
}
