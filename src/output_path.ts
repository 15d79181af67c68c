/**
 * Where a job's stdout and stderr go, and the `%` patterns of their names,
 * as in Slurm's `sbatch -o`:
 *
 * | pattern | becomes                                                         |
 * | ------- | --------------------------------------------------------------- |
 * | `%j`    | the job id                                                      |
 * | `%x`    | the job name (a `/` in it becomes `_`)                          |
 * | `%a`    | the array task index; nothing for a job that is not in an array |
 * | `%A`    | the array's job id; the job id for a job that is not in one     |
 * | `%u`    | the user name                                                   |
 * | `%%`    | a `%`                                                           |
 *
 * A number between `%` and the letter pads with zeros (`%4j` → `0042`). Any
 * other `%` sequence stays as written.
 *
 * @module
 */

/** What the patterns of an output name are expanded from. */
export interface OutputNameFacts {
  /** The job id (`%j`). */
  id: number;
  /** The job name (`%x`). */
  name: string;
  /** The user's name (`%u`). */
  user: string;
  /** For a task of an array: the array's job id (`%A`) and this task's index (`%a`). */
  array?: { id: number; index: number };
}

/**
 * Expands the `%` patterns of an output file name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expandOutputName } from "./output_path.ts";
 *
 * const job = { id: 42, name: "align", user: "ann" };
 * assert.equal(expandOutputName("logs/%x_%j.out", job), "logs/align_42.out");
 * assert.equal(expandOutputName("%A_%3a.%u", { ...job, array: { id: 40, index: 2 } }), "40_002.ann");
 * assert.equal(expandOutputName("100%%-%q", job), "100%-%q");
 * ```
 */
export function expandOutputName(pattern: string, facts: OutputNameFacts): string {
  if (!pattern.includes("%")) return pattern;
  return pattern.replace(/%(\d*)([jxaAu%])/g, (whole, pad: string, letter: string) => {
    let value: string;
    switch (letter) {
      case "%":
        return pad === "" ? "%" : whole;
      case "j":
        value = String(facts.id);
        break;
      case "x":
        value = facts.name.replaceAll("/", "_");
        break;
      case "a":
        value = facts.array === undefined ? "" : String(facts.array.index);
        break;
      case "A":
        value = String(facts.array?.id ?? facts.id);
        break;
      default:
        value = facts.user;
    }
    return pad === "" || value === "" ? value : value.padStart(Number(pad), "0");
  });
}

/** What {@linkcode outputPath} needs besides the name facts. */
export interface OutputPlace extends OutputNameFacts {
  /** The job's absolute working directory: where relative names start. */
  cwd: string;
  /** Which stream: it names the default file `<id>.stdout` / `<id>.stderr`. */
  kind: "stdout" | "stderr";
  /** Whether a path is an existing directory (the daemon passes a `stat`). */
  isDirectory: (path: string) => boolean;
}

/**
 * The absolute path of a job's stdout or stderr file: `<cwd>/<id>.<kind>` when
 * none is given; otherwise the given name with its patterns expanded,
 * relative to `cwd`; an existing directory (or a name ending in `/`) means
 * `<dir>/<id>.<kind>`. `error` says why the file could not be made there
 * (its directory does not exist), in the protocol's words.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outputPath } from "./output_path.ts";
 *
 * const place = { id: 7, name: "sort", user: "ann", cwd: "/work", kind: "stdout" as const };
 * const dirs = new Set(["/work", "/work/logs"]);
 * const isDirectory = (p: string) => dirs.has(p);
 * assert.deepEqual(outputPath(undefined, { ...place, isDirectory }), { path: "/work/7.stdout" });
 * assert.deepEqual(outputPath("logs/%x-%j.out", { ...place, isDirectory }), {
 *   path: "/work/logs/sort-7.out",
 * });
 * assert.deepEqual(outputPath("logs", { ...place, isDirectory }), { path: "/work/logs/7.stdout" });
 * ```
 */
export function outputPath(
  given: string | undefined,
  place: OutputPlace,
): { path: string; error?: string } {
  const { cwd, kind, id, isDirectory } = place;
  if (given === undefined) return { path: `${cwd}/${id}.${kind}` };
  const name = expandOutputName(given, place);
  const path = name.startsWith("/") ? name : `${cwd}/${name}`;
  if (path.endsWith("/") || isDirectory(path)) {
    const dir = path.replace(/\/+$/, "") || "/";
    return isDirectory(dir) ? { path: `${dir.replace(/\/$/, "")}/${id}.${kind}` } : {
      path: `${dir}/${id}.${kind}`,
      error: `${kind.toUpperCase()} directory does not exist: ${dir}`,
    };
  }
  const parent = path.slice(0, path.lastIndexOf("/")) || "/";
  if (!isDirectory(parent)) {
    return { path, error: `${kind.toUpperCase()} directory does not exist: ${parent}` };
  }
  return { path };
}
