/**
 * Loading the effective configuration: each key is taken from the first
 * place that sets it, a command-line flag, an `SJQ_*` environment variable,
 * the rc file (`$SJQ_CONFIG` or `~/.sjqrc`), or the built-in default
 * (the keys are src/config.ts's, their values src/config_values.ts's).
 *
 * @module
 */

import {
  type Config,
  CONFIG_KEYS,
  ConfigError,
  type ConfigKey,
  UNLIMITED_PROCS,
} from "./config.ts";
import { parseConfigValue, type ValueSetting } from "./config_values.ts";
import { type IniEntry, parseIni } from "./ini.ts";
import { dirname, expandPath } from "./path.ts";
import { parseQueues, queueKey } from "./queue_config.ts";
import { formatSize } from "./size.ts";
import { exists } from "./file_tests.ts";

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

/** Where a value was found, and `source` as {@linkcode LoadedConfig.sources} says it. */
interface Setting extends ValueSetting {
  source: string;
}

/**
 * Loads the effective configuration from flags, then environment variables, then the rc file,
 * then the defaults. An empty flag or rc value selects the default; an empty environment variable
 * counts as unset. `~` starts a path in the home directory; other relative paths are relative to
 * `cwd` for flags and environment variables and to the rc file's directory for rc values.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./config_loader.ts";
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
  const file = expandPath(env.SJQ_CONFIG || "~/.sjqrc", cwd, home);
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
      : parseConfigValue(row, settings[row.key], home, cpus);
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
    if ((input.exists ?? exists)(own)) {
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

function _readTextFile(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}
