import assert from "node:assert/strict";
import { resultsChart } from "./chart.ts";
import { reportBody } from "./report.ts";
import type { Results } from "./results.ts";
import { distribution, figure } from "./stats.ts";
import { checkTargets } from "./targets.ts";

function _results(): Results {
  const cell = (system: string, label: string, n: number, secs: number[]) => ({
    kind: "trivial" as const,
    system,
    label,
    target: 1000,
    n,
    seconds: figure(secs),
  });
  const r: Results = {
    mode: "full",
    partial: false,
    started: "2026-11-27T21:00:00.000Z",
    seconds: 900,
    machine: {
      cpu: "Test CPU",
      cpus: 2,
      memory: "24.0 GiB",
      kernel: "6.1",
      os: "Debian",
      filesystem: "ext4 on /dev/vda",
      versions: { deno: "2.9.6", sjq: "abc1234" },
    },
    errors: [],
    throughput: [
      { ...cell("xargs", "xargs -P2", 1000, [0.5, 0.4, 0.6]), vsXargs: 1 },
      { ...cell("sjq-pipe", "sjq (1 connection)", 1000, [0.6, 0.7, 0.65]), vsXargs: 1.3 },
      { ...cell("sem", "sem -j2", 200, [30, 31, 29]), vsXargs: 150 },
      { ...cell("xargs", "xargs -P2", 200, [0.2, 0.2, 0.2]), baselineOnly: true },
      {
        kind: "trivial",
        system: "nq",
        label: "nq (1 slot)",
        target: 1000,
        skipped: "failed: a|b\nc",
      },
    ],
    latency: [{
      system: "sjq",
      label: "sjq",
      dispatch: distribution([0.5, 0.6, 0.7]),
      handoff: distribution([0.7, 0.9, 3.5]),
    }],
    client: [{ command: "tsp -n true", label: "tsp true", ms: figure([1, 2, 3]) }],
    scale: [0, 100_000].map((depth, i) => ({
      depth,
      submitRate: figure([40_000 / (i + 1)]),
      statusMs: figure([5]),
      statusBytes: 100,
      rss: 2 ** 20,
    })),
    packing: {
      jobs: 40,
      maxprocs: 4,
      maxmem: "16G",
      makespan: figure([9, 9.1, 8.9]),
      bound: 8,
      policy: 8.5,
    },
    targets: [],
  };
  r.targets = checkTargets(r);
  return r;
}

Deno.test("checkTargets() judges each target from the results", () => {
  const t = Object.fromEntries(_results().targets.map((t) => [`${t.name}: ${t.goal}`, t.met]));
  assert.equal(t["Throughput, sjq (1 connection): within 1.5× of xargs -P2 (trivial jobs)"], true);
  assert.equal(t["Throughput, sjq (1 connection): ahead of every peer (jobs/s)"], true);
  assert.equal(t["Latency, dispatch: p50 < 1 ms"], true);
  assert.equal(t["Latency, hand-off: p50 < 1 ms, p99 < 3 ms"], false, "p99 3.5 ms");
  assert.equal(t["Pipelined durable submits, one connection: ≥ 30,000 jobs/s"], true);
  assert.equal(t["Submit rate at 100,000 queued: at least half the empty queue's"], true);
});

Deno.test("reportBody() writes one table row per system, baselines left out", () => {
  const md = reportBody(_results(), "chart.svg");
  assert.match(md, /!\[[^\]]*\]\(chart\.svg\)/);
  assert.match(md, /\| sem -j2 \| 7 \(6–7\) at N=200 \| 150\.00× \|/);
  assert.equal(md.match(/^\| xargs -P2 \|/gm)?.length, 1);
  assert.match(md, /\| nq \(1 slot\) \| failed: a\\\|b c \|/, "a message never breaks the table");
  assert.match(md, /\| 100,000 \| 20,000 \(20,000–20,000\) \| 0\.50× \|/);
});

Deno.test("resultsChart() draws every measured system", () => {
  const svg = resultsChart(_results());
  for (const label of ["xargs -P2", "sjq (1 connection)", "sem -j2", "tsp true"]) {
    assert.ok(svg.includes(`>${label}<`), label);
  }
  assert.ok(!svg.includes(">nq (1 slot)<"), "a system with no figure has no bar");
});
