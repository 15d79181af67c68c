import assert from "node:assert/strict";
import { fitSize } from "./throughput.ts";

Deno.test("fitSize() keeps a size that fits the cap", () => {
  assert.equal(fitSize(1000, 0.001, 60), 1000);
});

Deno.test("fitSize() cuts to the largest round size that fits", () => {
  assert.equal(fitSize(1000, 0.14, 60), 200);
  assert.equal(fitSize(10_000, 0.01, 60), 5000);
});

Deno.test("fitSize() never goes below 10 jobs, nor above the target", () => {
  assert.equal(fitSize(1000, 10, 1), 10);
  assert.equal(fitSize(5, 10, 1), 5);
});
