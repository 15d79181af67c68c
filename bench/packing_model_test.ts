import assert from "node:assert/strict";
import { lowerBound, makeMix, type MixJob, policyMakespan } from "./packing_model.ts";

const cap = { procs: 4, memGiB: 16 };

Deno.test("makeMix() is deterministic and within the declared ranges", () => {
  const mix = makeMix(200, 1);
  assert.deepEqual(mix, makeMix(200, 1));
  for (const j of mix) {
    assert.ok(j.procs === 1 || j.procs === 2);
    assert.ok(Number.isInteger(j.memGiB) && j.memGiB >= 1 && j.memGiB <= 8);
    assert.ok(j.seconds >= 0.2 && j.seconds <= 1);
  }
  assert.ok(mix.some((j) => j.procs === 2) && mix.some((j) => j.memGiB === 8));
});

Deno.test("lowerBound() is the largest of the CPU, memory and longest-job bounds", () => {
  const j = (procs: number, memGiB: number, seconds: number): MixJob => ({
    procs,
    memGiB,
    seconds,
  });
  assert.equal(lowerBound([j(1, 1, 3)], cap), 3);
  assert.equal(lowerBound([j(2, 1, 1), j(2, 1, 1), j(2, 1, 1), j(2, 1, 1)], cap), 2);
  assert.equal(lowerBound([j(1, 8, 1), j(1, 8, 1), j(1, 8, 1), j(1, 8, 1)], cap), 2);
});

Deno.test("policyMakespan() skips a job that does not fit and starts later ones", () => {
  const big = { procs: 1, memGiB: 8, seconds: 1 };
  const small = { procs: 1, memGiB: 1, seconds: 1 };
  // 8 + 8 fill memory; the third big job waits, the small one behind it starts.
  assert.equal(policyMakespan([big, big, big, small], cap), 2);
  assert.equal(policyMakespan([big, big, small, big], cap), 2);
});

Deno.test("policyMakespan() is never below the bound", () => {
  const mix = makeMix(40, 1);
  assert.ok(policyMakespan(mix, cap) >= lowerBound(mix, cap) - 1e-9);
});

Deno.test("policyMakespan() refuses a job larger than the capacity", () => {
  assert.throws(() => policyMakespan([{ procs: 8, memGiB: 1, seconds: 1 }], cap), RangeError);
});
