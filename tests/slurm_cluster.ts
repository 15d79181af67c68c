/**
 * A private single-node Slurm for tests (tests/slurm/setup.sh): its own
 * directory, ports and munge, 4 CPUs, stopped on dispose. Installs the
 * Debian packages when they are missing and this runs as root.
 *
 * @module
 */

const SETUP = new URL("./slurm/setup.sh", import.meta.url).pathname;

/** A running test cluster. */
export interface SlurmCluster extends AsyncDisposable {
  /** The environment Slurm's commands need (SLURM_CONF, PATH). */
  env: Record<string, string>;
  /** Runs a Slurm command (squeue, scontrol…) against the cluster; its stdout. */
  run(program: string, args: string[]): Promise<string>;
}

/**
 * Starts the cluster, or returns why it cannot (no packages and no apt-get,
 * not root, a daemon that does not come up).
 */
export async function startSlurm(
  extra: Record<string, string> = {},
): Promise<SlurmCluster | string> {
  const dir = await Deno.makeTempDir({ prefix: "sjq-slurm-" });
  const port = 20000 + Math.floor(Math.random() * 20000);
  const env = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    SLURM_CI_DIR: dir,
    SLURM_CI_CPUS: "4",
    SLURM_CI_MEM_MB: "4096",
    SLURM_CI_CTLD_PORT: String(port),
    SLURM_CI_SLURMD_PORT: String(port + 1),
    SLURM_CI_TIMEOUT: "90",
    ...extra,
  };
  const setup = (command: string) =>
    new Deno.Command("bash", {
      args: [SETUP, command],
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    })
      .output();
  const stop = async () => {
    await setup("stop");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const started = await setup("start");
  if (!started.success) {
    const log = new TextDecoder().decode(started.stderr).trim().split("\n").slice(-15).join("\n");
    await stop();
    return `tests/slurm/setup.sh start failed (exit ${started.code}):\n${log}`;
  }
  const slurmEnv = { PATH: env.PATH, SLURM_CONF: `${dir}/etc/slurm.conf` };
  return {
    env: slurmEnv,
    async run(program, args) {
      const out = await new Deno.Command(program, {
        args,
        env: slurmEnv,
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const dec = new TextDecoder();
      if (!out.success) throw new Error(`${program} ${args.join(" ")}: ${dec.decode(out.stderr)}`);
      return dec.decode(out.stdout);
    },
    [Symbol.asyncDispose]: stop,
  };
}
