import assert from "node:assert/strict";
import { escapeXml, type Panel, stackSvg, ticks } from "./svg_bars.ts";

Deno.test("ticks() steps 1-2-5 per decade on a log axis", () => {
  assert.deepEqual(ticks(1, 100, true), [1, 2, 5, 10, 20, 50, 100]);
  assert.deepEqual(ticks(0.1, 1, true), [0.1, 0.2, 0.5, 1]);
});

Deno.test("ticks() takes about five round steps on a linear axis", () => {
  assert.deepEqual(ticks(0, 10, false), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(ticks(0, 200, false), [0, 50, 100, 150, 200]);
});

Deno.test("escapeXml() escapes markup", () => {
  assert.equal(escapeXml(`<a href="x">&</a>`), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
});

Deno.test("stackSvg() writes one well-formed document with every label", () => {
  const panel: Panel = {
    title: "T <1>",
    unit: "jobs/s",
    log: true,
    digits: 0,
    series: [{ name: "true", color: "#000" }],
    groups: [
      { label: "xargs", bars: [{ series: "true", value: 900, min: 800, max: 1000, note: "N=10" }] },
      { label: "sem", bars: [{ series: "true", value: 5 }] },
    ],
  };
  const svg = stackSvg([panel, { ...panel, log: false }], "caption");
  assert.match(svg, /^<svg [^>]*height="\d+"/);
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  for (const text of ["T &lt;1&gt;", "xargs", "sem", "900 (N=10)", "caption"]) {
    assert.ok(svg.includes(text), text);
  }
  assert.equal(svg.match(/<g /g)?.length, 2);
});
