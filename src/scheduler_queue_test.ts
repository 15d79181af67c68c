import assert from "node:assert/strict";
import { type NewJob, Scheduler } from "./scheduler.ts";

const G = 1024 ** 3;
const job = (id: number, queue: string, procs = 1, priority = 0): NewJob => ({
  id,
  procs,
  mem: G,
  deps: [],
  hold: false,
  queue,
  priority,
});
const none = () => undefined;
const started = (s: Scheduler) => s.schedule().map((c) => c.id);
const queues = {
  one: { maxprocs: 1, maxmem: null },
  two: { maxprocs: 2, maxmem: null },
  small: { maxprocs: null, maxmem: 2 * G },
};

Deno.test("a full queue skips its jobs; jobs of other queues and of the machine go on", () => {
  const s = new Scheduler({ procs: 8, mem: null, queues });
  for (let id = 1; id <= 3; id++) s.add(job(id, "one"), none);
  for (let id = 4; id <= 6; id++) s.add(job(id, "two"), none);
  s.add(job(7, "default", 2), none);
  assert.deepEqual(started(s), [1, 4, 5, 7], "one of 'one', two of 'two', and the unlimited job");
  assert.deepEqual(s.queueUsed("two"), { procs: 2, mem: 2 * G });
  s.end(4, "S");
  assert.deepEqual(started(s), [6], "the freed slot of 'two' goes to 'two', not to 'one'");
  s.end(1, "S");
  assert.deepEqual(started(s), [2]);
  assert.deepEqual(s.queueUsed("one"), { procs: 1, mem: G });
});

Deno.test("queue memory limits count like CPUs; the machine's limits still apply", () => {
  const s = new Scheduler({ procs: 3, mem: null, queues });
  for (let id = 1; id <= 4; id++) s.add(job(id, "small"), none);
  s.add(job(5, "two", 2), none);
  assert.deepEqual(started(s), [1, 2], "2G of 'small', then the machine is one CPU short of job 5");
  s.end(1, "S");
  assert.deepEqual(started(s), [3]);
});

Deno.test("priorities order the jobs within and across queues", () => {
  const s = new Scheduler({ procs: 8, mem: null, queues });
  s.add(job(1, "one"), none);
  s.add(job(2, "one", 1, 5), none);
  s.add(job(3, "two"), none);
  assert.deepEqual(started(s), [2, 3], "the urgent job takes the queue's only slot");
  s.end(2, "S");
  assert.deepEqual(started(s), [1]);
});

Deno.test("queue limits: a random workload never exceeds any queue's or the machine's limits", () => {
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const names = ["one", "two", "small", "free"];
  const s = new Scheduler({ procs: 4, mem: 6 * G, queues });
  const running = new Set<number>();
  const queueOf = new Map<number, string>();
  for (let id = 1; id <= 2000; id++) {
    if (random(3) > 0 || running.size === 0) {
      const q = names[random(names.length)]!;
      queueOf.set(id, q);
      s.add({ ...job(id, q, 1 + random(2), random(3) - 1), mem: G * (1 + random(2)) }, none);
    } else {
      const ids = [...running];
      const done = ids[random(ids.length)]!;
      s.end(done, "S");
      running.delete(done);
    }
    for (const started of s.schedule()) running.add(started.id);
    const used = new Map<string, { procs: number; mem: number }>();
    let procs = 0;
    let mem = 0;
    for (const r of running) {
      const j = s.get(r)!;
      procs += j.procs;
      mem += j.mem;
      const u = used.get(queueOf.get(r)!) ?? { procs: 0, mem: 0 };
      used.set(queueOf.get(r)!, { procs: u.procs + j.procs, mem: u.mem + j.mem });
    }
    assert.ok(procs <= 4 && mem <= 6 * G, "the machine's limits");
    assert.ok((used.get("one")?.procs ?? 0) <= 1, "queue one");
    assert.ok((used.get("two")?.procs ?? 0) <= 2, "queue two");
    assert.ok((used.get("small")?.mem ?? 0) <= 2 * G, "queue small");
    for (const name of names) {
      assert.deepEqual(s.queueUsed(name), used.get(name) ?? { procs: 0, mem: 0 });
    }
  }
});

Deno.test("queue limits change with the capacity (sjq reload); a rollback restores the counts", () => {
  const s = new Scheduler({ procs: 8, mem: null, queues });
  for (let id = 1; id <= 3; id++) s.add(job(id, "one"), none);
  assert.deepEqual(started(s), [1]);
  s.setCapacity({ procs: 8, mem: null, queues: { one: { maxprocs: 3, maxmem: null } } });
  s.begin();
  assert.deepEqual(started(s), [2, 3]);
  s.rollback();
  assert.deepEqual(s.queueUsed("one"), { procs: 1, mem: G });
  assert.deepEqual(started(s), [2, 3]);
});

Deno.test("no lookahead for a job of a limited queue: it could pass its queue's limit", () => {
  const s = new Scheduler({ procs: 1, mem: null, queues });
  s.add(job(1, "free"), none);
  assert.deepEqual(started(s), [1]);
  s.add(job(2, "one"), none);
  s.add(job(3, "free"), none);
  assert.equal(s.reserveAhead()?.id, 3);
});

Deno.test("restored running jobs count against their queue", () => {
  const s = new Scheduler({ procs: 8, mem: null, queues });
  s.restore({ ...job(1, "two", 2), state: "R" }, none);
  s.add(job(2, "two"), none);
  s.add(job(3, "one"), none);
  assert.deepEqual(started(s), [3], "queue two is full with the restored job");
  assert.deepEqual(s.queueUsed("two"), { procs: 2, mem: G });
});
