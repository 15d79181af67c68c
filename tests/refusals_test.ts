/**
 * Small refusals (issue 8, item 13): values that used to be accepted and
 * then broke every later submit, or printed something misleading.
 *
 * @module
 */

import assert from "node:assert/strict";
import { tempDir, TestDaemon } from "./harness.ts";

Deno.test("refusals: a daemon with sjq.maxscript = 0 (or maxmem 0) refuses to start, clearly", async () => {
  for (const args of [["--maxscript", "0"], ["--maxmem", "0"], ["--default-mem", "0K"]]) {
    await using d = await TestDaemon.start({ args, noWait: true });
    const { code } = await d.exited();
    assert.notEqual(code, 0, `${args.join(" ")}: ${d.stderr}`);
    assert.match(
      d.stderr,
      /error: Invalid value "0K?" for sjq\.\S+ in --\S+: expected a size above 0/,
    );
  }
});

Deno.test("refusals: --mem 0 is a usage error, and MEM 0 an ERROR of the protocol", async () => {
  await using d = await TestDaemon.start();
  await using tmp = await tempDir();
  for (const mem of ["0", "0G", "0.0M"]) {
    const r = await d.cli(["submit", "-m", mem, "--wrap", "true"], { cwd: tmp.path });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: bad --mem "[^"]+": a job needs more than 0 bytes/);
  }
  using c = await d.connect();
  await c.send("SUBMIT\r\nMEM 0\r\nHOLD\r\nSRC 5\r\nexit\n");
  assert.equal(await c.line(), 'ERROR Bad MEM value "0": a job needs more than 0 bytes\r\n');
  assert.equal(await c.request("PING\r\n"), "OK \r\n");
});

Deno.test("refusals: sjq status of an unknown id prints the error alone, no table header", async () => {
  await using d = await TestDaemon.start();
  const r = await d.cli(["status", "99999"]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^error: unknown job 99999\n$/);
  // A known id and an unknown one: the table of the known one, then the error.
  await using tmp = await tempDir();
  assert.equal((await d.cli(["submit", "--hold", "--wrap", "true"], { cwd: tmp.path })).code, 0);
  const both = await d.cli(["status", "1", "99999"]);
  assert.equal(both.code, 1);
  assert.match(both.stdout, /^ID +NAME/);
  assert.match(both.stderr, /^error: unknown job 99999\n$/);
});

Deno.test("refusals: a binary file (one holding a NUL byte) is not submitted as a script", async () => {
  await using d = await TestDaemon.start();
  await using tmp = await tempDir();
  const binary = `${tmp.path}/prog`;
  await Deno.writeFile(binary, new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0]));
  const r = await d.cli(["submit", binary], { cwd: tmp.path });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^error: .*prog is a binary file \(it holds NUL bytes\), not a script/);
  assert.match(r.stderr, /sjq submit \[options\] -- PROGRAM/);
  const stdin = await d.cli(["submit", "-"], { cwd: tmp.path, stdin: "echo a\0b\n" });
  assert.equal(stdin.code, 2, stdin.stderr);
  assert.match(stdin.stderr, /binary file/);
  using c = await d.connect();
  assert.equal(await c.request("PING\r\n"), "OK \r\n", "nothing was submitted");
});
