/**
 * Loading a module only when it is needed, by a specifier Deno does not see
 * ahead of time.
 *
 * Before a program runs a line, Deno reads and resolves the module graph of
 * every literal `import("./x.ts")` in it, taken or not. A literal import of
 * each subcommand would make every `sjq ping` read the daemon's whole tree
 * (about 70 modules, ~10 ms of start-up); {@linkcode lazyImport} hides the
 * specifier, so a module's tree is read when it is imported.
 *
 * `deno compile` does not see these imports either: build.sh embeds every
 * module of src/cli/ and src/shepherd.ts with `--include`, so a module
 * loaded this way must be one of those.
 *
 * @module
 */

/**
 * Imports `specifier` relative to `base` (the caller's `import.meta.url`),
 * typed as `T` (write `typeof import("./x.ts")`: a type Deno never loads).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lazyImport } from "./lazy.ts";
 *
 * const { VERSION } = await lazyImport<typeof import("./main.ts")>("./main.ts", import.meta.url);
 * assert.match(VERSION, /^\d+\.\d+\.\d+$/);
 * ```
 */
export function lazyImport<T>(specifier: string, base: string): Promise<T> {
  return import(new URL(specifier, base).href);
}
