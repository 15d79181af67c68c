/**
 * How each kind of configuration value (src/config.ts `ConfigKind`) is
 * written: parsed from a flag, variable or rc line, and formatted back as
 * the rc file writes it.
 *
 * @module
 */

import { ConfigError, type ConfigKeyInfo } from "./config.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { parseGpus } from "./gpus.ts";
import { expandPath } from "./path.ts";
import { formatSize, parseSize } from "./size.ts";

/** A raw value and where it was found: `place` names it in messages, `base` resolves relative paths. */
export interface ValueSetting {
  raw: string;
  place: string;
  base: string;
}

const BOOLEANS = new Map<string, boolean>([
  ...["t", "true", "yes", "on", "1"].map((word) => [word, true] as const),
  ...["f", "false", "no", "off", "0"].map((word) => [word, false] as const),
]);

/**
 * Parses one value by its key's kind; an empty value means the key's
 * default (`sjq.maxprocs`: `cpus`). Relative paths start from
 * `setting.base`, `~` from `home`.
 *
 * @throws {ConfigError} When the value is not of its kind, naming where it was set.
 */
export function parseConfigValue(
  row: ConfigKeyInfo,
  setting: ValueSetting,
  home: string,
  cpus: number,
): unknown {
  const text = setting.raw.trim() || row.default;
  if (text === "") return row.key === "sjq.maxprocs" ? cpus : null;
  const invalid = (expected: string) =>
    new ConfigError(
      `Invalid value "${setting.raw}" for ${row.key} in ${setting.place}: expected ${expected}`,
    );
  switch (row.kind) {
    case "path":
      return expandPath(text, setting.base, home);
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
