/**
 * The systems of the throughput workload, each able to run N copies of one
 * shell command on its own slots and to tell how long that took, from the
 * first submit to the end of the last job.
 *
 * Submitting is done as a user would: a shell loop with one client process
 * per job (`JOB` and `N` come in through the environment), except for
 * `xargs`, which is the floor, and sjq over one pipelined connection.
 *
 * @module
 */

import type { RawClient } from "../tests/harness.ts";
import { pollUntil, run, sh } from "./proc.ts";
import { type Scratch, scratchDir } from "./scratch.ts";
import { startSlurm } from "./slurm.ts";
import { encodeSubmit, MAIN, ping, repeat, startSjq, submitPipelined, waitIdle } from "./sjq.ts";

/** One prepared system (daemon, server or queue directory) for several runs. */
export interface Runner extends AsyncDisposable {
  /** Runs `n` copies of shell text `job` and returns the seconds from first submit to last end. */
  run(n: number, job: string): Promise<number>;
}

/** A system the throughput workload compares. */
export interface System {
  /** Short key used in results files. */
  key: string;
  /** Name shown in tables and charts. */
  label: string;
  /** Starts a fresh instance in its own scratch directory. */
  open(denoDir: string): Promise<Runner>;
}

const LOOP = 'i=0; while [ "$i" -lt "$N" ]; do';
const DONE = "i=$((i + 1)); done";
/** Poll interval for systems with no way to wait for all of their jobs. */
const POLL_MS = 5;

/** Runs `script` in `cwd` with N and JOB in its environment and returns its start time. */
async function _loop(cwd: string, script: string, n: number, job: string, env = {}) {
  const t0 = performance.now();
  await sh(script, { cwd, env: { ...env, N: String(n), JOB: job } });
  return t0;
}

function _seconds(t0: number, t1: number): number {
  return (t1 - t0) / 1000;
}

/** A Runner whose `run` is `go` and whose dispose removes `dir` (and everything running in it). */
function _runner(dir: Scratch, go: Runner["run"], close?: () => Promise<void>): Runner {
  return {
    run: go,
    async [Symbol.asyncDispose]() {
      await close?.();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** `xargs -P2`: two processes at a time with nothing in between, the physical floor. */
export const XARGS: System = {
  key: "xargs",
  label: "xargs -P2",
  async open() {
    const dir = await scratchDir("xargs");
    return _runner(dir, async (n, job) => {
      const t0 = await _loop(dir.path, 'seq "$N" | xargs -P2 -n1 sh -c "$JOB" >/dev/null', n, job);
      return _seconds(t0, performance.now());
    });
  },
};

async function _sjqRunner(
  denoDir: string,
  submit: (c: RawClient, dir: string, socket: string, n: number, job: string) => Promise<number>,
): Promise<Runner> {
  const dir = await scratchDir("sjq");
  const d = await startSjq({ home: dir.path, denoDir, maxprocs: 2 });
  const c = await d.connect();
  return _runner(dir, async (n, job) => {
    try {
      const before = (await ping(c)).S ?? 0;
      const t0 = await submit(c, dir.path, d.socket, n, job);
      const { at, counts } = await waitIdle(c, POLL_MS);
      const ran = (counts.S ?? 0) - before;
      if (ran !== n) throw new Error(`sjq ran ${ran} of ${n} jobs: ${JSON.stringify(counts)}`);
      return _seconds(t0, at);
    } catch (e) {
      throw new Error(`${(e as Error).message} (${d.diagnosis()})`);
    }
  }, async () => {
    c[Symbol.dispose]();
    await d[Symbol.asyncDispose]();
  });
}

/** sjq with every SUBMIT pipelined over one connection. */
export const SJQ_PIPE: System = {
  key: "sjq-pipe",
  label: "sjq (1 connection)",
  open: (denoDir) =>
    _sjqRunner(denoDir, async (c, dir, _socket, n, job) => {
      const opts = { CWD: dir, STDOUT: "/dev/null", STDERR: "/dev/null" };
      const requests = repeat(encodeSubmit(`${job}\n`, opts), n);
      const t0 = performance.now();
      await submitPipelined(c, requests, n);
      return t0;
    }),
};

/** sjq with one `sjq submit` process per job, as a shell loop would do it. */
export const SJQ_CLI: System = {
  key: "sjq-cli",
  label: "sjq (CLI per job)",
  open: (denoDir) =>
    _sjqRunner(denoDir, async (_c, dir, socket, n, job) => {
      const env = {
        DENO: Deno.execPath(),
        MAIN,
        S: socket,
        HOME: dir,
        DENO_DIR: denoDir,
        SJQ_CONFIG: "/dev/null",
      };
      const submit = '"$DENO" run -A --quiet "$MAIN" submit --socket "$S" --wrap "$JOB" >/dev/null';
      return await _loop(dir, `${LOOP} ${submit}; ${DONE}`, n, job, env);
    }),
};

/** task-spooler with 2 slots, one `tsp` client per job. */
export const TSP: System = {
  key: "tsp",
  label: "tsp -S 2",
  async open() {
    const dir = await scratchDir("tsp");
    const env = { TS_SOCKET: `${dir.path}/ts.sock`, TMPDIR: dir.path };
    await run("tsp", ["-S", "2"], { env, cwd: dir.path });
    const busy = async () => /running|queued/.test((await run("tsp", ["-l"], { env })).stdout);
    return _runner(dir, async (n, job) => {
      await run("tsp", ["-C"], { env });
      const t0 = await _loop(
        dir.path,
        `${LOOP} tsp -n sh -c "$JOB" >/dev/null; ${DONE}`,
        n,
        job,
        env,
      );
      await run("tsp", ["-w"], { env, allowFail: true }); // the last job; then any straggler
      return _seconds(t0, await pollUntil(async () => !await busy(), POLL_MS, "tsp"));
    }, async () => {
      await run("tsp", ["-K"], { env, allowFail: true });
    });
  },
};

/** GNU parallel's `sem -j2`, one `sem` process per job. */
export const SEM: System = {
  key: "sem",
  label: "sem -j2",
  async open() {
    const dir = await scratchDir("sem");
    await Deno.mkdir(`${dir.path}/.parallel`);
    await Deno.writeTextFile(`${dir.path}/.parallel/will-cite`, "");
    const env = { HOME: dir.path, SHELL: "/bin/sh" };
    return _runner(dir, async (n, job) => {
      const t0 = await _loop(
        dir.path,
        `${LOOP} sem --id bench -j2 "$JOB" >/dev/null; ${DONE}; sem --id bench --wait`,
        n,
        job,
        env,
      );
      return _seconds(t0, performance.now());
    });
  },
};

/** nq: one slot by design, one `nq` process per job; reported as it is. */
export const NQ: System = {
  key: "nq",
  label: "nq (1 slot)",
  async open() {
    const dir = await scratchDir("nq");
    const env = { NQDIR: `${dir.path}/q` };
    return _runner(dir, async (n, job) => {
      await Deno.remove(env.NQDIR, { recursive: true }).catch(() => {});
      await Deno.mkdir(env.NQDIR);
      const t0 = await _loop(dir.path, `${LOOP} nq -q sh -c "$JOB"; ${DONE}; nq -w`, n, job, env);
      return _seconds(t0, performance.now());
    });
  },
};

/** Single-node Slurm with 2 CPUs, one `sbatch` per job. */
export const SLURM: System = {
  key: "slurm",
  label: "Slurm (2 CPUs)",
  async open() {
    const dir = await scratchDir("slurm-jobs");
    const slurm = await startSlurm();
    const env = slurm.env;
    const idle = async () =>
      (await run("squeue", ["-h", "-t", "PD,R,CG,CF,S", "-o", "%i"], { env })).stdout.trim() === "";
    const sbatch = 'sbatch --parsable -o /dev/null -e /dev/null --wrap "$JOB" >/dev/null';
    return _runner(dir, async (n, job) => {
      const t0 = await _loop(dir.path, `${LOOP} ${sbatch}; ${DONE}`, n, job, env);
      return _seconds(t0, await pollUntil(idle, 50, "Slurm"));
    }, async () => await slurm[Symbol.asyncDispose]());
  },
};
