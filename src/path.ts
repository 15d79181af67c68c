/**
 * POSIX path helpers as `node:path` has them, for the code every client
 * loads: importing a `node:` module costs each client command milliseconds.
 *
 * @module
 */

/**
 * Resolves `path` against the absolute directory `base` and normalizes the
 * result (`.`, `..`, repeated and trailing slashes), as `node:path`
 * `resolve(base, path)` does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolvePath } from "./path.ts";
 *
 * assert.equal(resolvePath("/home/u", "run/../sjq.sock"), "/home/u/sjq.sock");
 * assert.equal(resolvePath("/home/u", "/tmp//x/"), "/tmp/x");
 * ```
 */
export function resolvePath(base: string, path: string): string {
  const parts: string[] = [];
  for (const part of (path.startsWith("/") ? path : `${base}/${path}`).split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/**
 * Expands a leading `~` to `home` and resolves the result against `base`,
 * as configuration paths are read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expandPath } from "./path.ts";
 *
 * assert.equal(expandPath("~/.sjq.sock", "/tmp", "/home/u"), "/home/u/.sjq.sock");
 * assert.equal(expandPath("run/sjq.sock", "/tmp", "/home/u"), "/tmp/run/sjq.sock");
 * ```
 */
export function expandPath(text: string, base: string, home: string): string {
  return resolvePath(base, text === "~" || text.startsWith("~/") ? home + text.slice(1) : text);
}

/**
 * The directory part of an absolute path, as `node:path` `dirname` gives it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dirname } from "./path.ts";
 *
 * assert.equal(dirname("/home/u/.sjqrc"), "/home/u");
 * assert.equal(dirname("/.sjqrc"), "/");
 * ```
 */
export function dirname(path: string): string {
  const trimmed = path.replace(/(?<=.)\/+$/, "");
  const slash = trimmed.lastIndexOf("/");
  if (slash < 0) return ".";
  if (slash === 0) return "/";
  return trimmed.slice(0, slash);
}
