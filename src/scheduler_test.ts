import assert from "node:assert/strict";
import type { ActiveState, Dependency, DependencyKind, FinalState } from "./job.ts";
import { type Added, type Change, type EndedLookup, type NewJob, Scheduler } from "./scheduler.ts";

const G = 1024 ** 3;

/** No job has ended: every dependency must be in the scheduler. */
const noneEnded: EndedLookup = () => undefined;

/** A lookup over jobs that ended earlier. */
function endedIn(states: Record<number, FinalState>): EndedLookup {
  return (id) => states[id];
}

/** A job of 1 proc and 1G with no dependencies, overridden by `job`. */
function newJob(job: Partial<NewJob> & { id: number }): NewJob {
  return { procs: 1, mem: G, deps: [], hold: false, ...job };
}

function after(kind: DependencyKind, ...ids: number[]): Dependency[] {
  return ids.map((id) => ({ id, kind }));
}

/** Adds plain jobs (no dependencies, no hold) with these procs, ids from `first`. */
function addJobs(s: Scheduler, procs: number[], first = 1): void {
  procs.forEach((p, i) => s.add(newJob({ id: first + i, procs: p }), noneEnded));
}

/** The ids a scheduling pass starts. */
function started(s: Scheduler): number[] {
  return s.schedule().map((c) => {
    assert.equal(c.state, "R");
    return c.id;
  });
}

/** The state of every job still in the scheduler, by id. */
function states(s: Scheduler): Record<number, ActiveState> {
  const out: Record<number, ActiveState> = {};
  for (const job of [...s.jobs()].sort((a, b) => a.id - b.id)) out[job.id] = job.state;
  return out;
}

/** Everything observable of the model, to compare before and after a rollback. */
function snapshot(s: Scheduler) {
  const jobs = [...s.jobs()].sort((a, b) => a.id - b.id).map((j) => ({ ...j }));
  return { jobs, counts: { ...s.counts() }, used: s.used };
}

/** The change that aborts job `id` because dependency `cause` ended in `causeState`. */
function abort(id: number, cause: number, causeState: FinalState): Change {
  return { id, state: "A", cause, causeState };
}

/** What `add` answers for a job aborted because dependency `cause` ended in `causeState`. */
function aborted(cause: number, causeState: FinalState): Added {
  return { state: "A", cause, causeState };
}

Deno.test("Scheduler.add() queues a job without dependencies, holds one with pending ones", () => {
  const s = new Scheduler({ procs: 4, mem: null });
  assert.deepEqual(s.add(newJob({ id: 1 }), noneEnded), { state: "Q" });
  assert.deepEqual(s.add(newJob({ id: 2, deps: after("afterok", 1) }), noneEnded), { state: "H" });
  assert.deepEqual(s.add(newJob({ id: 3, hold: true }), noneEnded), { state: "U" });
  assert.deepEqual(s.add(newJob({ id: 4, deps: after("afterok", 1), hold: true }), noneEnded), {
    state: "U",
  });
  assert.equal(s.get(2)?.pending, 1);
  assert.equal(s.get(4)?.pending, 1);
  assert.deepEqual(states(s), { 1: "Q", 2: "H", 3: "U", 4: "U" });
});

Deno.test("Scheduler.add() settles dependencies that ended before the job came", () => {
  const s = new Scheduler({ procs: 4, mem: null });
  const ended = endedIn({ 1: "S", 2: "F", 3: "K" });
  assert.deepEqual(s.add(newJob({ id: 10, deps: after("afterok", 1) }), ended), { state: "Q" });
  assert.deepEqual(s.add(newJob({ id: 11, deps: after("afterok", 1, 2) }), ended), aborted(2, "F"));
  assert.deepEqual(s.add(newJob({ id: 12, deps: after("afterany", 2, 3) }), ended), { state: "Q" });
  assert.deepEqual(s.add(newJob({ id: 13, deps: after("afternotok", 3) }), ended), { state: "Q" });
  assert.deepEqual(s.add(newJob({ id: 14, deps: after("afternotok", 1) }), ended), aborted(1, "S"));
  assert.deepEqual(
    s.add(newJob({ id: 15, deps: after("afterok", 2), hold: true }), ended),
    aborted(2, "F"),
  );
  assert.equal(s.get(11), undefined, "an aborted job never enters the model");
  assert.deepEqual(states(s), { 10: "Q", 12: "Q", 13: "Q" });
});

Deno.test("Scheduler.add() refuses a dependency it does not know", () => {
  const s = new Scheduler({ procs: 4, mem: null });
  assert.throws(() => s.add(newJob({ id: 2, deps: after("afterok", 1) }), noneEnded), {
    name: "RangeError",
    message: "Unknown dependency 1 of job 2",
  });
  assert.equal(s.get(2), undefined);
});

Deno.test("Scheduler.schedule() starts jobs first come first served while they fit", () => {
  const s = new Scheduler({ procs: 3, mem: null });
  addJobs(s, [1, 1, 1, 1]);
  assert.deepEqual(started(s), [1, 2, 3]);
  assert.deepEqual(s.used, { procs: 3, mem: 3 * G });
  assert.deepEqual(started(s), []);
  s.end(2, "S");
  assert.deepEqual(started(s), [4]);
  assert.deepEqual(states(s), { 1: "R", 3: "R", 4: "R" });
});

Deno.test("Scheduler.schedule() skips a job that does not fit in procs and starts later ones", () => {
  const s = new Scheduler({ procs: 2, mem: null });
  addJobs(s, [1, 2, 1]);
  assert.deepEqual(started(s), [1, 3]);
  assert.equal(s.get(2)?.state, "Q");
  s.end(1, "S");
  assert.deepEqual(started(s), [], "job 2 still needs both procs");
  s.end(3, "S");
  assert.deepEqual(started(s), [2]);
});

Deno.test("Scheduler.schedule() skips a job that does not fit in memory", () => {
  const s = new Scheduler({ procs: 8, mem: 4 * G });
  for (const [id, mem] of [[1, 3 * G], [2, 2 * G], [3, G]] as const) {
    s.add(newJob({ id, mem }), noneEnded);
  }
  assert.deepEqual(started(s), [1, 3]);
  assert.deepEqual(s.used, { procs: 2, mem: 4 * G });
  s.end(3, "S");
  assert.deepEqual(started(s), [], "1G is free, job 2 needs 2G");
  s.end(1, "S");
  assert.deepEqual(started(s), [2]);
});

Deno.test("Scheduler.fits() compares a job's size with the whole capacity", () => {
  const limited = new Scheduler({ procs: 2, mem: 4 * G });
  assert.equal(limited.fits(2, 4 * G), true);
  assert.equal(limited.fits(3, G), false);
  assert.equal(limited.fits(1, 5 * G), false);
  assert.equal(new Scheduler({ procs: 2, mem: null }).fits(1, 1024 * G), true);
});

Deno.test("Scheduler.schedule() without freed resources looks at fresh jobs in id order", () => {
  const s = new Scheduler({ procs: 2, mem: null });
  addJobs(s, [1]);
  assert.deepEqual(started(s), [1]);
  s.add(newJob({ id: 2, hold: true }), noneEnded);
  addJobs(s, [1], 3);
  s.release(2);
  // Job 3 was queued before job 2 was released; job 2 still comes first.
  assert.deepEqual(started(s), [2]);
  assert.deepEqual(states(s), { 1: "R", 2: "R", 3: "Q" });
  assert.deepEqual(started(s), []);
});

Deno.test("Scheduler.schedule() starts a job once when it was held and released in one pass", () => {
  const s = new Scheduler({ procs: 4, mem: null });
  assert.deepEqual(started(s), []);
  addJobs(s, [1]);
  s.hold(1);
  s.release(1);
  assert.deepEqual(started(s), [1]);
  assert.deepEqual(s.counts(), { Q: 0, H: 0, U: 0, R: 1 });
  assert.deepEqual(s.used, { procs: 1, mem: G });
});

Deno.test("Scheduler.schedule() looks at every queued job again once resources are freed", () => {
  const s = new Scheduler({ procs: 2, mem: null });
  addJobs(s, [2, 2, 1]);
  assert.deepEqual(started(s), [1]);
  assert.deepEqual(started(s), []);
  s.end(1, "F");
  assert.deepEqual(started(s), [2]);
  s.end(2, "K");
  assert.deepEqual(started(s), [3]);
});

Deno.test("Scheduler.end() queues a dependent once all its dependencies succeed", () => {
  const s = new Scheduler({ procs: 4, mem: null });
  addJobs(s, [1, 1]);
  s.add(newJob({ id: 3, deps: after("afterok", 1, 2) }), noneEnded);
  assert.deepEqual(started(s), [1, 2]);
  assert.deepEqual(s.end(1, "S"), []);
  assert.equal(s.get(3)?.pending, 1);
  assert.deepEqual(s.end(2, "S"), [{ id: 3, state: "Q" }]);
  assert.deepEqual(started(s), [3]);
});

Deno.test("Scheduler.end() aborts every descendant of a failed job, a user-held one too", () => {
  const s = new Scheduler({ procs: 4, mem: null });
  addJobs(s, [1]);
  s.add(newJob({ id: 2, deps: after("afterok", 1) }), noneEnded);
  s.add(newJob({ id: 3, deps: after("afterok", 2), hold: true }), noneEnded);
  s.add(newJob({ id: 4, deps: after("afterok", 3) }), noneEnded);
  s.add(newJob({ id: 5, deps: after("afterok", 2, 4) }), noneEnded);
  addJobs(s, [1], 6);
  assert.deepEqual(started(s), [1, 6]);
  const changes = s.end(1, "F");
  assert.deepEqual(
    changes.sort((a, b) => a.id - b.id),
    [abort(2, 1, "F"), abort(3, 2, "A"), abort(4, 3, "A"), abort(5, 2, "A")],
  );
  assert.deepEqual(states(s), { 6: "R" });
  assert.deepEqual(s.counts(), { Q: 0, H: 0, U: 0, R: 1 });
});

Deno.test("Scheduler.end() runs afterany dependents on any end and afternotok ones on failure", () => {
  const s = new Scheduler({ procs: 4, mem: null });
  addJobs(s, [1]);
  s.add(newJob({ id: 2, deps: after("afterok", 1) }), noneEnded);
  s.add(newJob({ id: 3, deps: after("afterany", 1) }), noneEnded);
  s.add(newJob({ id: 4, deps: after("afternotok", 1) }), noneEnded);
  s.add(newJob({ id: 5, deps: after("afterany", 2) }), noneEnded);
  s.add(newJob({ id: 6, deps: after("afternotok", 2) }), noneEnded);
  s.add(newJob({ id: 7, deps: after("afterok", 2) }), noneEnded);
  const changes = s.end(1, "F").sort((a, b) => a.id - b.id);
  assert.deepEqual(changes, [
    abort(2, 1, "F"),
    { id: 3, state: "Q" },
    { id: 4, state: "Q" },
    { id: 5, state: "Q" },
    { id: 6, state: "Q" },
    abort(7, 2, "A"),
  ]);

  const ok = new Scheduler({ procs: 4, mem: null });
  addJobs(ok, [1]);
  ok.add(newJob({ id: 2, deps: after("afternotok", 1) }), noneEnded);
  ok.add(newJob({ id: 3, deps: after("afterok", 2) }), noneEnded);
  ok.add(newJob({ id: 4, deps: after("afterany", 1) }), noneEnded);
  assert.deepEqual(ok.end(1, "S").sort((a, b) => a.id - b.id), [
    abort(2, 1, "S"),
    abort(3, 2, "A"),
    { id: 4, state: "Q" },
  ]);
});

Deno.test("Scheduler.end() of an unknown or ended job changes nothing", () => {
  const s = new Scheduler({ procs: 4, mem: null });
  addJobs(s, [1]);
  assert.deepEqual(s.end(1, "S"), []);
  assert.deepEqual(s.end(1, "F"), []);
  assert.deepEqual(s.end(99, "F"), []);
  assert.deepEqual(s.counts(), { Q: 0, H: 0, U: 0, R: 0 });
});

Deno.test("Scheduler.end() leaves a user-held job in U when its dependencies succeed", () => {
  const s = new Scheduler({ procs: 4, mem: null });
  addJobs(s, [1]);
  s.add(newJob({ id: 2, deps: after("afterok", 1), hold: true }), noneEnded);
  assert.deepEqual(s.end(1, "S"), []);
  assert.deepEqual(s.get(2), {
    id: 2,
    procs: 1,
    mem: G,
    deps: after("afterok", 1),
    state: "U",
    pending: 0,
  });
  assert.deepEqual(s.release(2), { id: 2, state: "Q" });
});

Deno.test("Scheduler.release() and hold() move jobs between U and Q or H", () => {
  const s = new Scheduler({ procs: 1, mem: null });
  addJobs(s, [1]);
  s.add(newJob({ id: 2, deps: after("afterok", 1), hold: true }), noneEnded);
  s.add(newJob({ id: 3, hold: true }), noneEnded);
  assert.deepEqual(s.release(2), { id: 2, state: "H" });
  assert.deepEqual(s.release(3), { id: 3, state: "Q" });
  assert.equal(s.release(3), null, "not in U");
  assert.equal(s.release(99), null);
  assert.deepEqual(s.hold(2), { id: 2, state: "U" });
  assert.deepEqual(s.hold(3), { id: 3, state: "U" });
  assert.equal(s.hold(3), null, "already in U");
  assert.deepEqual(started(s), [1]);
  assert.equal(s.hold(1), null, "running");
  assert.equal(s.hold(99), null);
  assert.deepEqual(s.counts(), { Q: 0, H: 0, U: 2, R: 1 });
});

Deno.test("Scheduler.hold() keeps a queued job from starting", () => {
  const s = new Scheduler({ procs: 2, mem: null });
  addJobs(s, [1, 1]);
  s.hold(1);
  assert.deepEqual(started(s), [2]);
  s.release(1);
  assert.deepEqual(started(s), [1]);
});

Deno.test("Scheduler.requeue() puts a running job back in the queue and frees its resources", () => {
  const s = new Scheduler({ procs: 1, mem: null });
  addJobs(s, [1, 1]);
  assert.deepEqual(started(s), [1]);
  assert.deepEqual(s.requeue(1), { id: 1, state: "Q" });
  assert.equal(s.requeue(1), null, "not running");
  assert.equal(s.requeue(2), null, "queued");
  assert.deepEqual(s.used, { procs: 0, mem: 0 });
  assert.deepEqual(started(s), [1], "back in its place at the head of the queue");
});

Deno.test("Scheduler.restore() rebuilds running, queued, holding and user-held jobs", () => {
  const s = new Scheduler({ procs: 2, mem: 4 * G });
  const ended = endedIn({ 1: "S", 2: "F" });
  const restore = (id: number, state: ActiveState, deps: Dependency[] = [], procs = 1) =>
    s.restore({ id, procs, mem: G, deps, state }, ended);
  restore(3, "R");
  assert.deepEqual(restore(4, "H", after("afterok", 1)), { state: "Q" }, "its dependency ended");
  assert.deepEqual(restore(5, "H", after("afterok", 3)), { state: "H" });
  assert.deepEqual(restore(6, "U", after("afterok", 3)), { state: "U" });
  assert.deepEqual(restore(7, "Q", after("afterok", 2)), aborted(2, "F"));
  assert.deepEqual(restore(8, "Q", [], 2), { state: "Q" });
  assert.deepEqual(states(s), { 3: "R", 4: "Q", 5: "H", 6: "U", 8: "Q" });
  assert.deepEqual(s.used, { procs: 1, mem: G });
  assert.deepEqual(s.counts(), { Q: 2, H: 1, U: 1, R: 1 });
  assert.deepEqual(started(s), [4], "job 8 needs 2 procs, 1 is in use by job 3");
  assert.deepEqual(s.end(3, "S"), [{ id: 5, state: "Q" }]);
  assert.equal(s.get(6)?.pending, 0);
});

Deno.test("Scheduler.counts() follows every state change", () => {
  const s = new Scheduler({ procs: 1, mem: null });
  assert.deepEqual(s.counts(), { Q: 0, H: 0, U: 0, R: 0 });
  addJobs(s, [1, 1]);
  s.add(newJob({ id: 3, deps: after("afterok", 1) }), noneEnded);
  s.add(newJob({ id: 4, hold: true }), noneEnded);
  assert.deepEqual(s.counts(), { Q: 2, H: 1, U: 1, R: 0 });
  started(s);
  assert.deepEqual(s.counts(), { Q: 1, H: 1, U: 1, R: 1 });
  s.end(1, "S");
  assert.deepEqual(s.counts(), { Q: 2, H: 0, U: 1, R: 0 });
  s.end(4, "K");
  s.end(2, "K");
  assert.deepEqual(s.counts(), { Q: 1, H: 0, U: 0, R: 0 });
});

Deno.test("Scheduler.rollback() undoes every change since begin()", () => {
  const s = new Scheduler({ procs: 2, mem: 4 * G });
  addJobs(s, [1, 2, 1]);
  s.add(newJob({ id: 4, deps: after("afterok", 1) }), noneEnded);
  s.add(newJob({ id: 5, deps: after("afterok", 1, 4), hold: true }), noneEnded);
  s.add(newJob({ id: 6, deps: after("afterany", 1) }), noneEnded);
  assert.deepEqual(started(s), [1, 3]);
  const before = snapshot(s);

  s.begin();
  s.end(1, "S");
  s.end(4, "K");
  s.hold(2);
  s.add(newJob({ id: 7, deps: after("afterok", 3) }), noneEnded);
  s.add(newJob({ id: 8 }), noneEnded);
  s.requeue(3);
  assert.deepEqual(started(s), [3, 6]);
  assert.notDeepEqual(snapshot(s), before);
  s.rollback();

  assert.deepEqual(snapshot(s), before);
  assert.equal(s.get(7), undefined);
  // Queue order and pending counts work as before: job 4 waits for job 1 and
  // job 7 (gone) no longer depends on job 3.
  assert.deepEqual(s.end(3, "S"), []);
  assert.deepEqual(started(s), [], "job 2 needs 2 procs, job 1 holds one");
  assert.deepEqual(s.end(1, "S").sort((a, b) => a.id - b.id), [
    { id: 4, state: "Q" },
    { id: 6, state: "Q" },
  ]);
  assert.equal(s.get(5)?.pending, 1);
  assert.deepEqual(started(s), [2], "job 2 is still ahead of jobs 4 and 6");
});

Deno.test("Scheduler.rollback() restores the queue order of jobs that left and came back", () => {
  const s = new Scheduler({ procs: 1, mem: null });
  addJobs(s, [1, 1, 1, 1]);
  s.begin();
  s.hold(2);
  s.end(3, "K");
  s.release(2);
  s.hold(1);
  s.rollback();
  assert.deepEqual(states(s), { 1: "Q", 2: "Q", 3: "Q", 4: "Q" });
  const order: number[] = [];
  for (let id = started(s)[0]; id !== undefined; id = started(s)[0]) {
    order.push(id);
    s.end(id, "S");
  }
  assert.deepEqual(order, [1, 2, 3, 4]);
});

Deno.test("Scheduler.commit() keeps the changes; a later rollback undoes only newer ones", () => {
  const s = new Scheduler({ procs: 2, mem: null });
  addJobs(s, [1, 1]);
  s.begin();
  assert.deepEqual(started(s), [1, 2]);
  s.commit();
  s.begin();
  s.end(1, "S");
  s.rollback();
  assert.deepEqual(states(s), { 1: "R", 2: "R" });
  assert.deepEqual(s.used, { procs: 2, mem: 2 * G });
  s.rollback();
  assert.deepEqual(states(s), { 1: "R", 2: "R" }, "a rollback without begin() undoes nothing");
});

Deno.test("Scheduler.rollback() lets the next pass look at every queued job", () => {
  const s = new Scheduler({ procs: 2, mem: null });
  addJobs(s, [1, 2]);
  assert.deepEqual(started(s), [1]);
  s.begin();
  s.end(1, "S");
  assert.deepEqual(started(s), [2]);
  s.rollback();
  assert.deepEqual(states(s), { 1: "R", 2: "Q" });
  s.begin();
  s.end(1, "S");
  s.commit();
  assert.deepEqual(started(s), [2]);
});

Deno.test("setCapacity: a raised limit starts waiting jobs; a lowered one starts nothing until enough end", () => {
  const s = new Scheduler({ procs: 1, mem: null });
  addJobs(s, [1, 1, 1, 1]);
  assert.deepEqual(started(s), [1]);
  s.setCapacity({ procs: 3, mem: null });
  assert.deepEqual(started(s), [2, 3]);
  s.setCapacity({ procs: 1, mem: 4 * G });
  s.end(1, "S");
  assert.deepEqual(started(s), []);
  s.end(2, "S");
  s.end(3, "S");
  assert.deepEqual(started(s), [4]);
  assert.equal(s.fits(1, 5 * G), false);
});

Deno.test("per-user procs: an owner at its limit is skipped, the others go on in order", () => {
  const s = new Scheduler({ procs: 8, mem: null, userProcs: 2 });
  const jobs: [number, number, number][] = [[1, 1, 1000], [2, 1, 1000], [3, 1, 1000], [4, 2, 1001]];
  for (const [id, procs, owner] of jobs) s.add(newJob({ id, procs, owner }), noneEnded);
  assert.deepEqual(started(s), [1, 2, 4]);
  assert.deepEqual(started(s), []);
  s.end(1, "S");
  assert.deepEqual(started(s), [3], "the owner's freed proc lets its next job start");
});

Deno.test("per-user procs: a job larger than the owner's share never starts alone either", () => {
  const s = new Scheduler({ procs: 8, mem: null, userProcs: 2 });
  s.add(newJob({ id: 1, procs: 3, owner: 1000 }), noneEnded);
  s.add(newJob({ id: 2, procs: 1, owner: 1000 }), noneEnded);
  assert.deepEqual(started(s), [2]);
});

Deno.test("per-user procs: jobs without an owner and a null limit are not limited", () => {
  const s = new Scheduler({ procs: 4, mem: null, userProcs: 1 });
  addJobs(s, [1, 1]);
  assert.deepEqual(started(s), [1, 2]);
  const t = new Scheduler({ procs: 4, mem: null, userProcs: null });
  t.add(newJob({ id: 1, owner: 5 }), noneEnded);
  t.add(newJob({ id: 2, owner: 5 }), noneEnded);
  assert.deepEqual(started(t), [1, 2]);
});

Deno.test("activeOf counts an owner's jobs until they end, and rolls back", () => {
  const s = new Scheduler({ procs: 1, mem: null, userProcs: null });
  s.add(newJob({ id: 1, owner: 7 }), noneEnded);
  s.add(newJob({ id: 2, owner: 7, hold: true }), noneEnded);
  s.add(newJob({ id: 3, owner: 8 }), noneEnded);
  assert.equal(s.activeOf(7), 2);
  assert.deepEqual(started(s), [1]);
  s.begin();
  s.end(1, "S");
  assert.equal(s.activeOf(7), 1);
  s.rollback();
  assert.equal(s.activeOf(7), 2);
  s.end(1, "F");
  s.end(2, "K");
  assert.equal(s.activeOf(7), 0);
  assert.equal(s.activeOf(8), 1);
});

Deno.test("per-user procs: restored running jobs count against their owner", () => {
  const s = new Scheduler({ procs: 8, mem: null, userProcs: 2 });
  s.restore({ id: 1, procs: 2, mem: G, deps: [], state: "R", owner: 1000 }, noneEnded);
  s.add(newJob({ id: 2, owner: 1000 }), noneEnded);
  s.add(newJob({ id: 3, owner: 1001 }), noneEnded);
  assert.deepEqual(started(s), [3]);
});

Deno.test("Scheduler: lookahead marks jobs R ahead of busy slots; the first takes the first slot freed", () => {
  const s = new Scheduler({ procs: 2, mem: null });
  const ended = () => undefined;
  for (let id = 1; id <= 10; id++) s.add({ id, procs: 1, mem: 1, deps: [], hold: false }, ended);
  assert.deepEqual(s.schedule().map((c) => c.id), [1, 2]);
  for (let id = 3; id <= 10; id++) assert.deepEqual(s.reserveAhead(), { id, state: "R" });
  assert.equal(s.reserveAhead(), null, "four jobs ahead per running job at most");
  for (let id = 10; id >= 4; id--) s.requeue(id);
  assert.ok(s.isAhead(3));
  assert.deepEqual(s.used, { procs: 2, mem: 2 }, "its resources are not counted yet");
  assert.deepEqual(s.schedule(), [], "nothing else starts");
  s.begin();
  s.end(1, "S");
  assert.deepEqual(s.promoted(), [3]);
  s.rollback();
  assert.ok(s.isAhead(3), "a rolled back end leaves it ahead");
  assert.deepEqual(s.used, { procs: 2, mem: 2 });
  s.end(2, "S");
  assert.deepEqual(s.promoted(), [3]);
  assert.ok(!s.isAhead(3));
  assert.deepEqual(s.used, { procs: 2, mem: 2 }, "jobs 1 and 3 run");
  s.end(1, "S");
  assert.deepEqual(s.schedule().map((c) => c.id), [4]);
});

Deno.test("Scheduler: lookahead never over-commits: a job ahead takes no slot smaller than itself", () => {
  const ended = () => undefined;
  const job = (id: number, procs: number) => ({ id, procs, mem: 1, deps: [], hold: false });
  // X(4) and Y(4) of 8 run. C(1) goes ahead; D(4) may not follow it: C's own slot,
  // once C runs, could be the next to free, and would be too small for D.
  const s = new Scheduler({ procs: 8, mem: null });
  s.add(job(1, 4), ended);
  s.add(job(2, 4), ended);
  assert.deepEqual(s.schedule().map((c) => c.id), [1, 2]);
  s.add(job(3, 1), ended);
  s.add(job(4, 4), ended);
  s.add(job(5, 3), ended);
  assert.equal(s.reserveAhead()?.id, 3);
  assert.equal(s.reserveAhead(), null, "D(4) and E(3) are larger than C, ahead before them");
  s.end(1, "S");
  assert.deepEqual(s.promoted(), [3]);
  assert.deepEqual(s.schedule().map((c) => c.id), [5], "E(3) fills what X left beside C");
  assert.deepEqual(s.used, { procs: 8, mem: 3 });

  // X(4) and Y(3) of 8 run, D(3) waits ahead. C(1) fits the free proc but may not start:
  // its end would hand D a slot of 1.
  const t = new Scheduler({ procs: 8, mem: null });
  t.add(job(1, 4), ended);
  t.add(job(2, 3), ended);
  assert.deepEqual(t.schedule().map((c) => c.id), [1, 2]);
  t.add(job(3, 3), ended);
  assert.equal(t.reserveAhead()?.id, 3);
  t.add(job(4, 1), ended);
  assert.deepEqual(t.schedule(), [], "no job smaller than the one ahead starts");
  t.end(1, "S");
  assert.deepEqual(t.promoted(), [3]);
  assert.deepEqual(t.schedule().map((c) => c.id), [4], "with nothing ahead, C starts");
  assert.deepEqual(t.used, { procs: 7, mem: 3 });
});

Deno.test("Scheduler: a job ahead of its slot that is killed frees nothing and leaves room for another", () => {
  const s = new Scheduler({ procs: 1, mem: null });
  const ended = () => undefined;
  for (let id = 1; id <= 3; id++) s.add({ id, procs: 1, mem: 1, deps: [], hold: false }, ended);
  s.schedule();
  assert.equal(s.reserveAhead()?.id, 2);
  s.end(2, "K");
  assert.deepEqual(s.used, { procs: 1, mem: 1 });
  assert.equal(s.reserveAhead()?.id, 3);
  assert.equal(s.counts().R, 2);
});
