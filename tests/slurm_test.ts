/**
 * The Slurm backend against a real single-node Slurm (tests/slurm_cluster.ts):
 * submit, the CPU/memory/environment mapping seen by the job, exit codes, a
 * dependency chain with a failure, hold/release, kill, timeout, a daemon
 * SIGKILLed while jobs run and pend, and sbatch refusing a job.
 *
 * When Slurm cannot be installed or started the test says so loudly and
 * passes, unless SJQ_REQUIRE_SLURM=1 (set by .ci/run), which makes it fail.
 */

import assert from "node:assert/strict";
import type { JobInfo } from "../src/info.ts";
import { type Output, TestDaemon, waitFor } from "./harness.ts";
import { type SlurmCluster, startSlurm } from "./slurm_cluster.ts";

/** A daemon with the Slurm backend, polling at least once a second. */
function slurmDaemon(cluster: SlurmCluster, home?: string, rc?: string): Promise<TestDaemon> {
  return TestDaemon.start({
    args: ["--backend", "slurm", "--slurm-poll", "1s", "--autoshutdown", "F"],
    env: { ...cluster.env, LEAK_ME: "daemon's" },
    ...(home === undefined ? {} : { home }),
    ...(rc === undefined ? {} : { rc }),
  });
}

async function run(d: TestDaemon, args: string[], code = 0): Promise<Output> {
  const out = await d.cli(args, { cwd: d.home });
  assert.equal(out.code, code, `sjq ${args.join(" ")} exited ${out.code}; stderr:\n${out.stderr}`);
  return out;
}

async function submit(d: TestDaemon, args: string[]): Promise<number> {
  const out = await run(d, ["submit", ...args]);
  assert.match(out.stdout, /^\d+\n$/);
  return Number(out.stdout);
}

async function info(d: TestDaemon, id: number): Promise<JobInfo> {
  return (JSON.parse((await run(d, ["status", "--json", String(id)])).stdout) as JobInfo[])[0]!;
}

/** Waits until the job has ended (sjq wait passes on its exit code: any is fine here). */
async function ended(d: TestDaemon, id: number): Promise<JobInfo> {
  await d.cli(["wait", String(id)], { cwd: d.home });
  return await info(d, id);
}

/** Slurm's view of the cluster's jobs: name → rows of [id, state]. */
async function slurmJobs(cluster: SlurmCluster): Promise<Map<string, string[][]>> {
  const out = await cluster.run("squeue", ["-h", "-t", "all", "-O", "JobID:|,Name:|,State:|"]);
  const jobs = new Map<string, string[][]>();
  for (const line of out.split("\n").filter((l) => l !== "")) {
    const [id = "", name = "", state = ""] = line.split("|");
    jobs.set(name, [...jobs.get(name) ?? [], [id, state]]);
  }
  return jobs;
}

/** The Slurm job name sjq gave job `id` (from its Slurm id). */
async function slurmName(cluster: SlurmCluster, slurmId: string): Promise<string> {
  const out = await cluster.run("squeue", ["-h", "-t", "all", "-j", slurmId, "-O", "Name:|"]);
  return out.trim().replace(/\|$/, "");
}

Deno.test("Slurm backend, against a real single-node Slurm", async (t) => {
  const cluster = await startSlurm();
  if (typeof cluster === "string") {
    const banner = "!".repeat(78);
    console.error(`\n${banner}\n!!! SLURM TESTS DID NOT RUN: ${cluster}\n${banner}\n`);
    if (Deno.env.get("SJQ_REQUIRE_SLURM") === "1") throw new Error(cluster);
    return;
  }
  await using _cluster = cluster;

  await t.step(
    "a job runs in Slurm with its CPUs, memory, name and exactly its environment",
    async () => {
      await using d = await slurmDaemon(cluster);
      await Deno.writeTextFile(
        `${d.home}/job.sh`,
        `#!/bin/sh
echo "cpus=$SLURM_CPUS_PER_TASK mem=$SLURM_MEM_PER_NODE sjq=$SJQ_JOB_ID foo=$FOO leak=$LEAK_ME"
echo "path=$PATH pwd=$(pwd) args=$*"
echo oops >&2
exit 3
`,
      );
      const id = await submit(d, [
        "-p",
        "2",
        "-m",
        "300M",
        "-n",
        "mapping",
        "--no-env",
        "--env",
        "FOO=bar baz",
        "job.sh",
        "one",
        "two",
      ]);
      const job = await ended(d, id);
      assert.deepEqual([job.state, job.exit_code], ["F", 3], JSON.stringify(job));
      assert.match(job.slurm_id ?? "", /^\d+$/);
      assert.equal(
        await Deno.readTextFile(job.stdout),
        `cpus=2 mem=300 sjq=${id} foo=bar baz leak=\npath=/usr/local/bin:/usr/bin:/bin pwd=${d.home} args=one two\n`,
      );
      assert.equal(await Deno.readTextFile(job.stderr), "oops\n");
      const name = await slurmName(cluster, job.slurm_id!);
      assert.match(name, new RegExp(`^sjq-[0-9a-f]{8}-${id}$`));
      const detail = await cluster.run("scontrol", ["show", "job", "-o", job.slurm_id!]);
      assert.match(detail, /NumCPUs=2 /);
      assert.match(detail, /mem=300M/);
      assert.match(detail, new RegExp(`Comment=sjq [0-9a-f]{8} ${id} mapping`));
      assert.match(detail, /Requeue=0/);

      const ok = await submit(d, ["--wrap", "true"]);
      assert.deepEqual([(await ended(d, ok)).state, (await info(d, ok)).exit_code], ["S", 0]);
    },
  );

  await t.step(
    "a dependency chain with a failure: the rest is aborted and never reaches Slurm",
    async () => {
      await using d = await slurmDaemon(cluster);
      const a = await submit(d, ["--wrap", "exit 1"]);
      const b = await submit(d, ["--after", String(a), "--wrap", "true"]);
      const c = await submit(d, ["--after", String(b), "--wrap", "true"]);
      const rescue = await submit(d, ["--afternotok", String(a), "--wrap", "true"]);
      assert.equal((await ended(d, a)).state, "F");
      assert.equal((await ended(d, b)).state, "A");
      assert.equal((await ended(d, c)).state, "A");
      assert.equal((await ended(d, rescue)).state, "S");
      const tag = (await slurmName(cluster, (await info(d, a)).slurm_id!)).replace(/-\d+$/, "");
      const names = await slurmJobs(cluster);
      assert.ok(
        !names.has(`${tag}-${b}`) && !names.has(`${tag}-${c}`),
        "aborted jobs never submitted",
      );
    },
  );

  await t.step("hold and release: a held job waits in sjq, not in Slurm", async () => {
    await using d = await slurmDaemon(cluster);
    const id = await submit(d, ["--hold", "--wrap", "echo released"]);
    assert.equal((await info(d, id)).state, "U");
    assert.equal((await info(d, id)).slurm_id, null);
    await run(d, ["release", String(id)]);
    const job = await ended(d, id);
    assert.equal(job.state, "S");
    assert.equal(await Deno.readTextFile(job.stdout), "released\n");
  });

  await t.step("kill of a running job cancels it in Slurm", async () => {
    await using d = await slurmDaemon(cluster);
    const id = await submit(d, ["--wrap", "echo started; sleep 300"]);
    const stdout = `${d.home}/${id}.stdout`;
    await waitFor(
      () => Deno.readTextFile(stdout).then((t) => t === "started\n"),
      "the job to run",
      60_000,
    );
    await run(d, ["kill", String(id)]);
    const job = await ended(d, id);
    assert.equal(job.state, "K", JSON.stringify(job));
    await waitFor(
      async () =>
        (await cluster.run("squeue", ["-h", "-t", "all", "-j", job.slurm_id!, "-o", "%T"]))
          .trim() === "CANCELLED",
      "Slurm to cancel the job",
      30_000,
    );
  });

  await t.step("a job past its timeout is ended and fails", async () => {
    await using d = await slurmDaemon(cluster);
    const id = await submit(d, ["-t", "2", "--wrap", "echo started; sleep 300"]);
    const job = await ended(d, id);
    assert.equal(job.state, "F", JSON.stringify(job));
    assert.match(job.reason ?? "", /timed out after 2 s/);
    await waitFor(
      async () =>
        (await cluster.run("squeue", ["-h", "-t", "all", "-j", job.slurm_id!, "-o", "%T"]))
          .trim() === "CANCELLED",
      "Slurm to end the job",
      30_000,
    );
  });

  await t.step(
    "sbatch refusing a job (a bad partition) ends it in E with sbatch's reason",
    async () => {
      await using d = await slurmDaemon(cluster);
      const id = await submit(d, ["--slurm-opt=--partition=nosuchpartition", "--wrap", "true"]);
      const job = await ended(d, id);
      assert.equal(job.state, "E");
      assert.match(job.reason ?? "", /sbatch refused the job: .*[Ii]nvalid partition/);
      const after = await submit(d, ["--wrap", "true"]);
      assert.equal((await ended(d, after)).state, "S", "the daemon goes on");
    },
  );

  await t.step(
    "#SBATCH lines of the script: sjq options, and others passed to sbatch",
    async () => {
      await using d = await slurmDaemon(cluster);
      await Deno.writeTextFile(
        `${d.home}/sb.sh`,
        "#!/bin/sh\n#SBATCH -c 2 --mem=200 -J sbatched\n#SBATCH --partition=debug\necho cpus=$SLURM_CPUS_PER_TASK\n",
      );
      const out = await run(d, ["submit", "sb.sh"]);
      assert.doesNotMatch(out.stderr, /--partition/, "-p names the queue: the partition");
      const job = await ended(d, Number(out.stdout));
      assert.deepEqual([job.state, job.name, job.procs, job.queue], ["S", "sbatched", 2, "debug"]);
      assert.equal(await Deno.readTextFile(job.stdout), "cpus=2\n");
      const detail = await cluster.run("scontrol", ["show", "job", "-o", job.slurm_id!]);
      assert.match(detail, /Partition=debug /);
    },
  );

  await t.step(
    "a queue's jobs go to its partition (sjq.queue.NAME.partition)",
    async () => {
      const rc = "[sjq.queue.gpu]\npartition = debug\nmaxprocs = 1\n";
      await using d = await slurmDaemon(cluster, undefined, rc);
      const first = await submit(d, ["--queue", "gpu", "--wrap", "sleep 0.5"]);
      const second = await submit(d, ["--queue", "gpu", "--wrap", "true"]);
      const plain = await submit(d, ["--wrap", "true"]);
      assert.equal((await ended(d, plain)).state, "S", "the default queue is not held up");
      const [a, b] = [await ended(d, first), await ended(d, second)];
      assert.deepEqual([a.state, b.state, a.queue], ["S", "S", "gpu"]);
      const detail = await cluster.run("scontrol", ["show", "job", "-o", a.slurm_id!]);
      assert.match(detail, /Partition=debug /);
    },
  );

  await t.step(
    "a daemon SIGKILLed while jobs run and pend: the next finds them, no duplicates, real exit codes",
    async () => {
      const first = await slurmDaemon(cluster);
      const home = first.home;
      const gate = `${home}/go`;
      const wait = `while [ ! -e ${gate} ]; do sleep 0.1; done`;
      // 4 CPUs in the node: two of these run, the third pends in Slurm.
      const ids: number[] = [];
      for (const code of [0, 5, 7]) {
        ids.push(await submit(first, ["-p", "2", "-m", "100M", "--wrap", `${wait}; exit ${code}`]));
      }
      const slurmIds = await waitFor(
        async () => {
          const jobs = await Promise.all(ids.map((id) => info(first, id)));
          return jobs.every((j) => j.slurm_id !== null) ? jobs.map((j) => j.slurm_id!) : null;
        },
        "every job to reach Slurm",
        60_000,
      );
      await waitFor(
        async () => {
          const states = await cluster.run("squeue", [
            "-h",
            "-t",
            "all",
            "-j",
            slurmIds.join(","),
            "-o",
            "%T",
          ]);
          return states.split("\n").filter((s) => s === "RUNNING").length === 2 &&
            states.includes("PENDING");
        },
        "two jobs running and one pending",
        60_000,
      );
      await first.crash();
      // One more job to submit after the restart, behind the others' CPUs.
      await using d = await slurmDaemon(cluster, home);
      const later = await submit(d, ["--wrap", "exit 9"]);
      await Deno.writeTextFile(gate, "");
      const jobs = [];
      for (const id of [...ids, later]) jobs.push(await ended(d, id));
      assert.deepEqual(jobs.map((j) => [j.state, j.exit_code]), [["S", 0], ["F", 5], ["F", 7], [
        "F",
        9,
      ]]);
      assert.deepEqual(jobs.slice(0, 3).map((j) => j.slurm_id), slurmIds, "the same Slurm jobs");
      const tag = (await slurmName(cluster, slurmIds[0]!)).replace(/-\d+$/, "");
      const names = await slurmJobs(cluster);
      for (const id of [...ids, later]) {
        assert.equal(names.get(`${tag}-${id}`)?.length, 1, `job ${id} is in Slurm once`);
      }
      await Deno.remove(home, { recursive: true }).catch(() => {});
    },
  );

  await t.step(
    "a job that ends while no daemon runs is settled from Slurm by the next one",
    async () => {
      const first = await slurmDaemon(cluster);
      const home = first.home;
      const id = await submit(first, [
        "--wrap",
        `while [ ! -e ${home}/go ]; do sleep 0.1; done; exit 4`,
      ]);
      await waitFor(
        async () => (await info(first, id)).slurm_id !== null,
        "the job to reach Slurm",
        60_000,
      );
      const slurmId = (await info(first, id)).slurm_id!;
      await first.crash();
      await Deno.writeTextFile(`${home}/go`, "");
      await waitFor(
        async () =>
          (await cluster.run("squeue", ["-h", "-t", "all", "-j", slurmId, "-o", "%T"])).trim() ===
            "FAILED",
        "the job to end in Slurm",
        60_000,
      );
      await using d = await slurmDaemon(cluster, home);
      const job = await ended(d, id);
      assert.deepEqual([job.state, job.exit_code], ["F", 4]);
      await Deno.remove(home, { recursive: true }).catch(() => {});
    },
  );
});
