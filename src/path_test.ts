import assert from "node:assert/strict";
import { posix } from "node:path";
import { dirname, resolvePath } from "./path.ts";

const PATHS = [
  "",
  ".",
  "..",
  "a",
  "a/b/",
  "./a//b/./c/..",
  "../../../../x",
  "/",
  "//",
  "/a",
  "/a/",
  "/a//b///",
  "/a/../..",
  "~/x",
  "a b/ç",
  "/.sjqrc",
  ".../x",
];

Deno.test("resolvePath and dirname agree with node:path (posix)", () => {
  for (const base of ["/", "/home/u", "/home/u/", "/a/../b"]) {
    for (const p of PATHS) {
      assert.equal(resolvePath(base, p), posix.resolve(base, p), `resolve(${base}, ${p})`);
    }
  }
  for (const p of PATHS.filter((p) => p.startsWith("/"))) {
    assert.equal(dirname(p), posix.dirname(p), `dirname(${p})`);
  }
});
