import assert from "node:assert/strict";
import { type EndedLookup, type MemoryRoom, Scheduler } from "./scheduler.ts";

const G = 1024 ** 3;
const noneEnded: EndedLookup = () => undefined;

/** A scheduler with 8 CPUs and no memory limit of its own, with jobs of these sizes (GiB), ids from 1. */
function withJobs(sizes: number[]): Scheduler {
  const s = new Scheduler({ procs: 8, mem: null });
  sizes.forEach((mem, i) =>
    s.add({ id: i + 1, procs: 1, mem: mem * G, deps: [], hold: false }, noneEnded)
  );
  return s;
}

const room = (availableGiB: number, marginGiB = 0): MemoryRoom => ({
  available: availableGiB * G,
  margin: marginGiB * G,
});
const ids = (s: Scheduler, r: MemoryRoom | null) => s.schedule(r).map((c) => c.id);

Deno.test("memory room: a job starts only while MemAvailable holds it and the margin, less the pass's earlier starts", () => {
  const s = withJobs([1, 4]);
  s.add({ id: 3, procs: 1, mem: G, deps: [], hold: false }, noneEnded);
  s.add({ id: 4, procs: 1, mem: 8 * G, deps: [], hold: true }, noneEnded); // held: not looked at
  s.add({ id: 5, procs: 1, mem: 8 * G, deps: [], hold: false }, noneEnded);
  s.add({ id: 6, procs: 1, mem: 8 * G, deps: [], hold: false }, noneEnded);
  s.add({ id: 7, procs: 1, mem: 8 * G, deps: [], hold: false }, noneEnded);
  s.add({ id: 8, procs: 1, mem: 8 * G, deps: [], hold: false }, noneEnded);
  // 6.5G less 0.5G margin: 1G and 4G fit, the next 1G still does (6G), the 8G jobs wait (skipped).
  assert.deepEqual(ids(s, room(6.5, 0.5)), [1, 2, 3]);
  assert.deepEqual([...s.memoryShort.waiting.keys()], [5, 6, 7, 8]);
  assert.equal(s.memoryShort.waiting.get(5), 6.5 * G, "the MemAvailable it saw");
  assert.deepEqual(s.memoryShort.forced, []);
  // Nothing new, but a job waits for memory: the next pass looks at the whole queue again.
  assert.deepEqual(ids(s, room(10)), [5]);
  assert.deepEqual([...s.memoryShort.waiting.keys()], [6, 7, 8]);
  // Without a room (no gate) the memory of the machine is not looked at.
  assert.deepEqual(ids(s, null), [6, 7, 8]);
  assert.equal(s.memoryShort.waiting.size, 0);
});

Deno.test("memory room: with no job running, the first job that fits the capacity starts anyway", () => {
  const s = withJobs([30, 30, 1]);
  // The machine has less than the job declares: waiting would free nothing.
  assert.deepEqual(ids(s, room(20)), [1]);
  assert.deepEqual(s.memoryShort.forced, [1]);
  assert.deepEqual([...s.memoryShort.waiting.keys()], [2, 3], "once one runs, the rest wait");
  assert.deepEqual(ids(s, room(20)), [3], "a smaller job that fits goes ahead of the waiting one");
  assert.deepEqual(s.memoryShort.forced, []);
  s.end(1, "S");
  s.end(3, "S");
  assert.deepEqual(ids(s, room(20)), [2]);
  assert.deepEqual(s.memoryShort.forced, [2]);
});

Deno.test("memory room: lookahead reserves no job that MemAvailable does not hold", () => {
  const s = new Scheduler({ procs: 1, mem: null });
  for (let id = 1; id <= 3; id++) {
    s.add({ id, procs: 1, mem: 2 * G, deps: [], hold: false }, noneEnded);
  }
  assert.deepEqual(ids(s, room(100)), [1]);
  assert.equal(s.reserveAhead(room(1)), null);
  assert.deepEqual(s.reserveAhead(room(3)), { id: 2, state: "R" });
});
