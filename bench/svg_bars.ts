/**
 * Horizontal bar charts written as SVG text by hand: groups of bars (one per
 * series) with optional min–max whiskers, on a linear or logarithmic axis,
 * and panels of such charts stacked into one image.
 *
 * @module
 */

/** One bar: a median with the spread of its runs. */
export interface Bar {
  series: string;
  value: number;
  min?: number;
  max?: number;
  /** Short text after the value, e.g. `N=200`. */
  note?: string;
}

/** Bars that belong to one row label. */
export interface Group {
  label: string;
  bars: Bar[];
}

/** One chart panel. */
export interface Panel {
  title: string;
  /** Axis unit, shown after the values. */
  unit: string;
  log: boolean;
  /** Series names in legend order with their colours. */
  series: { name: string; color: string }[];
  groups: Group[];
  /** Digits after the point in value labels. */
  digits: number;
}

const WIDTH = 760;
const LEFT = 170;
const RIGHT = 150;
const BAR = 14;
const GAP = 10;
const HEAD = 44;
const FOOT = 30;

/**
 * Escapes text for SVG.
 *
 * @example
 * ```ts
 * escapeXml("a<b"); // "a&lt;b"
 * ```
 */
export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

/**
 * Axis ticks between `lo` and `hi`: 1-2-5 steps per decade on a log axis, or
 * about five round steps on a linear one.
 *
 * @example
 * ```ts
 * ticks(0, 10, false); // [0, 2, 4, 6, 8, 10]
 * ```
 */
export function ticks(lo: number, hi: number, log: boolean): number[] {
  const out: number[] = [];
  if (log) {
    for (let e = Math.floor(Math.log10(lo)); 10 ** e <= hi; e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= lo && v <= hi) out.push(Number(v.toPrecision(3)));
      }
    }
    return out;
  }
  const step = _step(hi - lo);
  for (let v = Math.ceil(lo / step) * step; v <= hi + step / 1e6; v += step) {
    out.push(Number(v.toPrecision(6)));
  }
  return out;
}

/** A round step (1, 2 or 5 times a power of ten) that cuts `span` into about five. */
function _step(span: number): number {
  const raw = span > 0 ? span / 5 : 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
}

function _fmt(v: number, digits: number): string {
  return v.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** The axis range of a panel: from 0 (linear) or the decade below the smallest value (log). */
function _range(p: Panel): [number, number] {
  const vals = p.groups.flatMap((g) => g.bars.flatMap((b) => [b.value, b.max ?? b.value]));
  const hi = Math.max(...vals);
  if (!p.log) {
    const step = _step(hi);
    return [0, Math.max(step, Math.ceil(hi / step) * step)];
  }
  const lo = Math.min(...p.groups.flatMap((g) => g.bars.map((b) => b.min ?? b.value)));
  return [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi))];
}

/** Height in pixels of `p` drawn by `_panelSvg`. */
function _panelHeight(p: Panel): number {
  const rows = p.groups.reduce((n, g) => n + g.bars.length, 0);
  return HEAD + rows * BAR + p.groups.length * GAP + FOOT;
}

/** One panel as an SVG `<g>` whose top is at `y`. */
function _panelSvg(p: Panel, y: number): string {
  const [lo, hi] = _range(p);
  const plotW = WIDTH - LEFT - RIGHT;
  const x = (v: number) => {
    const f = p.log
      ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))
      : (v - lo) / (hi - lo);
    return LEFT + f * plotW;
  };
  const color = new Map(p.series.map((s) => [s.name, s.color]));
  const h = _panelHeight(p);
  const bottom = h - FOOT;
  const out: string[] = [`<g transform="translate(0,${y})">`];
  out.push(`<text x="10" y="18" class="title">${escapeXml(p.title)}</text>`);
  let lx = LEFT;
  for (const s of p.series) {
    out.push(`<rect x="${lx}" y="26" width="10" height="10" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 14}" y="35" class="small">${escapeXml(s.name)}</text>`);
    lx += 24 + s.name.length * 6.5;
  }
  // Over many decades only the powers of ten keep room for a label.
  const crowded = p.log && Math.log10(hi / lo) > 3;
  for (const t of ticks(lo, hi, p.log)) {
    const tx = x(t).toFixed(1);
    out.push(`<line x1="${tx}" y1="${HEAD - 4}" x2="${tx}" y2="${bottom}" class="grid"/>`);
    const decade = Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9;
    if (crowded && !decade) continue;
    out.push(
      `<text x="${tx}" y="${bottom + 14}" class="small" text-anchor="middle">${
        _fmt(t, t < 1 ? 1 : 0)
      }</text>`,
    );
  }
  out.push(
    `<text x="${LEFT + plotW / 2}" y="${bottom + 27}" class="small" text-anchor="middle">${
      escapeXml(p.unit + (p.log ? " (log scale)" : ""))
    }</text>`,
  );
  let by = HEAD;
  for (const g of p.groups) {
    const gh = g.bars.length * BAR;
    out.push(
      `<text x="${LEFT - 8}" y="${by + gh / 2 + 4}" text-anchor="end">${escapeXml(g.label)}</text>`,
    );
    for (const b of g.bars) {
      const w = Math.max(1, x(b.value) - LEFT);
      out.push(
        `<rect x="${LEFT}" y="${by + 1}" width="${w.toFixed(1)}" height="${BAR - 2}" fill="${
          color.get(b.series) ?? "#888"
        }"/>`,
      );
      if (b.min !== undefined && b.max !== undefined) {
        const [x1, x2, cy] = [x(b.min).toFixed(1), x(b.max).toFixed(1), by + BAR / 2];
        out.push(`<line x1="${x1}" y1="${cy}" x2="${x2}" y2="${cy}" class="whisker"/>`);
        for (const wx of [x1, x2]) {
          out.push(`<line x1="${wx}" y1="${cy - 4}" x2="${wx}" y2="${cy + 4}" class="whisker"/>`);
        }
      }
      const label = _fmt(b.value, p.digits) + (b.note ? ` (${b.note})` : "");
      const tx = Math.max(x(b.value), b.max !== undefined ? x(b.max) : 0) + 5;
      out.push(
        `<text x="${tx.toFixed(1)}" y="${by + BAR - 3}" class="small">${escapeXml(label)}</text>`,
      );
      by += BAR;
    }
    by += GAP;
  }
  out.push("</g>");
  return out.join("\n");
}

/** Panels stacked top to bottom in one SVG document. */
export function stackSvg(panels: Panel[], caption: string): string {
  let y = 0;
  const parts = panels.map((p) => {
    const g = _panelSvg(p, y);
    y += _panelHeight(p) + 12;
    return g;
  });
  const h = y + 22;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${h}" viewBox="0 0 ${WIDTH} ${h}">`,
    "<style>text{font:12px sans-serif;fill:#222}.title{font-weight:bold;font-size:13px}" +
    ".small{font-size:10px;fill:#444}.grid{stroke:#ddd}.whisker{stroke:#222}</style>",
    `<rect width="${WIDTH}" height="${h}" fill="#fff"/>`,
    ...parts,
    `<text x="10" y="${h - 8}" class="small">${escapeXml(caption)}</text>`,
    "</svg>",
    "",
  ].join("\n");
}
