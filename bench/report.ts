/**
 * The Markdown summary of a benchmark run: the machine, the targets, and one
 * table per workload. The same body is written beside the results and, for a
 * full run, into docs/benchmarks.md.
 *
 * @module
 */

import type { Figure } from "./stats.ts";
import { jobsPerSecond, type Results, type ThroughputCell } from "./results.ts";

function _n(v: number, digits = 0): string {
  return v.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** `median (min–max)` of a figure. */
function _fig(f: Figure, digits: number): string {
  return `${_n(f.median, digits)} (${_n(f.min, digits)}–${_n(f.max, digits)})`;
}

/** A table cell: one line, no column breaks, at most 200 characters. */
function _cellText(s: string): string {
  const one = s.replace(/\s+/g, " ").replace(/\|/g, "\\|");
  return one.length > 200 ? `${one.slice(0, 199)}…` : one;
}

function _table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(_cellText).join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

function _cell(c: ThroughputCell | undefined): [string, string] {
  if (!c) return ["", ""];
  if (!c.seconds) return [c.skipped ?? "", ""];
  const j = jobsPerSecond(c);
  const at = c.n !== c.target ? ` at N=${_n(c.n!)}` : "";
  return [
    `${_n(j.value)} (${_n(j.min)}–${_n(j.max)})${at}`,
    c.vsXargs ? `${c.vsXargs.toFixed(2)}×` : "",
  ];
}

function _throughput(r: Results): string {
  const out: string[] = [];
  for (const [kind, title] of [["trivial", "`true`"], ["sleep", "`sleep 0.01`"]] as const) {
    const cells = r.throughput.filter((c) => c.kind === kind && !c.baselineOnly);
    if (!cells.length) continue;
    const targets = [...new Set(cells.map((c) => c.target))].sort((a, b) => a - b);
    const systems = [...new Map(cells.map((c) => [c.system, c.label]))];
    const head = ["system", ...targets.flatMap((t) => [`N=${_n(t)}: jobs/s`, "time ÷ xargs"])];
    const rows = systems.map(([key, label]) => [
      label,
      ...targets.flatMap((t) => _cell(cells.find((c) => c.system === key && c.target === t))),
    ]);
    out.push(`Jobs running ${title}:\n\n${_table(head, rows)}`);
  }
  return out.join("\n\n");
}

function _latency(r: Results): string {
  const floor = r.latency.find((l) => l.system === "floor");
  const d = (x: number) => _n(x, 2);
  return _table(
    ["system", "dispatch p50", "p99", "max", "hand-off p50", "p99", "max", "p50s ÷ floor's"],
    r.latency.map((l) => [
      l.label,
      d(l.dispatch.p50),
      d(l.dispatch.p99),
      d(l.dispatch.max),
      d(l.handoff.p50),
      d(l.handoff.p99),
      d(l.handoff.max),
      floor
        ? `${(l.dispatch.p50 / floor.dispatch.p50).toFixed(1)}× / ${
          (l.handoff.p50 / floor.handoff.p50).toFixed(1)
        }×`
        : "",
    ]),
  ) + `\n\nMilliseconds, ${r.latency[0]?.dispatch.samples ?? 0} samples each.`;
}

function _client(r: Results): string {
  const by = (label: string) => r.client.find((c) => c.label === label)?.ms.median;
  const deno = by("deno run (empty script)"), tsp = by("tsp true");
  return _table(
    ["command", "ms", "÷ deno run (empty)", "÷ tsp true"],
    r.client.map((c) => [
      c.label,
      _fig(c.ms, 1),
      deno ? `${(c.ms.median / deno).toFixed(2)}×` : "",
      tsp ? `${(c.ms.median / tsp).toFixed(2)}×` : "",
    ]),
  );
}

function _scale(r: Results): string {
  const base = r.scale[0]?.submitRate.median;
  return _table(
    ["queued", "submits/s", "÷ empty", "STATUS ms", "STATUS bytes", "daemon RSS"],
    r.scale.map((s) => [
      _n(s.depth),
      _fig(s.submitRate, 0),
      base ? `${(s.submitRate.median / base).toFixed(2)}×` : "",
      _fig(s.statusMs, 1),
      _n(s.statusBytes),
      `${_n(s.rss / 2 ** 20, 1)} MiB`,
    ]),
  );
}

function _packing(r: Results): string {
  const p = r.packing!;
  return _table(["", "seconds", "makespan ÷ this"], [
    ["makespan (measured)", _fig(p.makespan, 2), "1.00×"],
    [
      "FCFS with skipping, zero overhead",
      _n(p.policy, 2),
      `${(p.makespan.median / p.policy).toFixed(2)}×`,
    ],
    [
      "lower bound (CPU, memory, longest job)",
      _n(p.bound, 2),
      `${(p.makespan.median / p.bound).toFixed(2)}×`,
    ],
  ]) + `\n\n${p.jobs} jobs on \`--maxprocs ${p.maxprocs} --maxmem ${p.maxmem}\`.`;
}

/** The report body (level-3 headings and below) with the chart at `chartHref`. */
export function reportBody(r: Results, chartHref: string): string {
  const m = r.machine;
  const parts: string[] = [
    `${r.mode === "full" ? "Full" : "Quick"}${
      r.partial ? ", partial" : ""
    } run started ${r.started}, ${Math.round(r.seconds)} s in all.`,
    `Machine: ${m.cpus} × ${m.cpu}, ${m.memory}, ${m.os}, Linux ${m.kernel}; ` +
    `databases on ${m.filesystem}.`,
    `Versions: ${Object.entries(m.versions).map(([k, v]) => `${k} ${v}`).join(", ")}.`,
  ];
  if (r.sjqMissing) parts.push(`**sjq was not measured: ${r.sjqMissing}.**`);
  for (const e of r.errors) parts.push(`**Failed:** ${_cellText(e)}`);
  parts.push(`![Throughput, latency and client cost](${chartHref})`);
  if (r.targets.length) {
    parts.push(
      "### Targets",
      _table(
        ["target", "goal", "measured", "met"],
        r.targets.map((t) => [t.name, t.goal, t.measured, t.met ? "yes" : "**no**"]),
      ),
    );
  }
  if (r.throughput.length) {
    parts.push("### 1. Throughput (median jobs/s, min–max over runs)", _throughput(r));
  }
  if (r.latency.length) parts.push("### 2. Latency", _latency(r));
  if (r.client.length) parts.push("### 3. Client cost (wall time of one process)", _client(r));
  if (r.scale.length) parts.push("### 4. Scale", _scale(r));
  if (r.packing) parts.push("### 5. Memory-aware packing", _packing(r));
  return parts.join("\n\n") + "\n";
}

/** A standalone Markdown file for `bench/results/`. */
export function reportFile(r: Results, chartHref: string): string {
  return `# sjq benchmark, ${r.mode} run\n\nMethod: see docs/benchmarks.md.\n\n${
    reportBody(r, chartHref)
  }`;
}
