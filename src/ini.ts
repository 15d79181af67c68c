/**
 * A small INI parser for `~/.sjqrc`. It reads both the original SJQ format (`sjq.maxprocs=4`)
 * and sectioned files (`[sjq]` then `maxprocs = 4`).
 *
 * @module
 */

/** One `key = value` line of an INI file. */
export interface IniEntry {
  /** The key, lower-cased and prefixed with its section and a dot, e.g. `sjq.maxprocs`. */
  key: string;
  /** The value, trimmed, without its quotes or inline comment. */
  value: string;
  /** The file name passed to {@linkcode parseIni}. */
  file: string;
  /** The line number, from 1. */
  line: number;
}

/**
 * Parses INI text into its entries, in file order; a key given twice appears twice.
 *
 * - `key = value` or `key: value`; the first `=` or `:` separates key from value.
 * - Lines starting with `#` or `;` are comments; blank lines are ignored.
 * - `[section]` prefixes the keys that follow with `section.`; keys before any section may be
 *   fully dotted.
 * - Keys and section names are lower-cased; values keep their case.
 * - A value in matching single or double quotes loses them; in an unquoted value, a `#` or `;`
 *   after whitespace starts a comment.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseIni } from "./ini.ts";
 *
 * const entries = parseIni("[sjq]\nmaxprocs = 4  # half the box\n", "sjqrc");
 * assert.deepEqual(entries, [{ key: "sjq.maxprocs", value: "4", file: "sjqrc", line: 2 }]);
 * ```
 *
 * @param text The file's contents.
 * @param file The file's name, for error messages and the entries.
 * @returns The entries.
 * @throws {SyntaxError} On a line that is neither blank, a comment, a section header nor a
 * `key = value` pair; the message names `file:line`.
 */
export function parseIni(text: string, file: string): IniEntry[] {
  const entries: IniEntry[] = [];
  let section = "";
  for (const [index, raw] of text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/).entries()) {
    const line = index + 1;
    const trimmed = raw.trim();
    const fail = (detail: string) => new SyntaxError(`Cannot parse ${file}:${line}: ${detail}`);
    if (trimmed === "" || trimmed.startsWith("#") || trimmed.startsWith(";")) continue;
    if (trimmed.startsWith("[")) {
      const name = /^\[([^\]]*)\]\s*(?:[#;].*)?$/.exec(trimmed)?.[1]?.trim().toLowerCase();
      if (!name) throw fail(`expected a section header such as "[sjq]", found "${trimmed}"`);
      section = `${name}.`;
      continue;
    }
    const separator = trimmed.search(/[=:]/);
    if (separator === -1) throw fail(`expected "key = value", found "${trimmed}"`);
    const key = trimmed.slice(0, separator).trim().toLowerCase();
    if (key === "") throw fail(`missing key before "${trimmed[separator]}"`);
    entries.push({ key: section + key, value: _value(trimmed.slice(separator + 1)), file, line });
  }
  return entries;
}

function _value(raw: string): string {
  const quoted = /^\s*(["'])(.*?)\1\s*(?:[#;].*)?$/.exec(raw);
  return quoted?.[2] ?? raw.replace(/\s[#;].*$/, "").trim();
}
