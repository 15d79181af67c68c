/** Every subcommand's --help: its option lines, the shared ones included, start their descriptions in one column. */

import assert from "node:assert/strict";
import { sjq } from "./harness.ts";

Deno.test("every command's --help aligns its option lines in one column", async () => {
  const env = { HOME: "/nonexistent", PATH: "/usr/bin:/bin", NO_COLOR: "1" };
  const list = (await sjq(["--help"], { env })).stdout;
  const names = [...list.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]!);
  assert.ok(names.includes("submit") && names.includes("show") && names.includes("reload"));
  for (const name of names) {
    const help = await sjq([name, "--help"], { env });
    assert.equal(help.code, 0, `${name}: ${help.stderr}`);
    const block = help.stdout.split(/^Options.*:\n/m)[1]?.split("\n\n")[0] ?? "";
    const columns = new Set(
      block.split("\n").map((l) => /^ {2} *-\S.*? {2,}(?=\S)/.exec(l)?.[0].length).filter((c) =>
        c !== undefined
      ),
    );
    assert.ok(
      columns.size <= 1,
      `${name}: descriptions start in columns ${[...columns]}\n${block}`,
    );
    assert.match(help.stdout, /^Usage: sjq /m, name);
  }
});
