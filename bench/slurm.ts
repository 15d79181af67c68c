/**
 * A throwaway single-node Slurm with 2 CPUs, started and stopped through
 * `tests/slurm/setup.sh` (the tests' copy of the project's recipe) on ports of its own.
 *
 * @module
 */

import { run } from "./proc.ts";

const SCRIPT = new URL("../tests/slurm/setup.sh", import.meta.url).pathname;
/** Where the cluster lives; fixed so that `bench/run.sh` can stop it if the driver dies. */
const DIR = new URL("./.work/slurm", import.meta.url).pathname;

/** A running Slurm; its `env` points sbatch and squeue at it. */
export interface Slurm extends AsyncDisposable {
  readonly env: Record<string, string>;
}

/** Environment of the recipe; `bench/run.sh` repeats it for its safety-net stop. */
const ENV = {
  SLURM_CI_DIR: DIR,
  SLURM_CI_CPUS: "2",
  // Away from the default 6817/6818, which a test suite may be using.
  SLURM_CI_CTLD_PORT: "16817",
  SLURM_CI_SLURMD_PORT: "16818",
};

/** Stops the daemons of a cluster started here, if any (by their pid files). */
export async function stopSlurm(): Promise<void> {
  await run(SCRIPT, ["stop"], { env: ENV, allowFail: true });
}

/** Installs (when missing) and starts Slurm, and waits until its node is idle. */
export async function startSlurm(): Promise<Slurm> {
  try {
    await run(SCRIPT, ["start"], { env: ENV });
  } catch (e) {
    await stopSlurm();
    throw e;
  }
  return { env: { SLURM_CONF: `${DIR}/etc/slurm.conf` }, [Symbol.asyncDispose]: stopSlurm };
}
