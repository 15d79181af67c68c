/**
 * End-to-end tests of units on the command line: a bare --mem is MiB (as in
 * Slurm), durations take units (`-t 2h`, `wait --timeout 1.5s`), and the
 * daemon's refusals come back in the command line's words and units.
 */

import assert from "node:assert/strict";
import type { JobInfo } from "../src/info.ts";
import { TestDaemon } from "./harness.ts";

Deno.test("units: -m 4000 is MiB, -t 2h is 7200 s, refusals speak --mem and 32G", async () => {
  await using d = await TestDaemon.start({ args: ["--maxmem", "8G"] });
  const sub = await d.cli([
    "submit",
    "-C",
    d.home,
    "--hold",
    "-m",
    "4000",
    "-t",
    "2h",
    "--wrap",
    "true",
  ]);
  assert.equal(sub.code, 0, sub.stderr);
  const id = sub.stdout.trim();
  const [job] = JSON.parse((await d.cli(["status", "--json", id])).stdout) as JobInfo[];
  assert.equal(job!.mem, 4000 * 2 ** 20);
  assert.equal(job!.timeout, 7200);

  const big = await d.cli(["submit", "-C", d.home, "-m", "32G", "--wrap", "true"]);
  assert.equal(big.code, 1);
  assert.equal(big.stderr, "error: --mem 32G is more than sjq.maxmem (8G)\n");
  const bad = await d.cli(["submit", "-C", d.home, "-t", "soon", "--wrap", "true"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: bad --timeout "soon"/);

  const late = await d.cli(["wait", "--timeout", "0.3s", id]);
  assert.equal(late.code, 124);
});

Deno.test("units: with sjq.maxmem unlimited, --mem beyond the machine's memory is refused", async () => {
  await using d = await TestDaemon.start();
  const total = Number(
    /^MemTotal:\s+(\d+) kB$/m.exec(await Deno.readTextFile("/proc/meminfo"))![1],
  ) * 1024;
  const tooBig = `${Math.ceil(total / 1024 ** 4) + 1}T`;
  const big = await d.cli(["submit", "-C", d.home, "-m", tooBig, "--wrap", "true"]);
  assert.equal(big.code, 1);
  assert.match(
    big.stderr,
    new RegExp(
      `^error: --mem ${tooBig} is more than this machine's memory \\(\\d+(\\.\\d)?G\\); a larger sjq\\.maxmem allows it\\n$`,
    ),
  );
  assert.equal((await d.cli(["status", "--json"])).stdout.trim(), "[]", "nothing was queued");
  // Explicitly allowed: queued (held here, it would wait for memory).
  await using allowed = await TestDaemon.start({ args: ["--maxmem", "1000T"] });
  const ok = await allowed.cli(["submit", "-C", d.home, "--hold", "-m", tooBig, "--wrap", "true"]);
  assert.equal(ok.code, 0, ok.stderr);
});
