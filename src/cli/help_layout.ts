/**
 * Aligns the option lines of a help text into one column: the flags every
 * client shares (`--socket`, `--no-autostart`, `-h`) come from common.ts
 * with their own width, each command's own with another.
 *
 * @module
 */

const OPTION = /^ {2}( *-\S.*?) {2,}(\S.*)$/;
const CONTINUATION = /^ {8,}(\S.*)$/;

/**
 * The help text with the descriptions of each `Options` block starting in
 * one column (continuation lines follow it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { alignHelp } from "./help_layout.ts";
 *
 * const help = "Options:\n  -p, --procs N   CPUs\n  --socket PATH  the socket\n";
 * assert.equal(
 *   alignHelp(help),
 *   "Options:\n  -p, --procs N      CPUs\n      --socket PATH  the socket\n",
 * );
 * ```
 */
export function alignHelp(help: string): string {
  const lines = help.split("\n");
  for (let start = 0; start < lines.length; start++) {
    if (!/^Options\b.*:$/.test(lines[start]!)) continue;
    let end = start + 1;
    while (end < lines.length && lines[end] !== "") end++;
    const block = lines.slice(start + 1, end);
    const found = block.map((l) => OPTION.exec(l)?.[1]?.trimStart()).filter((f) => f !== undefined);
    if (found.length === 0) continue;
    // With one-letter flags about, a long-only flag starts where the others' long names do.
    const short = found.some((f) => /^-[^-], /.test(f));
    const indent = (flag: string) => short && flag.startsWith("--") ? `    ${flag}` : flag;
    const width = Math.max(...found.map((f) => indent(f).length));
    const aligned = block.map((line) => {
      const option = OPTION.exec(line);
      if (option) return `  ${indent(option[1]!.trimStart()).padEnd(width)}  ${option[2]}`;
      const more = CONTINUATION.exec(line);
      return more ? `${" ".repeat(width + 4)}${more[1]}` : line;
    });
    lines.splice(start + 1, block.length, ...aligned);
    start = end;
  }
  return lines.join("\n");
}
