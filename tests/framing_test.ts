/**
 * Framing: no byte inside a value may end a request early, kill a
 * connection, or change what the next request means, on either side of the
 * socket (issue 8, items 5 and 11).
 *
 * @module
 */

import assert from "node:assert/strict";
import { type RawClient, tempDir, TestDaemon } from "./harness.ts";

const encoder = new TextEncoder();

/** Everything but LF that a line reader somewhere treats as the end of a line. */
const BREAKS = [["CR", "\r"], ["U+2028", "\u2028"], ["U+2029", "\u2029"]] as const;

/** A SUBMIT with raw option lines ended by CRLF. */
function submitBytes(options: string[], script = "#!/bin/sh\nexit 0\n"): Uint8Array {
  const body = encoder.encode(script);
  const head = encoder.encode(
    ["SUBMIT", ...options, `SRC ${body.length}`].map((l) => `${l}\r\n`).join(""),
  );
  const all = new Uint8Array(head.length + body.length);
  all.set(head);
  all.set(body, head.length);
  return all;
}

async function line(c: RawClient): Promise<string> {
  const l = await c.line();
  assert.notEqual(l, null, "the daemon closed the connection instead of replying");
  return l!;
}

Deno.test("framing: CR, U+2028 and U+2029 inside option values get a reply, and pipelined requests behind them too", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  for (const [what, ch] of BREAKS) {
    // A bad value (the break makes it unparsable) and a name: all in one write, then a PING.
    const bad = submitBytes([`PROCS 2${ch}3`, "HOLD"]);
    const named = submitBytes([`NAME a${ch}b`, "HOLD"]);
    const stdout = submitBytes([`STDOUT ${d.home}/o${ch}x`, "HOLD"]);
    const all = new Uint8Array(bad.length + named.length + stdout.length + 6);
    all.set(bad);
    all.set(named, bad.length);
    all.set(stdout, bad.length + named.length);
    all.set(encoder.encode("PING\r\n"), bad.length + named.length + stdout.length);
    await c.send(all);
    const refused = await line(c);
    assert.match(refused, /^ERROR Bad PROCS value/, `${what}: ${JSON.stringify(refused)}`);
    // The reply line itself carries no line break but its CRLF.
    assert.doesNotMatch(refused.slice(0, -2), /[\r\n\u2028\u2029]/, `${what} in the reply line`);
    const id = Number(/^OK (\d+)\r\n$/.exec(await line(c))?.[1]);
    assert.ok(id > 0, `${what}: the NAME submit was not accepted`);
    const out = Number(/^OK (\d+)\r\n$/.exec(await line(c))?.[1]);
    assert.ok(out > 0, `${what}: the STDOUT submit was not accepted`);
    assert.match(await line(c), /^OK /, `${what}: the PING behind them`);
    const rows = await c.status(id);
    // CR becomes a space as docs/protocol.md says; so do U+2028 and U+2029.
    assert.deepEqual(rows, [[String(id), "a b", "U", ""]], what);
    await c.send(`INFO ${out}\r\n`);
    const head = await line(c);
    const info = JSON.parse(new TextDecoder().decode(await c.bytes(Number(head.slice(3)))));
    assert.equal(info[0].stdout, `${d.home}/o${ch}x`, `${what}: a path keeps its bytes`);
  }
});

Deno.test("framing: a NAME with a TAB, VT, FF, NEL or control bytes keeps STATUS rows four tab-separated columns", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  const name = "a\tb\x0bc\x0cd\x85e\x1cf\x00g";
  await c.send(submitBytes([`NAME ${name}`, "HOLD"]));
  const id = Number(/^OK (\d+)\r\n$/.exec(await line(c))?.[1]);
  await c.send("STATUS\r\n");
  const head = await line(c);
  const payload = new TextDecoder().decode(await c.bytes(Number(head.slice(3))));
  const rows = payload.split("\r\n").filter((l) => l !== "");
  assert.equal(rows.length, 1, JSON.stringify(payload));
  const cells = rows[0]!.split("\t");
  assert.equal(cells.length, 4, JSON.stringify(rows[0]));
  assert.equal(cells[0], String(id));
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(cells[1]!, /[\x00-\x1f\x7f\x85\u2028\u2029]/, JSON.stringify(cells[1]));
});

/** Values that would add a protocol line if sent as typed. */
const SMUGGLED = ["x\nHOLD", "x\rHOLD", "x\r\nHOLD", "x\u2028HOLD", "x\u2029HOLD"];

Deno.test("framing: no value on the sjq submit command line can add a protocol line", async () => {
  await using d = await TestDaemon.start();
  await using tmp = await tempDir();
  const script = `${tmp.path}/job.sh`;
  await Deno.writeTextFile(script, "#!/bin/sh\nexit 0\n");
  const flags: [string, (v: string) => string[]][] = [
    ["-n", (v) => ["-n", v]],
    ["-o", (v) => ["-o", `${tmp.path}/${v}`]],
    ["-e", (v) => ["-e", `${tmp.path}/${v}`]],
    ["--cwd", (v) => ["--cwd", `${tmp.path}/${v}`]],
    ["-m", (v) => ["-m", `1G${v}`]],
    ["-p", (v) => ["-p", `1${v}`]],
    ["-t", (v) => ["-t", `10${v}`]],
    ["-d", (v) => ["-d", `1${v}`]],
    ["--afterany", (v) => ["--afterany", `1${v}`]],
    ["--env NAME=", (v) => ["--env", `A${v}=1`]],
  ];
  for (const value of SMUGGLED) {
    // --cwd must name a directory that exists, or the client stops before it builds a request.
    await Deno.mkdir(`${tmp.path}/${value}`, { recursive: true });
    for (const [flag, args] of flags) {
      const r = await d.cli(["submit", ...args(value), script]);
      const what = `${flag} ${JSON.stringify(value)}: ${r.stderr}`;
      assert.equal(r.code, 2, what);
      assert.match(r.stderr, /^error: /, what);
      assert.equal(r.stdout, "", what);
    }
  }
  // An environment variable whose name would end its ENV pair is not sent; the job still is.
  const env = { "A;B": "1", "C\nHOLD": "2", OK: "yes" };
  const r = await d.cli(["submit", "--wait", "--wrap", 'test "$OK" = yes'], { env, cwd: tmp.path });
  assert.equal(r.code, 0, r.stderr);
  using c = await d.connect();
  assert.equal(await c.request("PING\r\n"), "OK S:1\r\n", "only the --wait job was accepted");
});

Deno.test("framing: a typed ENV value keeps every byte, line breaks included", async () => {
  await using d = await TestDaemon.start();
  await using tmp = await tempDir();
  const value = "a\nb\rc\u2028d\u2029e;f=g";
  const r = await d.cli([
    "submit",
    "--wait",
    "--env",
    `V=${value}`,
    "-o",
    `${tmp.path}/out`,
    "--wrap",
    'printf %s "$V"',
  ], { cwd: tmp.path });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await Deno.readTextFile(`${tmp.path}/out`), value);
});
