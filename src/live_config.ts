/**
 * The running daemon's settings: what it uses (CONFIG, `sjq config`), a
 * re-read of the rc file that applies the limits at once (RELOAD, SIGHUP,
 * `sjq reload`), and the settings of the last explicitly started daemon,
 * kept in the database so that an auto-started daemon takes them instead of
 * silently falling back to the defaults.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { CONFIG_KEYS, type ConfigKey } from "./config.ts";
import { type ConfigInput, loadConfig, type LoadedConfig } from "./config_loader.ts";
import { formatConfigValue } from "./config_values.ts";
import { queueSettings } from "./queue_config.ts";
import { formatSize } from "./size.ts";

/** Keys a running daemon applies when it reloads: the limits and timings. */
export const LIVE_KEYS: ReadonlySet<ConfigKey> = new Set<ConfigKey>([
  "sjq.maxprocs",
  "sjq.maxmem",
  "sjq.defaults.procs",
  "sjq.defaults.mem",
  "sjq.keepdone",
  "sjq.killgrace",
  "sjq.waittime",
  "sjq.schedtime",
  "sjq.autoshutdown",
  "sjq.user.maxprocs",
  "sjq.user.maxjobs",
  "sjq.gpus",
  "sjq.notify",
  "sjq.mail",
  "sjq.sendmail",
  "sjq.memmargin",
]);

/** Keys only clients read: a daemon's value of them means nothing. */
export const CLIENT_KEYS: ReadonlySet<ConfigKey> = new Set<ConfigKey>([
  "sjq.autostart",
  "sjq.daemon",
]);

/**
 * Keys whose flags are saved for the next auto-started daemon: all but the
 * paths, which name the daemon itself (socket, database) or its files.
 */
const SAVED_KEYS = CONFIG_KEYS.filter((k) => k.kind !== "path").map((k) => k.key as ConfigKey);

/** The flags of the last `sjq daemon` started by hand, as saved in its database. */
export interface SavedSettings {
  flags: Partial<Record<ConfigKey, string>>;
  /** When that daemon started, in ms since the epoch. */
  at: number;
}

/** One row of the CONFIG reply: a key of {@linkcode CONFIG_KEYS}, or of a queue (`sjq.queue.NAME.maxprocs`). */
export interface DaemonSetting {
  key: ConfigKey | `sjq.queue.${string}`;
  /** As the rc file writes it; empty for none. */
  value: string;
  /** Where it came from, as `sjq config` prints it. */
  source: string;
}

/** The CONFIG reply's JSON. */
export interface DaemonSettings {
  pid: number;
  /** The rc file the daemon read, or null. */
  file: string | null;
  settings: DaemonSetting[];
}

/** The meta-table key of the saved settings. */
export const SAVED_SETTINGS_KEY = "daemon.flags";

/**
 * The settings saved by the last daemon started by hand on `db`, or null (no
 * database yet, nothing saved). Read before the daemon's store opens it.
 */
export function readSavedSettings(db: string): SavedSettings | null {
  try {
    Deno.statSync(db);
  } catch {
    return null;
  }
  const conn = new DatabaseSync(db);
  try {
    conn.exec("PRAGMA busy_timeout = 5000");
    const table = conn.prepare("SELECT 1 FROM sqlite_master WHERE name = 'meta'").get();
    const row = table &&
      conn.prepare("SELECT value FROM meta WHERE key = ?").get(SAVED_SETTINGS_KEY);
    return row ? JSON.parse(String(row.value)) as SavedSettings : null;
  } finally {
    conn.close();
  }
}

/**
 * Saves the setting flags of a daemon started by hand into `db`'s meta table,
 * for the next auto-started daemon. Called before the daemon's store opens
 * the database (and after it holds the database's lock): a write of its own
 * at start would be a tick, and a second connection later could wait on the
 * store's transactions.
 */
export function saveSettings(db: string, flags: Partial<Record<ConfigKey, string>>): void {
  const kept = Object.fromEntries(
    Object.entries(flags).filter(([k]) => SAVED_KEYS.includes(k as ConfigKey)),
  );
  Deno.openSync(db, { write: true, create: true, mode: 0o600 }).close();
  const conn = new DatabaseSync(db);
  try {
    conn.exec("PRAGMA busy_timeout = 5000");
    // The store's own definition of the table (src/store.ts SCHEMA).
    conn.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    conn.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)")
      .run(
        SAVED_SETTINGS_KEY,
        JSON.stringify({ flags: kept, at: Date.now() } satisfies SavedSettings),
      );
  } finally {
    conn.close();
  }
}

/**
 * Loads a daemon's configuration: its own flags, over the saved flags of the
 * last daemon started by hand when this one was auto-started, over the
 * environment, the rc file and the defaults. Saved values are labelled so.
 */
export function loadDaemonConfig(input: ConfigInput, saved: SavedSettings | null): LoadedConfig {
  const flags = { ...saved?.flags, ...input.flags };
  const loaded = loadConfig({ ...input, flags });
  if (saved !== null) {
    const when = new Date(saved.at).toISOString().replace(/\.\d+Z$/, "Z");
    for (const key of Object.keys(saved.flags) as ConfigKey[]) {
      if (input.flags[key] === undefined) {
        loaded.sources[key] = `saved from the daemon started by hand at ${when}`;
      }
    }
  }
  return loaded;
}

/** The configuration of the running daemon, and its reload. */
export class LiveConfig {
  readonly #input: ConfigInput;
  readonly #saved: SavedSettings | null;
  readonly #loaded: LoadedConfig;
  readonly #applied: () => void;

  /**
   * @param loaded What the daemon started with; its `config` object is the
   * daemon's own, changed in place by {@linkcode reload}.
   * @param input What it was loaded from (flags, environment, home, cpus, cwd).
   * @param saved The saved flags it was loaded with, if any.
   * @param applied Called after a reload changed live settings, so that the
   * daemon applies them (scheduler capacity, timers).
   */
  constructor(
    loaded: LoadedConfig,
    input: ConfigInput,
    saved: SavedSettings | null,
    applied: () => void,
  ) {
    this.#loaded = loaded;
    this.#input = input;
    this.#saved = saved;
    this.#applied = applied;
  }

  /** CONFIG (`sjq config`): every setting the daemon uses, with its source. */
  describe(): DaemonSettings {
    const { config, sources, file } = this.#loaded;
    return {
      pid: Deno.pid,
      file,
      settings: [
        ...CONFIG_KEYS.map((row) => ({
          key: row.key,
          value: formatConfigValue(row, config[row.field]),
          source: sources[row.key],
        })),
        ...queueSettings(config.queues, formatSize).map((row) => ({
          key: row.key as `sjq.queue.${string}`,
          value: row.value,
          source: file ?? "the rc file",
        })),
      ],
    };
  }

  /**
   * RELOAD (`sjq reload`, SIGHUP): reads the rc file again and applies the
   * changed {@linkcode LIVE_KEYS} at once; other changes need a restart.
   * Returns one line per change (and the rc file's warnings), for people.
   *
   * @throws {ConfigError} When the rc file is now invalid; nothing changes then.
   */
  reload(): string[] {
    const next = loadDaemonConfig(this.#input, this.#saved);
    const current = this.#loaded;
    const lines = next.warnings.map((w) => `warning: ${w}`);
    let live = false;
    for (const row of CONFIG_KEYS) {
      if (CLIENT_KEYS.has(row.key)) continue;
      const before = formatConfigValue(row, current.config[row.field]);
      const after = formatConfigValue(row, next.config[row.field]);
      if (before === after) continue;
      if (LIVE_KEYS.has(row.key)) {
        (current.config as unknown as Record<string, unknown>)[row.field] = next.config[row.field];
        current.sources[row.key] = next.sources[row.key];
        lines.push(`${row.key} = ${after || "(none)"} (was ${before || "(none)"})`);
        live = true;
      } else {
        lines.push(
          `${row.key} = ${after || "(none)"} needs a restart: the daemon keeps ${
            before || "(none)"
          }`,
        );
      }
    }
    // Queues are live: their limits apply at once; a removed queue's jobs go on without limits.
    const queues = (c: LoadedConfig) => JSON.stringify(queueSettings(c.config.queues, formatSize));
    if (queues(current) !== queues(next)) {
      current.config.queues = next.config.queues;
      lines.push(`queues: ${Object.keys(next.config.queues).sort().join(", ") || "(none)"}`);
      live = true;
    }
    current.file = next.file;
    if (live) this.#applied();
    return lines;
  }
}
