/**
 * The chart of a benchmark run: throughput, latency and client cost as
 * stacked bar panels in one SVG.
 *
 * @module
 */

import { jobsPerSecond, type Results } from "./results.ts";
import { type Panel, stackSvg } from "./svg_bars.ts";

const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759"];

function _throughput(r: Results): Panel {
  const kinds = [["trivial", "true"], ["sleep", "sleep 0.01"]] as const;
  const cells = r.throughput.filter((c) => c.seconds && !c.baselineOnly);
  const systems = [...new Map(cells.map((c) => [c.system, c.label]))];
  return {
    title: "Throughput on 2 slots, first submit to last end (median, min–max)",
    unit: "jobs per second",
    log: true,
    digits: 0,
    series: kinds.map(([, name], i) => ({ name, color: COLORS[i]! })),
    groups: systems.map(([key, label]) => ({
      label,
      bars: kinds.flatMap(([kind, series]) => {
        // The smallest size asked for, or what it was cut down to.
        const c = cells.find((c) => c.system === key && c.kind === kind);
        return c
          ? [{ series, ...jobsPerSecond(c), note: `N=${c.n!.toLocaleString("en-US")}` }]
          : [];
      }),
    })),
  };
}

function _latency(r: Results): Panel {
  const series = ["dispatch p50", "dispatch p99", "hand-off p50", "hand-off p99"];
  return {
    title: "Latency, one clock in the driver (ms)",
    unit: "milliseconds",
    log: true,
    digits: 2,
    series: series.map((name, i) => ({ name, color: COLORS[i]! })),
    groups: r.latency.map((row) => ({
      label: row.label,
      bars: [
        { series: series[0]!, value: row.dispatch.p50 },
        { series: series[1]!, value: row.dispatch.p99 },
        { series: series[2]!, value: row.handoff.p50 },
        { series: series[3]!, value: row.handoff.p99 },
      ],
    })),
  };
}

function _client(r: Results): Panel {
  return {
    title: "Client cost: wall time of one process (median, min–max)",
    unit: "milliseconds",
    log: false,
    digits: 1,
    series: [{ name: "one process", color: COLORS[0]! }],
    groups: r.client.map((c) => ({
      label: c.label,
      bars: [{ series: "one process", value: c.ms.median, min: c.ms.min, max: c.ms.max }],
    })),
  };
}

/** The SVG chart of `r`; panels with nothing measured are left out. */
export function resultsChart(r: Results): string {
  const panels = [_throughput(r), _latency(r), _client(r)].filter((p) =>
    p.groups.some((g) => g.bars.length > 0)
  );
  const m = r.machine;
  return stackSvg(
    panels,
    `sjq ${m.versions.sjq}, ${r.mode} run of ${
      r.started.slice(0, 10)
    }: ${m.cpus} × ${m.cpu}, ${m.memory}`,
  );
}
