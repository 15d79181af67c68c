/**
 * Durations as users write them (`90`, `15m`, `1.5h`, `1h30m`) and as tables show them.
 *
 * @module
 */

const UNIT_SECONDS = new Map([["s", 1], ["m", 60], ["h", 3600], ["d", 86400], ["w", 604800]]);
// Sticky: each match must start where the previous one ended.
const PART = /\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)/giy;

/**
 * Parses a duration into seconds. It is a plain number of seconds or a sequence of numbers with
 * units s, m, h, d and w (case-insensitive), which add up: `1h30m` is 5400.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDuration } from "./duration.ts";
 *
 * assert.equal(parseDuration("90"), 90);
 * assert.equal(parseDuration("1.5h"), 5400);
 * assert.equal(parseDuration("1h30m"), 5400);
 * ```
 *
 * @param text The duration, e.g. `15m`; whitespace around and between parts is ignored.
 * @returns The duration in seconds, possibly fractional.
 * @throws {SyntaxError} When the text is not a duration or a unit is unknown or missing.
 * @throws {RangeError} When the duration is negative.
 */
export function parseDuration(text: string): number {
  const fail = (detail: string) => new SyntaxError(`Cannot parse duration "${text}": ${detail}`);
  const trimmed = text.trim();
  const body = trimmed.replace(/^-/, "");
  const parts = [...body.matchAll(PART)];
  if (
    parts.length === 0 || parts.reduce((length, part) => length + part[0].length, 0) < body.length
  ) {
    throw fail("expected seconds or numbers with units s, m, h, d or w, such as 90, 15m or 1h30m");
  }
  let seconds = 0;
  for (const [, digits = "", unit = ""] of parts) {
    const factor = unit === "" && parts.length === 1 ? 1 : UNIT_SECONDS.get(unit.toLowerCase());
    if (factor === undefined) {
      throw fail(unit === "" ? `missing unit after "${digits}"` : `unknown unit "${unit}"`);
    }
    seconds += Number(digits) * factor;
  }
  if (body !== trimmed) {
    throw new RangeError(`Cannot parse duration "${text}": must not be negative`);
  }
  return seconds;
}

/**
 * Formats a duration compactly for tables: tenths of a second below 10 s (`0.4s`), then whole
 * seconds (`12s`) and, from a minute on, the two largest units (`3m05s`, `2h04m`, `3d02h`); the
 * smaller unit is truncated.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./duration.ts";
 *
 * assert.equal(formatDuration(0.4), "0.4s");
 * assert.equal(formatDuration(185), "3m05s");
 * assert.equal(formatDuration(266400), "3d02h");
 * ```
 *
 * @param seconds A duration in seconds.
 * @returns The duration with units, e.g. `2h04m`.
 * @throws {RangeError} When `seconds` is negative or not finite.
 */
export function formatDuration(seconds: number): string {
  if (!(seconds >= 0 && seconds < Infinity)) {
    throw new RangeError(`Cannot format duration "${seconds}": expected a finite number ≥ 0`);
  }
  const tenths = Math.round(seconds * 10) / 10;
  if (tenths < 10) return `${tenths}s`;
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${_pad(whole % 60)}s`;
  if (whole < 86400) return `${Math.floor(whole / 3600)}h${_pad(Math.floor(whole / 60) % 60)}m`;
  return `${Math.floor(whole / 86400)}d${_pad(Math.floor(whole / 3600) % 24)}h`;
}

function _pad(value: number): string {
  return String(value).padStart(2, "0");
}
