/**
 * What the benchmark ran on: the machine, and the version of everything it
 * compared, as the package manager or the tool itself reports it.
 *
 * @module
 */

import type { Machine } from "./results.ts";
import { run, sh } from "./proc.ts";

/** Debian packages whose versions are reported, by the name used in the results. */
const PACKAGES: Record<string, string> = {
  tsp: "task-spooler",
  nq: "nq",
  parallel: "parallel",
  hyperfine: "hyperfine",
  slurm: "slurmctld",
  xargs: "findutils",
  dash: "dash",
};

async function _first(script: string, env: Record<string, string> = {}): Promise<string> {
  const out = await sh(script, { env, allowFail: true });
  return out.stdout.split("\n")[0]!.trim() || "unknown";
}

/** Reads the machine description and versions; `workDir` is where the daemons keep their data. */
export async function describeMachine(workDir: string): Promise<Machine> {
  const versions: Record<string, string> = {
    deno: Deno.version.deno,
    // Read-only: no optional locks, so a concurrent commit is never disturbed.
    sjq: await _first(
      'cd "$D" && r=$(git rev-parse --short HEAD 2>/dev/null) || r=uncommitted; ' +
        '[ -z "$(GIT_OPTIONAL_LOCKS=0 git status --porcelain -uno 2>/dev/null)" ] || r="$r+dirty"; ' +
        'echo "$r"',
      { D: new URL("..", import.meta.url).pathname },
    ),
  };
  for (const [name, pkg] of Object.entries(PACKAGES)) {
    const v = await run("dpkg-query", ["-W", "-f", "${Version}", pkg], { allowFail: true });
    versions[name] = v.code === 0 && v.stdout ? v.stdout : "not installed";
  }
  const mem = /^MemTotal:\s+(\d+) kB/m.exec(await Deno.readTextFile("/proc/meminfo"));
  return {
    cpu: await _first("sed -n 's/^model name[^:]*: //p' /proc/cpuinfo"),
    cpus: navigator.hardwareConcurrency,
    memory: `${(Number(mem?.[1] ?? 0) / 2 ** 20).toFixed(1)} GiB`,
    kernel: Deno.osRelease(),
    os: await _first('. /etc/os-release && echo "$PRETTY_NAME"'),
    filesystem: await _first('df -T "$D" | awk \'NR==2 { print $2 " on " $1 }\'', { D: workDir }),
    versions,
  };
}
