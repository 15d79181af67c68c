/**
 * The protocol fuzzer (tests/fuzz.ts) for a few seconds with a fixed seed:
 * the daemon survives mutated requests, answers PING and keeps every job it
 * gave an id. `make fuzz` runs it for 100,000 inputs.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fuzz } from "./fuzz.ts";
import { tempDir, TestDaemon } from "./harness.ts";

Deno.test("fuzz: mutated requests neither stop the daemon nor lose a job (seeded, a few seconds)", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2"] });
  await using cwd = await tempDir();
  const result = await fuzz(d, cwd.path, { seed: 20261201, inputs: 2_000, ms: 4_000 });
  assert.ok(result.inputs >= 100, `only ${result.inputs} inputs were sent`);
  assert.ok(result.jobs >= 1);
});
