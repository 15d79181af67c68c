/**
 * Aligned text tables that fit a terminal: columns padded by display width
 * (wide CJK characters count two, combining marks none), and the columns
 * that may shrink truncated with `…` until the table fits.
 *
 * @module
 */

/** How one table is laid out. */
export interface TableLayout {
  /** Column headers. */
  columns: readonly string[];
  /** Columns aligned to the right (numbers). */
  right?: ReadonlySet<string>;
  /** Columns that may be truncated to fit, the first given up first. */
  shrink?: readonly string[];
  /** The widest a line may be; Infinity for no limit. */
  maxWidth: number;
  /** Display width of a text: its `.length` unless told otherwise. */
  width?: (text: string) => number;
  /** Decorates a padded cell (colour); row -1 is the header. */
  decorate?: (cell: string, column: string, row: number) => string;
}

/** The narrowest a shrinking column gets. */
const MIN_WIDTH = 6;

/**
 * The table as lines of text, header first, each ending in `\n`, with two
 * spaces between columns and no trailing spaces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderTable } from "./table.ts";
 *
 * const text = renderTable([["1", "a-very-long-name", "ok"]], {
 *   columns: ["ID", "NAME", "STATE"],
 *   right: new Set(["ID"]),
 *   shrink: ["NAME"],
 *   maxWidth: 20,
 * });
 * assert.equal(text, "ID  NAME       STATE\n 1  a-very-l…  ok\n");
 * ```
 */
export function renderTable(rows: readonly (readonly string[])[], layout: TableLayout): string {
  const { columns, right = new Set(), shrink = [], maxWidth } = layout;
  const width = layout.width ?? ((t: string) => t.length);
  const widths = columns.map((c, i) => Math.max(width(c), ...rows.map((r) => width(r[i]!))));
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (columns.length - 1);
  for (const name of shrink) {
    const i = columns.indexOf(name);
    if (i < 0 || total() <= maxWidth) continue;
    widths[i] = Math.max(MIN_WIDTH, width(name), widths[i]! - (total() - maxWidth));
  }
  const line = (cells: readonly string[], row: number) =>
    cells.map((cell, i) => {
      const fitted = truncate(cell, widths[i]!, width);
      const pad = " ".repeat(Math.max(0, widths[i]! - width(fitted)));
      const padded = right.has(columns[i]!) ? pad + fitted : fitted + pad;
      return layout.decorate ? layout.decorate(padded, columns[i]!, row) : padded;
    }).join("  ").trimEnd() + "\n";
  return line(columns, -1) + rows.map((r, i) => line(r, i)).join("");
}

/** `text` cut to at most `max` columns, ending in `…` when cut. */
export function truncate(text: string, max: number, width: (t: string) => number): string {
  if (width(text) <= max) return text;
  let cut = "";
  for (const ch of text) {
    if (width(cut + ch) > max - 1) break;
    cut += ch;
  }
  return `${cut}…`;
}
