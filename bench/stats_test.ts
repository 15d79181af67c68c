import assert from "node:assert/strict";
import { distribution, figure, percentile } from "./stats.ts";

Deno.test("figure() gives the median with min and max, keeping the runs in order", () => {
  assert.deepEqual(figure([3, 1, 2]), { median: 2, min: 1, max: 3, runs: [3, 1, 2] });
  assert.equal(figure([4, 1, 2, 3]).median, 2.5);
});

Deno.test("percentile() is nearest-rank: always one of the samples", () => {
  const s = Array.from({ length: 500 }, (_, i) => i + 1);
  assert.equal(percentile(s, 0.5), 250);
  assert.equal(percentile(s, 0.99), 495);
  assert.equal(percentile(s, 1), 500);
  assert.equal(percentile([7], 0.99), 7);
});

Deno.test("distribution() summarizes unsorted samples", () => {
  assert.deepEqual(distribution([5, 1, 9, 3]), { p50: 3, p99: 9, max: 9, min: 1, samples: 4 });
});

Deno.test("figure() and distribution() refuse no values", () => {
  assert.throws(() => figure([]), RangeError);
  assert.throws(() => distribution([]), RangeError);
});
