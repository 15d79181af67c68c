/**
 * Memory sizes as users write them (`512`, `100K`, `1.5G`, `2GB`): a number with an optional
 * binary unit, in powers of 1024.
 *
 * @module
 */

const UNITS: readonly string[] = ["", "K", "M", "G", "T"];

/**
 * Parses a memory size into bytes. Units K, M, G and T are powers of 1024, case-insensitive, and
 * may be followed by `B`; a bare number is bytes. Fractions are rounded down to whole bytes.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSize } from "./size.ts";
 *
 * assert.equal(parseSize("1.5G"), 1610612736);
 * assert.equal(parseSize("100kb"), 102400);
 * assert.equal(parseSize("512"), 512);
 * ```
 *
 * @param text The size, e.g. `2G`; surrounding whitespace is ignored.
 * @returns The size in bytes.
 * @throws {SyntaxError} When the text is not a number with a known unit.
 * @throws {RangeError} When the size is negative or too large to count exactly.
 */
export function parseSize(text: string): number {
  const match = /^(-?)(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)$/i.exec(text.trim());
  if (!match) {
    throw new SyntaxError(
      `Cannot parse memory size "${text}": expected a number with an optional unit K, M, G or T`,
    );
  }
  const [, sign, digits = "", letters = ""] = match;
  const unit = letters.replace(/b$/i, "");
  const power = UNITS.indexOf(unit.toUpperCase());
  if (power === -1) {
    throw new SyntaxError(`Cannot parse memory size "${text}": unknown unit "${unit}"`);
  }
  if (sign) throw new RangeError(`Cannot parse memory size "${text}": must not be negative`);
  const bytes = Math.floor(Number(digits) * 1024 ** power);
  if (!Number.isSafeInteger(bytes)) {
    throw new RangeError(`Cannot parse memory size "${text}": too large`);
  }
  return bytes;
}

/**
 * Formats a byte count in its shortest human form: the largest unit in which the value is at
 * least 1, with at most one decimal and no trailing `.0`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatSize } from "./size.ts";
 *
 * assert.equal(formatSize(2147483648), "2G");
 * assert.equal(formatSize(1610612736), "1.5G");
 * assert.equal(formatSize(512), "512");
 * ```
 *
 * @param bytes A size in bytes.
 * @returns The size with a unit, e.g. `1.5G`; one that `parseSize` reads back.
 * @throws {RangeError} When `bytes` is negative or not finite.
 */
export function formatSize(bytes: number): string {
  if (!(bytes >= 0 && bytes < Infinity)) {
    throw new RangeError(`Cannot format memory size "${bytes}": expected a finite number ≥ 0`);
  }
  let power = 0;
  while (power < UNITS.length - 1 && bytes >= 1024 ** (power + 1)) power++;
  let value = _tenths(bytes / 1024 ** power);
  // 1048575 bytes would round to "1024K"; say "1M" instead.
  if (value === 1024 && power < UNITS.length - 1) [power, value] = [power + 1, 1];
  return `${value}${UNITS[power]}`;
}

function _tenths(value: number): number {
  return Math.round(value * 10) / 10;
}
