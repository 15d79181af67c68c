import assert from "node:assert/strict";
import { type NewJob, PRIORITY_STEP, Scheduler } from "./scheduler.ts";

const G = 1024 ** 3;
const job = (id: number, procs: number, priority = 0): NewJob => ({
  id,
  procs,
  mem: G,
  deps: [],
  hold: false,
  priority,
});
const started = (s: Scheduler) => s.schedule().map((c) => c.id);

Deno.test("priorities order the queue; skipping still fills what is free", () => {
  const s = new Scheduler({ procs: 4, mem: null });
  s.add(job(1, 4), () => undefined);
  assert.deepEqual(started(s), [1]);
  s.add(job(2, 1), () => undefined);
  s.add(job(3, 3), () => undefined);
  s.add(job(4, 4, 5), () => undefined);
  s.add(job(5, 1, 5), () => undefined);
  s.add(job(6, 2, -1), () => undefined);
  s.end(1, "S");
  assert.deepEqual(started(s), [4], "the urgent big job first, alone");
  s.end(4, "S");
  // 5 (priority 5), then 2 and 3 in id order: 3 does not fit after 5 and 2, 6 (priority -1) does.
  assert.deepEqual(started(s), [5, 2, 6]);
  s.end(5, "S");
  s.end(2, "S");
  s.end(6, "S");
  assert.deepEqual(started(s), [3]);
});

Deno.test("aging: a job is passed by at most PRIORITY_STEP later jobs per point of priority", () => {
  const s = new Scheduler({ procs: 1, mem: null });
  s.add(job(1, 1), () => undefined);
  assert.deepEqual(started(s), [1]);
  s.add(job(2, 1), () => undefined);
  s.add(job(2 + PRIORITY_STEP, 1, 1), () => undefined); // as old as job 2: does not pass it
  s.add(job(1 + PRIORITY_STEP, 1, 1), () => undefined); // older than job 2 by one: passes it
  const order: number[] = [];
  for (let running = 1; running !== undefined;) {
    s.end(running, "S");
    running = started(s)[0]!;
    if (running !== undefined) order.push(running);
  }
  assert.deepEqual(order, [1 + PRIORITY_STEP, 2, 2 + PRIORITY_STEP]);
});

Deno.test("priorities survive rollback, hold and release", () => {
  const s = new Scheduler({ procs: 1, mem: null });
  s.add(job(1, 1), () => undefined);
  assert.deepEqual(started(s), [1]);
  s.add(job(2, 1), () => undefined);
  s.add(job(3, 1, 2), () => undefined);
  s.hold(3);
  s.begin();
  s.release(3);
  s.rollback();
  s.release(3);
  s.end(1, "S");
  assert.deepEqual(started(s), [3]);
});
