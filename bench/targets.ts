/**
 * The targets, checked against one run's results.
 *
 * @module
 */

import { jobsPerSecond, type Results, type Target, type ThroughputCell } from "./results.ts";

const SJQ = ["sjq-pipe", "sjq-cli"];

function _n(n: number): string {
  return n.toLocaleString("en-US");
}

function _vsXargs(r: Results, system: string): Target | undefined {
  const cells = r.throughput.filter((c) =>
    c.kind === "trivial" && c.system === system && c.vsXargs
  );
  if (!cells.length) return undefined;
  return {
    name: `Throughput, ${cells[0]!.label}`,
    goal: "within 1.5× of xargs -P2 (trivial jobs)",
    measured: cells.map((c) => `${c.vsXargs!.toFixed(2)}× at N=${_n(c.n!)}`).join(", "),
    met: cells.every((c) => c.vsXargs! <= 1.5),
  };
}

function _aheadOfPeers(r: Results, system: string): Target | undefined {
  const mine = r.throughput.filter((c) => c.system === system && c.seconds);
  if (!mine.length) return undefined;
  const behind: string[] = [];
  let compared = 0;
  for (const c of mine) {
    const peers = r.throughput.filter((p: ThroughputCell) =>
      p.kind === c.kind && p.target === c.target && p.seconds && p.system !== "xargs" &&
      !SJQ.includes(p.system)
    );
    for (const p of peers) {
      compared++;
      if (jobsPerSecond(p).value >= jobsPerSecond(c).value) {
        behind.push(`${p.label} (${c.kind}, N=${_n(c.target)})`);
      }
    }
  }
  return {
    name: `Throughput, ${mine[0]!.label}`,
    goal: "ahead of every peer (jobs/s)",
    measured: behind.length
      ? `behind ${behind.join(", ")}`
      : `ahead in all ${compared} comparisons`,
    met: behind.length === 0,
  };
}

/** Every target the results can speak to; targets with nothing measured are left out. */
export function checkTargets(r: Results): Target[] {
  const out: (Target | undefined)[] = [];
  for (const s of SJQ) out.push(_vsXargs(r, s), _aheadOfPeers(r, s));
  const lat = r.latency.find((l) => l.system === "sjq");
  if (lat) {
    // Issue 9's goals: dispatch p50 < 1 ms; hand-off p50 < 1 ms and p99 < 3 ms.
    const goals = [["dispatch", lat.dispatch, Infinity], ["hand-off", lat.handoff, 3]] as const;
    for (const [name, d, p99] of goals) {
      out.push({
        name: `Latency, ${name}`,
        goal: p99 === Infinity ? "p50 < 1 ms" : `p50 < 1 ms, p99 < ${p99} ms`,
        measured: `p50 ${d.p50.toFixed(2)} ms, p99 ${d.p99.toFixed(2)} ms`,
        met: d.p50 < 1 && d.p99 < p99,
      });
    }
  }
  const empty = r.scale[0], deepest = r.scale[r.scale.length - 1];
  if (empty && deepest) {
    out.push({
      name: "Pipelined durable submits, one connection",
      goal: "≥ 30,000 jobs/s",
      measured: `${_n(Math.round(empty.submitRate.median))} jobs/s`,
      met: empty.submitRate.median >= 30_000,
    });
  }
  if (empty && deepest && deepest !== empty) {
    const ratio = deepest.submitRate.median / empty.submitRate.median;
    out.push({
      name: `Submit rate at ${_n(deepest.depth)} queued`,
      goal: "at least half the empty queue's",
      measured: `${ratio.toFixed(2)}× the empty queue's (${
        _n(Math.round(deepest.submitRate.median))
      } jobs/s)`,
      met: ratio >= 0.5,
    });
  }
  return out.filter((t): t is Target => t !== undefined);
}
