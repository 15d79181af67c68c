import assert from "node:assert/strict";
import { type Capacity, rankOf, type SchedJob, Scheduler } from "./scheduler.ts";
import { random as prng } from "../tests/prng.ts";

const G = 1024 ** 3;
const none = () => undefined;

Deno.test("GPUs: a job gets the first free devices, and gives them back when it ends", () => {
  const s = new Scheduler({ procs: 8, mem: null, gpus: ["0", "1", "2"] });
  s.add({ id: 1, procs: 1, mem: G, deps: [], hold: false, gpus: 2 }, none);
  s.add({ id: 2, procs: 1, mem: G, deps: [], hold: false, gpus: 2 }, none);
  s.add({ id: 3, procs: 1, mem: G, deps: [], hold: false, gpus: 1 }, none);
  s.add({ id: 4, procs: 1, mem: G, deps: [], hold: false }, none);
  // 2 does not fit (one device left): skipped, 3 and 4 start.
  assert.deepEqual(s.schedule().map((c) => c.id), [1, 3, 4]);
  assert.deepEqual(s.get(1)!.gpuIds, ["0", "1"]);
  assert.deepEqual(s.get(3)!.gpuIds, ["2"]);
  assert.equal(s.get(4)!.gpuIds, undefined);
  assert.equal(s.usedGpus, 3);
  s.end(1, "S");
  assert.deepEqual(s.schedule().map((c) => c.id), [2]);
  assert.deepEqual(s.get(2)!.gpuIds, ["0", "1"]);
  assert.equal(s.gpuHolder("0"), 2);
  assert.equal(s.gpuHolder("2"), 3);
});

Deno.test("GPUs: a restored running job keeps its devices; a rollback gives them back", () => {
  const s = new Scheduler({ procs: 8, mem: null, gpus: ["a", "b"] });
  s.restore({ id: 1, procs: 1, mem: G, deps: [], state: "R", gpus: 1, gpuIds: ["b"] }, none);
  s.add({ id: 2, procs: 1, mem: G, deps: [], hold: false, gpus: 1 }, none);
  s.add({ id: 3, procs: 1, mem: G, deps: [], hold: false, gpus: 1 }, none);
  s.begin();
  assert.deepEqual(s.schedule().map((c) => c.id), [2]);
  assert.deepEqual(s.get(2)!.gpuIds, ["a"]);
  s.rollback();
  assert.equal(s.get(2)!.state, "Q");
  assert.equal(s.gpuHolder("a"), undefined);
  assert.equal(s.gpuHolder("b"), 1);
  assert.deepEqual(s.schedule().map((c) => c.id), [2]);
  assert.deepEqual(s.get(2)!.gpuIds, ["a"]);
});

Deno.test("GPUs: fits() refuses more GPUs than there are; fewer devices after a reload leave running jobs theirs", () => {
  const s = new Scheduler({ procs: 8, mem: null, gpus: ["0", "1"] });
  assert.equal(s.fits(1, G, 2), true);
  assert.equal(s.fits(1, G, 3), false);
  assert.equal(new Scheduler({ procs: 8, mem: null }).fits(1, G, 1), false);
  s.add({ id: 1, procs: 1, mem: G, deps: [], hold: false, gpus: 2 }, none);
  s.schedule();
  s.setCapacity({ procs: 8, mem: null, gpus: ["1"] });
  s.add({ id: 2, procs: 1, mem: G, deps: [], hold: false, gpus: 1 }, none);
  assert.deepEqual(s.schedule(), [], "device 1 is still job 1's");
  s.end(1, "S");
  assert.deepEqual(s.schedule().map((c) => c.id), [2]);
  assert.deepEqual(s.get(2)!.gpuIds, ["1"]);
});

/**
 * The jobs FIFO-with-skipping must start, given the queue, what is free
 * before a pass, and the smallest size a job must have to start while jobs
 * wait ahead of a slot (the largest of them).
 */
function expectedStarts(
  queued: readonly Readonly<SchedJob>[],
  free: { procs: number; mem: number; gpus: number },
  smallest: { procs: number; mem: number },
): number[] {
  const order = [...queued].sort((a, b) => rankOf(a) - rankOf(b) || a.id - b.id);
  const out: number[] = [];
  let { procs, mem, gpus } = free;
  for (const job of order) {
    if (job.procs > procs || job.mem > mem || (job.gpus ?? 0) > gpus) continue;
    if (job.procs < smallest.procs || job.mem < smallest.mem) continue;
    procs -= job.procs;
    mem -= job.mem;
    gpus -= job.gpus ?? 0;
    out.push(job.id);
  }
  return out.sort((a, b) => a - b);
}

/** Checks that no device is held twice, every GPU job holds exactly its devices, and totals fit. */
function checkHeld(s: Scheduler, capacity: Required<Capacity>, step: string): void {
  const holders = new Map<string, number>();
  let procs = 0;
  let mem = 0;
  for (const job of s.jobs()) {
    if (job.state !== "R" || job.ahead) continue;
    procs += job.procs;
    mem += job.mem;
    const ids = job.gpuIds ?? [];
    assert.equal(ids.length, job.gpus ?? 0, `${step}: job ${job.id} holds ${ids} for ${job.gpus}`);
    for (const d of ids) {
      assert.ok(capacity.gpus.includes(d), `${step}: job ${job.id} holds unknown device ${d}`);
      const other = holders.get(d);
      assert.equal(other, undefined, `${step}: device ${d} held by jobs ${other} and ${job.id}`);
      holders.set(d, job.id);
      assert.equal(s.gpuHolder(d), job.id, `${step}: the scheduler's holder of ${d}`);
    }
  }
  assert.equal(s.usedGpus, holders.size, `${step}: GPUs in use`);
  assert.ok(procs <= capacity.procs, `${step}: ${procs} procs in use of ${capacity.procs}`);
  assert.ok(mem <= capacity.mem!, `${step}: ${mem} bytes in use of ${capacity.mem}`);
}

/** What of the model a rollback must restore. */
function picture(s: Scheduler): string {
  return JSON.stringify(
    [...s.jobs()].sort((a, b) => a.id - b.id).map((j) => [j.id, j.state, j.gpuIds ?? null]),
  );
}

Deno.test("GPUs property: under a random workload no device is ever held by two running jobs, totals fit, and FIFO-with-skipping holds", () => {
  for (let seed = 1; seed <= 60; seed++) {
    const rand = prng(seed);
    const pick = (n: number) => Math.floor(rand() * n);
    const devices = Array.from({ length: 1 + pick(6) }, (_, i) => `GPU-${seed}-${i}`);
    const capacity: Required<Capacity> = {
      procs: 2 + pick(10),
      mem: (4 + pick(12)) * G,
      userProcs: null,
      gpus: devices,
      queues: {},
    };
    const s = new Scheduler(capacity);
    // Lookahead on odd seeds: a job ahead of its slot never takes one smaller than itself.
    const lookahead = seed % 2 === 1;
    let nextId = 1;
    for (let step = 0; step < 400; step++) {
      const where = `seed ${seed} step ${step}`;
      const roll = rand();
      const trial = rand() < 0.1;
      const before = trial ? picture(s) : "";
      if (trial) s.begin();
      if (roll < 0.45) {
        const gpus = rand() < 0.5 ? 0 : 1 + pick(devices.length);
        s.add({
          id: nextId++,
          procs: 1 + pick(capacity.procs),
          mem: (1 + pick(4)) * G,
          deps: [],
          hold: false,
          priority: rand() < 0.2 ? pick(3) - 1 : 0,
          ...(gpus ? { gpus } : {}),
        }, none);
      } else if (roll < 0.85) {
        const running = [...s.jobs()].filter((j) => j.state === "R");
        const ending = running[pick(running.length)];
        if (ending !== undefined) s.end(ending.id, rand() < 0.8 ? "S" : "F");
      } else if (roll < 0.9) {
        const running = [...s.jobs()].filter((j) => j.state === "R" && !j.ahead);
        const back = running[pick(running.length)];
        if (back !== undefined) s.requeue(back.id);
      } else if (lookahead) {
        // Lookahead never takes a GPU job ahead of its devices.
        const ahead = s.reserveAhead();
        if (ahead !== null) {
          assert.ok(!s.get(ahead.id)!.gpus, `${where}: GPU job ${ahead.id} ahead`);
        }
      }
      checkHeld(s, capacity, `${where} (after the event)`);
      const queued = [...s.jobs()].filter((j) => j.state === "Q");
      const used = s.used;
      const free = {
        procs: capacity.procs - used.procs,
        mem: capacity.mem! - used.mem,
        gpus: devices.length - s.usedGpus,
      };
      const ahead = [...s.jobs()].filter((j) => j.ahead);
      const smallest = {
        procs: Math.max(0, ...ahead.map((j) => j.procs)),
        mem: Math.max(0, ...ahead.map((j) => j.mem)),
      };
      const want = expectedStarts(queued, free, smallest);
      const got = s.schedule().map((c) => c.id).sort((a, b) => a - b);
      assert.deepEqual(got, want, `${where}: the pass started ${got}, FIFO-with-skipping ${want}`);
      checkHeld(s, capacity, `${where} (after the pass)`);
      s.promoted();
      if (trial) {
        s.rollback();
        assert.equal(picture(s), before, `${where}: rollback`);
        checkHeld(s, capacity, `${where} (after a rollback)`);
        s.schedule();
        checkHeld(s, capacity, `${where} (after a rollback and a pass)`);
      }
    }
  }
});
