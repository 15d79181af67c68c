/**
 * `#SJQ` directives: submit flags written at the top of a job script, after
 * the `#!` line and before the first command, as Slurm's `#SBATCH` lines.
 *
 * ```sh
 * #!/bin/sh
 * #SJQ -p 4 --mem 8G
 * #SJQ --name align   # a comment
 * exec bwa mem ref.fa reads.fq
 * ```
 *
 * @module
 */

/** One directive line of a script: its line number (from 1) and its words. */
export interface Directive {
  line: number;
  words: string[];
}

/** Directives must be near the top; a script is not read further than this for them. */
const SCAN_BYTES = 64 * 1024;

/**
 * The `#SJQ` directives of a script (or those of another `prefix`, as
 * `#SBATCH`): its leading lines after an optional `#!` line, up to the first
 * that is neither blank nor a comment.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDirectives } from "./directives.ts";
 *
 * const script = new TextEncoder().encode("#!/bin/sh\n#SJQ -p 4 --name 'my job'\necho hi\n#SJQ -p 8\n");
 * assert.deepEqual(parseDirectives(script), [{ line: 2, words: ["-p", "4", "--name", "my job"] }]);
 * ```
 *
 * @throws {SyntaxError} When a directive has an unterminated quote; the message names the line.
 */
export function parseDirectives(script: Uint8Array, prefix = "SJQ"): Directive[] {
  const text = new TextDecoder().decode(script.subarray(0, SCAN_BYTES));
  const lines = text.split("\n");
  const directives: Directive[] = [];
  const pattern = new RegExp(`^#${prefix}(?:\\s+(.*))?$`);
  for (let i = lines[0]?.startsWith("#!") ? 1 : 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const m = pattern.exec(line);
    if (m) {
      try {
        directives.push({ line: i + 1, words: splitWords(m[1] ?? "") });
      } catch (e) {
        throw new SyntaxError(`line ${i + 1}: ${(e as Error).message}`);
      }
    } else if (line !== "" && !line.startsWith("#")) break;
  }
  return directives;
}

/**
 * Splits text into words as /bin/sh would, without expansions: whitespace
 * separates, quotes group, a backslash escapes, `#` starting a word begins a
 * comment.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitWords } from "./directives.ts";
 *
 * assert.deepEqual(splitWords(`-n "a b" --env X='1 2' c\\ d # note`), ["-n", "a b", "--env", "X=1 2", "c d"]);
 * ```
 *
 * @throws {SyntaxError} When a quote is not closed or the text ends in a backslash.
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "#" && word === null) {
      break;
    } else if (c === "\\") {
      if (++i >= text.length) {
        throw new SyntaxError("Cannot split words: the text ends in a backslash");
      }
      word = (word ?? "") + text[i];
    } else if (c === "'" || c === '"') {
      const end = closingQuote(text, i);
      const inner = text.slice(i + 1, end);
      word = (word ?? "") + (c === "'" ? inner : inner.replace(/\\([\\"$`])/g, "$1"));
      i = end;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** The index of the quote that closes the one at `open`. */
function closingQuote(text: string, open: number): number {
  const quote = text[open];
  for (let i = open + 1; i < text.length; i++) {
    if (quote === '"' && text[i] === "\\") i++;
    else if (text[i] === quote) return i;
  }
  throw new SyntaxError(`Cannot split words: unterminated ${quote} quote`);
}
