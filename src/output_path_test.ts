import assert from "node:assert/strict";
import { expandOutputName, outputPath } from "./output_path.ts";

const JOB = { id: 42, name: "align", user: "ann" };

Deno.test("expandOutputName expands %j %x %a %A %u %% and zero-pads", () => {
  assert.equal(expandOutputName("%j.%x.%u", JOB), "42.align.ann");
  assert.equal(expandOutputName("%A_%a", JOB), "42_");
  assert.equal(expandOutputName("%A_%a", { ...JOB, array: { id: 40, index: 2 } }), "40_2");
  assert.equal(expandOutputName("%5j-%2a", { ...JOB, array: { id: 40, index: 2 } }), "00042-02");
  assert.equal(expandOutputName("%%j %% %5%", JOB), "%j % %5%");
  assert.equal(expandOutputName("%q %N %", JOB), "%q %N %");
  assert.equal(expandOutputName("%x", { ...JOB, name: "a/b" }), "a_b");
  assert.equal(expandOutputName("no patterns", JOB), "no patterns");
});

Deno.test("outputPath: default, relative, absolute, directories, missing directories", () => {
  const dirs = new Set(["/", "/w", "/w/logs", "/tmp"]);
  const place = {
    ...JOB,
    cwd: "/w",
    kind: "stderr" as const,
    isDirectory: (p: string) => dirs.has(p),
  };
  assert.deepEqual(outputPath(undefined, place), { path: "/w/42.stderr" });
  assert.deepEqual(outputPath("e.txt", place), { path: "/w/e.txt" });
  assert.deepEqual(outputPath("/tmp/%x.err", place), { path: "/tmp/align.err" });
  assert.deepEqual(outputPath("logs", place), { path: "/w/logs/42.stderr" });
  assert.deepEqual(outputPath("logs//", place), { path: "/w/logs/42.stderr" });
  assert.deepEqual(outputPath("/", place), { path: "/42.stderr" });
  assert.deepEqual(outputPath("nope/%j.err", place), {
    path: "/w/nope/42.err",
    error: "STDERR directory does not exist: /w/nope",
  });
  assert.deepEqual(outputPath("nope/", place), {
    path: "/w/nope/42.stderr",
    error: "STDERR directory does not exist: /w/nope",
  });
});
