import assert from "node:assert/strict";
import { formatArraySpec, parseArraySpec, taskCount, taskPosition } from "./array_spec.ts";

Deno.test("parseArraySpec reads ranges, steps, lists and %max", () => {
  assert.deepEqual(parseArraySpec("1-1000"), {
    ranges: [{ from: 1, to: 1000, step: 1 }],
    max: null,
  });
  assert.deepEqual(parseArraySpec("0-10:3%2"), { ranges: [{ from: 0, to: 9, step: 3 }], max: 2 });
  assert.equal(taskCount(parseArraySpec("0-10:3")), 4);
  assert.equal(taskCount(parseArraySpec("1,3,5-7")), 5);
  assert.equal(formatArraySpec(parseArraySpec("1,3,5-7,10-20:5%4")), "1,3,5-7,10-20:5%4");
});

Deno.test("parseArraySpec refuses what is not an array", () => {
  for (const bad of ["", "x", "5-1", "1-3:0", "1-10%0", "3,1", "1-5,5", "1-2000000", "-1"]) {
    assert.throws(() => parseArraySpec(bad), SyntaxError, bad);
  }
});

Deno.test("taskPosition finds a task's place, across ranges and steps", () => {
  const spec = parseArraySpec("0-10:5,20-22");
  const tasks = [0, 5, 10, 20, 21, 22];
  tasks.forEach((t, i) => assert.equal(taskPosition(spec, t), i));
  for (const t of [1, 11, 19, 23]) assert.equal(taskPosition(spec, t), null);
});
