/**
 * GPUs as a resource, end to end: a daemon with three declared (fake)
 * devices gives each GPU job exactly its own in CUDA_VISIBLE_DEVICES and
 * SJQ_GPUS, never one device to two running jobs, refuses jobs that want
 * more than there are, and keeps running jobs' devices across a restart.
 *
 * @module
 */

import assert from "node:assert/strict";
import { tempDir, TestDaemon, waitFor } from "./harness.ts";
import { Bench } from "./gated_jobs.ts";

const ARGS = ["--gpus", "0,1,2", "--maxprocs", "8", "--autoshutdown", "F"];

/** A gated job that records the devices it was given in `dev.<id>` (`unset` when none). */
const GPU_GATE = `#!/bin/sh
printf '%s|%s\\n' "\${CUDA_VISIBLE_DEVICES-unset}" "\${SJQ_GPUS-unset}" > "dev.$SJQ_JOB_ID.tmp"
mv "dev.$SJQ_JOB_ID.tmp" "dev.$SJQ_JOB_ID"
while [ ! -e "go.$SJQ_JOB_ID" ]; do sleep 0.02; done
exit 0
`;

/** What job `id` found in CUDA_VISIBLE_DEVICES and SJQ_GPUS, once it has started. */
function devicesOf(bench: Bench, id: number): Promise<string> {
  return waitFor(
    () => bench.read(`dev.${id}`).then((t) => t.trim()),
    `job ${id} to record its devices`,
  );
}

/** Checks that no device is held by two running jobs (from INFO); returns the holder of each. */
async function checkNoSharing(bench: Bench, ids: number[]): Promise<Map<string, number>> {
  const held = new Map<string, number>();
  for (const id of ids) {
    const job = await bench.info(id);
    if (job.state !== "R") continue;
    assert.equal(job.gpu_ids.length, job.gpus, `job ${id} holds ${job.gpu_ids}`);
    for (const d of job.gpu_ids) {
      assert.equal(held.get(d), undefined, `device ${d} held by jobs ${held.get(d)} and ${id}`);
      held.set(d, id);
    }
  }
  return held;
}

Deno.test("gpus: each job gets exactly its devices, none shared, too many refused, kept across a restart", async () => {
  await using d1 = await TestDaemon.start({ args: ARGS });
  const dir = `${d1.home}/work`;
  let ids: number[];
  let a: number, b: number, c: number;
  {
    await using bench = await Bench.open(d1, dir);
    a = await bench.submit(GPU_GATE, { GPUS: "2" });
    b = await bench.submit(GPU_GATE, { GPUS: "2" }); // does not fit beside a: skipped
    c = await bench.submit(GPU_GATE, { GPUS: "1" });
    const plain = await bench.submit(GPU_GATE); // the original client's SUBMIT: no GPUS
    ids = [a, b, c, plain];
    assert.equal(await devicesOf(bench, a), "0,1|0,1");
    assert.equal(await devicesOf(bench, c), "2|2");
    assert.equal(await devicesOf(bench, plain), "unset|unset", "no GPUs: neither variable set");
    assert.equal(await bench.client.state(b), "Q");
    assert.deepEqual((await bench.info(b)).gpu_ids, [], "a waiting job holds no device");
    assert.equal((await bench.info(b)).gpus, 2);
    assert.deepEqual((await checkNoSharing(bench, ids)).size, 3);

    // More than the daemon has: refused at once, like MEM over sjq.maxmem.
    assert.equal(
      await bench.client.submit(GPU_GATE, { CWD: dir, GPUS: "4" }),
      "ERROR GPUS 4 is more than sjq.gpus (3 devices)",
    );
    assert.match(await bench.client.submit(GPU_GATE, { CWD: dir, GPUS: "x" }), /^ERROR Bad GPUS/);

    // What people see: the JSON fields, and why b waits.
    const json = await d1.cli(["status", "--json", String(a)]);
    assert.equal(json.code, 0, json.stderr);
    const [shown] = JSON.parse(json.stdout);
    assert.equal(shown.gpus, 2);
    assert.deepEqual(shown.gpu_ids, ["0", "1"]);
    const table = await d1.cli(["status"]);
    assert.equal(table.code, 0, table.stderr);
    const row = table.stdout.split("\n").find((l) => l.trim().startsWith(`${b} `));
    assert.match(row ?? "", /waiting for 2 GPUs \(0 free\)$/, table.stdout);
    const show = await d1.cli(["show", String(b), "--lines", "0"]);
    assert.match(show.stdout, /reason\s+waiting for 1 CPU, 2 GPUs and 2G/, show.stdout);
    assert.match(
      (await d1.cli(["show", String(a), "--lines", "0"])).stdout,
      /gpus\s+2 \(devices 0,1\)/,
    );
    await bench.open(plain);
    assert.equal(await bench.wait(plain), "OK S 0");
  }

  // A daemon restart: the running jobs keep their devices, nobody is given them.
  await d1.crash();
  await using d2 = await TestDaemon.start({ home: d1.home, args: ARGS });
  await using bench = await Bench.open(d2, dir);
  assert.equal(await bench.client.state(a), "R");
  assert.deepEqual((await bench.info(a)).gpu_ids, ["0", "1"]);
  assert.deepEqual((await bench.info(c)).gpu_ids, ["2"]);
  const e = await bench.submit(GPU_GATE, { GPUS: "1" });
  ids.push(e);
  assert.equal(await bench.client.state(b), "Q");
  assert.equal(await bench.client.state(e), "Q", "every device is still held");

  // c ends: its device goes to e (b, first in line, needs two and is skipped).
  await bench.open(c);
  assert.equal(await bench.wait(c), "OK S 0");
  assert.equal(await devicesOf(bench, e), "2|2");
  assert.equal(await bench.client.state(b), "Q");
  await checkNoSharing(bench, ids);

  // a ends: b gets a's two devices.
  await bench.open(a);
  assert.equal(await bench.wait(a), "OK S 0");
  assert.equal(await devicesOf(bench, b), "0,1|0,1");
  assert.equal((await checkNoSharing(bench, ids)).size, 3);
  assert.deepEqual((await bench.info(a)).gpu_ids, ["0", "1"], "an ended job shows what it had");
  for (const id of [b, e]) {
    await bench.open(id);
    assert.equal(await bench.wait(id), "OK S 0");
  }
});

Deno.test("gpus: sjq submit --gpus, #SJQ and #SBATCH directives; usage errors and refusals", async () => {
  await using d = await TestDaemon.start({ args: ARGS });
  const dir = `${d.home}/work`;
  await using bench = await Bench.open(d, dir);
  const script = (directive: string) =>
    `#!/bin/sh\n${directive}\nprintf '%s\\n' "$CUDA_VISIBLE_DEVICES" > "dev.$SJQ_JOB_ID"\n`;
  await Deno.writeTextFile(`${dir}/sjq.sh`, script("#SJQ --gpus 2"));
  await Deno.writeTextFile(`${dir}/sbatch.sh`, script("#SBATCH --gres=gpu:3"));
  await Deno.writeTextFile(`${dir}/flag.sh`, script(""));
  for (
    const [file, flags, want] of [
      ["sjq.sh", [], "0,1"],
      ["sbatch.sh", [], "0,1,2"],
      ["flag.sh", ["-G", "1"], "0"],
      ["sjq.sh", ["--gpus", "1"], "0"], // the command line wins over the directive
    ] as const
  ) {
    const r = await d.cli(["submit", "--wait", ...flags, file], { cwd: dir });
    assert.equal(r.code, 0, `${file} ${flags}: ${r.stderr}`);
    assert.equal(await bench.read(`dev.${r.stdout.trim()}`), `${want}\n`, `${file} ${flags}`);
  }
  const many = await d.cli(["submit", "--gpus", "4", "flag.sh"], { cwd: dir });
  assert.equal(many.code, 1);
  assert.match(many.stderr, /GPUS 4 is more than sjq\.gpus \(3 devices\)/);
  const bad = await d.cli(["submit", "--gpus", "two", "flag.sh"], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: bad --gpus "two"/m);
});

Deno.test("gpus: an array's tasks share the devices out, one each, never two on one", async () => {
  await using d = await TestDaemon.start({ args: ARGS });
  await using bench = await Bench.open(d);
  const head = await bench.submit(GPU_GATE, { GPUS: "1", ARRAY: "1-4" });
  const tasks = [head + 1, head + 2, head + 3, head + 4];
  const devices = await Promise.all(tasks.slice(0, 3).map((t) => devicesOf(bench, t)));
  assert.deepEqual(devices.sort(), ["0|0", "1|1", "2|2"]);
  assert.equal(await bench.client.state(tasks[3]!), "Q", "no device is left for the fourth");
  assert.equal((await checkNoSharing(bench, tasks)).size, 3);
  const freed = (await bench.info(tasks[1]!)).gpu_ids;
  await bench.open(tasks[1]!);
  assert.equal(await devicesOf(bench, tasks[3]!), `${freed}|${freed}`);
  assert.equal((await checkNoSharing(bench, tasks)).size, 3);
  for (const t of [tasks[0]!, tasks[2]!, tasks[3]!]) await bench.open(t);
  assert.equal(await bench.wait(head), "OK S -");
});

Deno.test("gpus: found with nvidia-smi -L when sjq.gpus is not set; sjq reload applies a new sjq.gpus", async () => {
  await using home = await tempDir();
  const bin = `${home.path}/bin`;
  await Deno.mkdir(bin);
  // A stand-in for nvidia-smi: the listing of a machine with two GPUs, one split into MIG devices.
  await Deno.writeTextFile(
    `${bin}/nvidia-smi`,
    `#!/bin/sh
[ "$1" = "-L" ] || exit 9
echo 'GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-5f3c0a1e-0000)'
echo 'GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-77d2b9c4-1111)'
echo '  MIG 1g.5gb      Device  0: (UUID: MIG-0c7e4cd5-2222)'
`,
    { mode: 0o755 },
  );
  await using d = await TestDaemon.start({
    home: home.path,
    args: ["--autoshutdown", "F"],
    env: { PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}` },
  });
  const config = await d.cli(["config", "sjq.gpus"]);
  assert.equal(config.stdout, "GPU-5f3c0a1e-0000,GPU-77d2b9c4-1111\n", config.stderr);
  await using bench = await Bench.open(d);
  const first = await bench.submit(GPU_GATE, { GPUS: "1" });
  assert.equal(await devicesOf(bench, first), "GPU-5f3c0a1e-0000|GPU-5f3c0a1e-0000");
  assert.match(await bench.client.submit(GPU_GATE, { GPUS: "3" }), /^ERROR GPUS 3 is more/);

  // Three devices of their own now: the running job keeps its GPU, new jobs get the new ones.
  await Deno.writeTextFile(`${d.home}/.sjqrc`, "sjq.gpus = 3\n");
  const reload = await d.cli(["reload"]);
  assert.equal(reload.code, 0, reload.stderr);
  assert.match(reload.stderr, /sjq\.gpus = 0,1,2 \(was GPU-5f3c0a1e-0000,GPU-77d2b9c4-1111\)/);
  const second = await bench.submit(GPU_GATE, { GPUS: "3" });
  assert.equal(await devicesOf(bench, second), "0,1,2|0,1,2");
  assert.deepEqual((await bench.info(first)).gpu_ids, ["GPU-5f3c0a1e-0000"]);
  for (const id of [first, second]) {
    await bench.open(id);
    assert.equal(await bench.wait(id), "OK S 0");
  }
});

Deno.test("gpus: a retried or restarted GPU job is given devices again", async () => {
  await using d = await TestDaemon.start({ args: ARGS });
  await using bench = await Bench.open(d);
  const gate = GPU_GATE.replace("exit 0", `exit "$(cat "go.$SJQ_JOB_ID")"`);
  const id = await bench.submit(gate, { GPUS: "2", RETRIES: "1" });
  assert.equal(await devicesOf(bench, id), "0,1|0,1");
  await Deno.remove(`${bench.dir}/dev.${id}`);
  await bench.open(id, 1); // fails: retried at once, and fails again
  assert.equal(await bench.wait(id), "OK F 1");
  assert.equal(await devicesOf(bench, id), "0,1|0,1", "the retry had the devices too");
  await Deno.remove(`${bench.dir}/dev.${id}`);
  await bench.open(id, 0);
  const restart = await d.cli(["restart", String(id)]);
  assert.equal(restart.code, 0, restart.stderr);
  assert.equal(await bench.wait(id), "OK S 0");
  assert.equal(await devicesOf(bench, id), "0,1|0,1");
  assert.deepEqual((await bench.info(id)).gpu_ids, ["0", "1"]);
});
