/**
 * Where a run's results go: `bench/results/<date>.json`, `.md` and `.svg`
 * (`<date>-quick.*` for a quick run and `<date>-partial.*` for a run of
 * some workloads only, so that neither replaces a full run), and, for a
 * complete full run, the generated section of docs/benchmarks.md.
 *
 * @module
 */

import { resultsChart } from "./chart.ts";
import { run } from "./proc.ts";
import { reportBody, reportFile } from "./report.ts";
import type { Results } from "./results.ts";

const RESULTS = new URL("./results/", import.meta.url).pathname;
const DOCS = new URL("../docs/benchmarks.md", import.meta.url).pathname;
/** The lines between which docs/benchmarks.md holds the latest full run. */
export const BEGIN = "<!-- bench:results:begin (written by `make bench`) -->";
/** See {@linkcode BEGIN}. */
export const END = "<!-- bench:results:end -->";

/**
 * `doc` with the text between the BEGIN and END lines replaced by `body`.
 *
 * @example
 * ```ts
 * replaceSection(`a\n${BEGIN}\nold\n${END}\nb`, "new\n"); // `a\n${BEGIN}\nnew\n${END}\nb`
 * ```
 */
export function replaceSection(doc: string, body: string): string {
  const i = doc.indexOf(BEGIN), j = doc.indexOf(END);
  if (i < 0 || j < i) throw new SyntaxError(`Cannot find "${BEGIN}" … "${END}" in the document`);
  return `${doc.slice(0, i + BEGIN.length)}\n${body}${doc.slice(j)}`;
}

async function _write(path: string, text: string): Promise<string> {
  // Written whole, then renamed, so that an interrupted run leaves no half file.
  await Deno.writeTextFile(`${path}.tmp`, text);
  await Deno.rename(`${path}.tmp`, path);
  return path;
}

function _stem(r: Results): string {
  return r.started.slice(0, 10) + (r.mode === "quick" ? "-quick" : r.partial ? "-partial" : "");
}

/**
 * Saves what run `r` measured so far as `<stem>.json.tmp`, which the final
 * write replaces: an interrupted run keeps its figures there.
 */
export async function checkpoint(r: Results): Promise<void> {
  await Deno.mkdir(RESULTS, { recursive: true });
  await Deno.writeTextFile(`${RESULTS}${_stem(r)}.json.tmp`, JSON.stringify(r, null, 2) + "\n");
}

/** Writes the files of run `r`; returns the paths written. */
export async function writeResults(r: Results): Promise<string[]> {
  await Deno.mkdir(RESULTS, { recursive: true });
  const stem = _stem(r);
  const svg = `${stem}.svg`;
  const written = [
    await _write(`${RESULTS}${stem}.json`, JSON.stringify(r, null, 2) + "\n"),
    await _write(`${RESULTS}${svg}`, resultsChart(r)),
    await _write(`${RESULTS}${stem}.md`, reportFile(r, svg)),
  ];
  if (r.mode === "full" && !r.partial) {
    const doc = await Deno.readTextFile(DOCS);
    written.push(
      await _write(DOCS, replaceSection(doc, reportBody(r, `../bench/results/${svg}`))),
    );
    // The project's format check covers docs/: align the generated tables as it wants them.
    await run(Deno.execPath(), ["fmt", "--quiet", DOCS]);
  }
  return written;
}
