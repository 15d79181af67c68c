/** End-to-end tests of output file name patterns (`-o logs/%x_%j.out`), through the real CLI and daemon. */

import assert from "node:assert/strict";
import { TestDaemon } from "./harness.ts";

Deno.test("-o and -e patterns name the files by job name, id and user; a missing directory is an error", async () => {
  await using d = await TestDaemon.start({ env: { USER: "ann" } });
  await Deno.mkdir(`${d.home}/logs`);
  const sub = await d.cli([
    "submit",
    "-n",
    "align",
    "-o",
    "logs/%x_%j.out",
    "-e",
    "logs/%u-%4j.%%",
    "--wait",
    "--wrap",
    "echo out; echo err >&2",
  ], { cwd: d.home });
  assert.equal(sub.code, 0, sub.stderr);
  const id = Number(sub.stdout.trim());
  assert.equal(await Deno.readTextFile(`${d.home}/logs/align_${id}.out`), "out\n");
  const errFile = `ann-${String(id).padStart(4, "0")}.%`;
  assert.equal(await Deno.readTextFile(`${d.home}/logs/${errFile}`), "err\n");

  const status = await d.cli(["status", "--json", String(id)]);
  const [job] = JSON.parse(status.stdout);
  assert.equal(job.stdout, `${d.home}/logs/align_${id}.out`);

  const bad = await d.cli(["submit", "-o", "nowhere/%j.out", "--wrap", "true"], { cwd: d.home });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--stdout directory does not exist: .*\/nowhere/);
});
