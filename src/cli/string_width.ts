/**
 * Display width in a terminal's columns (wide CJK characters, combining
 * marks, emoji): npm:string-width. Only `sjq status` loads it, by
 * lazyImport and only when a cell is not printable ASCII, so Deno resolves
 * the package only then.
 *
 * @module
 */

export { default as stringWidth } from "npm:string-width@^8";
