import assert from "node:assert/strict";
import { arrayOutcome, type NewArray, Scheduler } from "./scheduler.ts";

const G = 1024 ** 3;

function newArray(a: Partial<NewArray> & { id: number; count: number }): NewArray {
  return { first: a.id + 1, max: null, procs: 1, mem: G, deps: [], hold: false, ...a };
}

/** Runs every job the scheduler starts to success, pass after pass; returns the most that ran at once per array. */
function drain(
  s: Scheduler,
  arrayOf: (id: number) => number | undefined,
  running = new Set<number>(),
): Map<number, number> {
  const most = new Map<number, number>();
  for (;;) {
    for (const c of s.schedule()) running.add(c.id);
    const per = new Map<number, number>();
    for (const id of running) {
      const a = arrayOf(id);
      if (a !== undefined) per.set(a, (per.get(a) ?? 0) + 1);
    }
    for (const [a, n] of per) most.set(a, Math.max(most.get(a) ?? 0, n));
    const next = [...running].sort((x, y) => x - y)[0];
    if (next === undefined) return most;
    running.delete(next);
    s.end(next, "S");
  }
}

Deno.test("an array's %max limits its running tasks; other jobs still use what is free", () => {
  const s = new Scheduler({ procs: 8, mem: null });
  assert.deepEqual(s.addArray(newArray({ id: 1, count: 50, max: 2 }), () => undefined), {
    state: "Q",
  });
  s.add({ id: 52, procs: 1, mem: G, deps: [], hold: false }, () => undefined);
  const first = s.schedule().map((c) => c.id);
  assert.deepEqual(first, [2, 3, 52], "two tasks, then the plain job past the rest of the array");
  const most = drain(s, (id) => (id >= 2 && id <= 51 ? 1 : undefined), new Set(first));
  assert.equal(most.get(1), 2);
  assert.equal(s.get(1), undefined, "the head ended with its last task");
});

Deno.test("an array's head ends with its last task, in S only when every task succeeded; its dependents follow", () => {
  const s = new Scheduler({ procs: 4, mem: null });
  s.addArray(newArray({ id: 10, count: 3 }), () => undefined);
  const after = {
    id: 20,
    procs: 1,
    mem: G,
    deps: [{ id: 10, kind: "afterok" as const }],
    hold: false,
  };
  assert.deepEqual(s.add(after, () => undefined), { state: "H" });
  assert.deepEqual(s.schedule().map((c) => c.id), [11, 12, 13]);
  assert.deepEqual(s.end(11, "S"), []);
  assert.deepEqual(s.end(12, "F"), []);
  assert.deepEqual(s.end(13, "S"), [
    { id: 10, state: "F", tally: { S: 2, F: 1 } },
    { id: 20, state: "A", cause: 10, causeState: "F" },
  ]);
  assert.equal(s.counts().H, 0);
});

Deno.test("an array waits for its dependencies as one, aborts as one, and cannot be held itself", () => {
  const s = new Scheduler({ procs: 4, mem: null });
  s.add({ id: 1, procs: 1, mem: G, deps: [], hold: false }, () => undefined);
  s.addArray(newArray({ id: 2, count: 3, deps: [{ id: 1, kind: "afterok" }] }), () => undefined);
  assert.deepEqual(s.arrayTasks(2), [3, 4, 5]);
  assert.equal(s.hold(2), null);
  assert.deepEqual(s.schedule().map((c) => c.id), [1]);
  const changes = s.end(1, "F");
  assert.deepEqual(changes.map((c) => `${c.id}${c.state}`), ["3A", "4A", "5A", "2A"]);
  assert.equal(s.get(2), undefined);
  assert.deepEqual(
    s.addArray(newArray({ id: 6, count: 2, deps: [{ id: 1, kind: "afterok" }] }), () => "F"),
    { state: "A", cause: 1, causeState: "F" },
  );
});

Deno.test("rollback undoes an array's submit and its tasks' ends", () => {
  const s = new Scheduler({ procs: 1, mem: null });
  s.begin();
  s.addArray(newArray({ id: 1, count: 2 }), () => undefined);
  s.rollback();
  assert.equal(s.get(1), undefined);
  assert.deepEqual(s.counts(), { Q: 0, H: 0, U: 0, R: 0 });
  s.addArray(newArray({ id: 1, count: 2 }), () => undefined);
  assert.deepEqual(s.schedule().map((c) => c.id), [2]);
  s.begin();
  s.end(2, "S");
  s.schedule();
  s.end(3, "S");
  s.rollback();
  assert.equal(s.get(1)?.pending, 2);
  assert.deepEqual(s.arrayTasks(1), [2, 3]);
  s.end(2, "S");
  assert.deepEqual(s.schedule().map((c) => c.id), [3]);
  assert.deepEqual(s.end(3, "K"), [{ id: 1, state: "K", tally: { S: 1, K: 1 } }]);
});

Deno.test("arrayOutcome: S, A, K or F", () => {
  assert.equal(arrayOutcome({ S: 3 }), "S");
  assert.equal(arrayOutcome({ A: 3 }), "A");
  assert.equal(arrayOutcome({ S: 1, K: 2 }), "K");
  assert.equal(arrayOutcome({ S: 1, K: 1, E: 1 }), "F");
});

Deno.test("reopenArray: an ended array's head waits again for its restarted tasks, and ends with them", () => {
  const s = new Scheduler({ procs: 4, mem: null });
  const none = () => undefined;
  s.addArray(newArray({ id: 1, count: 2 }), none);
  assert.deepEqual(s.schedule().map((c) => c.id), [2, 3]);
  s.end(2, "F");
  assert.deepEqual(s.end(3, "S"), [{ id: 1, state: "F", tally: { F: 1, S: 1 } }]);
  s.end(1, "F");
  assert.equal(s.get(1), undefined);
  // Task 2 comes back: the head is in H again with the tally of the task that stays ended.
  s.begin();
  s.reopenArray({ id: 1, first: 2, last: 3, max: null }, { S: 1 });
  assert.deepEqual(s.add({ id: 2, procs: 1, mem: G, deps: [], hold: false, array: 1 }, none), {
    state: "Q",
  });
  assert.deepEqual([s.get(1)?.state, s.get(1)?.pending], ["H", 1]);
  s.rollback();
  assert.equal(s.get(1), undefined, "a rollback takes the head out again");
  s.reopenArray({ id: 1, first: 2, last: 3, max: null }, { S: 1 });
  s.add({ id: 2, procs: 1, mem: G, deps: [], hold: false, array: 1 }, none);
  assert.deepEqual(s.schedule().map((c) => c.id), [2]);
  assert.deepEqual(s.end(2, "S"), [{ id: 1, state: "S", tally: { S: 2 } }]);
});

Deno.test("reopenArray of an array that runs on sets its tally; a restarted task counts against %max", () => {
  const s = new Scheduler({ procs: 4, mem: null });
  const none = () => undefined;
  s.addArray(newArray({ id: 1, count: 3, max: 1 }), none);
  assert.deepEqual(s.schedule().map((c) => c.id), [2]);
  s.end(2, "F");
  assert.deepEqual(s.schedule().map((c) => c.id), [3]);
  s.reopenArray({ id: 1, first: 2, last: 4, max: 1 }, {});
  s.add({ id: 2, procs: 1, mem: G, deps: [], hold: false, array: 1 }, none);
  assert.deepEqual(s.schedule().map((c) => c.id), [], "%1: task 3 runs");
  s.end(3, "S");
  assert.deepEqual(s.schedule().map((c) => c.id), [2]);
  s.end(2, "S");
  assert.deepEqual(s.schedule().map((c) => c.id), [4]);
  assert.deepEqual(s.end(4, "S"), [{ id: 1, state: "S", tally: { S: 3 } }]);
});
