/**
 * End-to-end tests of the wire protocol (docs/protocol.md): a real daemon,
 * raw bytes in, exact reply bytes out, `\r\n` included.
 *
 * @module
 */

import assert from "node:assert/strict";
import { concatBytes } from "../src/bytes.ts";
import { type RawClient, tempDir, TestDaemon } from "./harness.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** SUBMIT options in the order they are sent; an empty value sends the key alone. */
type Options = [key: string, value: string][];

const OK_SCRIPT = "#!/bin/sh\nexit 0\n";
/** Blocks in the shell itself (no child left behind) until killed. */
const BLOCK_SCRIPT = '#!/bin/sh\nf="$PWD/block.$SJQ_JOB_ID"\nmkfifo "$f" && read _ <"$f"\n';
const HOLD: Options = [["HOLD", ""]];

function concat(...parts: (string | Uint8Array)[]): Uint8Array {
  return concatBytes(parts.map((p) => typeof p === "string" ? encoder.encode(p) : p));
}

/** A SUBMIT request as raw bytes, every line ended by `eol`. */
function submitRequest(
  script: string | Uint8Array,
  options: Options = [],
  eol = "\r\n",
): Uint8Array {
  const body = typeof script === "string" ? encoder.encode(script) : script;
  const lines = ["SUBMIT", ...options.map(([k, v]) => v === "" ? k : `${k} ${v}`)];
  lines.push(`SRC ${body.length}`);
  return concat(lines.map((l) => l + eol).join(""), body);
}

/** Base64 of a string's UTF-8 bytes, written here independently of src/. */
function base64(text: string): string {
  return btoa(String.fromCharCode(...encoder.encode(text)));
}

/** The next reply line, `\r\n` included; fails when the connection closed. */
async function reply(c: RawClient): Promise<string> {
  const line = await c.line();
  assert.notEqual(line, null, "the daemon closed the connection instead of replying");
  return line!;
}

/** Sends `text` and asserts the exact reply line. */
async function expectReply(c: RawClient, text: string, expected: string): Promise<void> {
  await c.send(text);
  assert.equal(await reply(c), expected, `reply to ${JSON.stringify(text)}`);
}

/** Asserts that the daemon has closed the connection. */
async function expectClosed(c: RawClient): Promise<void> {
  assert.equal(await c.line(), null, "the connection should be closed");
}

/** Submits and returns the raw reply line. */
async function submit(c: RawClient, script: string | Uint8Array, options: Options = []) {
  await c.send(submitRequest(script, options));
  return await reply(c);
}

/** Submits and returns the new job's id; fails on anything but `OK <id>`. */
async function submitOk(c: RawClient, script: string | Uint8Array, options: Options = []) {
  const line = await submit(c, script, options);
  const m = /^OK (\d+)\r\n$/.exec(line);
  assert.ok(m, `SUBMIT was refused: ${JSON.stringify(line)}`);
  return Number(m[1]);
}

/** Submits, waits until the job has ended and asserts its final state; returns its id. */
async function runJob(
  c: RawClient,
  script: string | Uint8Array,
  options: Options = [],
  expected = "S",
  ms = 20_000,
): Promise<number> {
  const id = await submitOk(c, script, options);
  assert.equal(await c.waitState(id, "SFAKE", ms), expected, `final state of job ${id}`);
  return id;
}

/** The exact bytes of a STATUS reply listing `rows` (each [id, name, state, deps]). */
function statusReply(rows: string[][]): string {
  const payload = rows.map((r) => `${r.join("\t")}\r\n`).join("");
  return `OK ${encoder.encode(payload).length}\r\n${payload}`;
}

/** Reads one counted reply (`OK n` and n bytes) and returns it whole, as text. */
async function readCounted(c: RawClient): Promise<string> {
  const head = await reply(c);
  const m = /^OK (\d+)\r\n$/.exec(head);
  assert.ok(m, `expected a counted reply, got ${JSON.stringify(head)}`);
  return head + decoder.decode(await c.bytes(Number(m[1])));
}

/** Sends STATUS and asserts the exact reply, payload included. */
async function expectStatus(c: RawClient, request: string, rows: string[][]): Promise<void> {
  await c.send(request);
  assert.equal(await readCounted(c), statusReply(rows), `reply to ${JSON.stringify(request)}`);
}

/** The JSON job list of INFO (extension), for fields STATUS does not show. */
async function info(c: RawClient): Promise<{ id: number; procs: number; mem: number }[]> {
  await c.send("INFO\r\n");
  const text = await readCounted(c);
  return JSON.parse(text.slice(text.indexOf("\r\n") + 2));
}

Deno.test("PING on an empty daemon answers OK with a trailing space; EXIT says BYE and closes", async () => {
  await using d = await TestDaemon.start();
  {
    using c = await d.connect();
    await expectReply(c, "PING\r\n", "OK \r\n");
    await expectReply(c, "EXIT\r\n", "OK BYE\r\n");
    await expectClosed(c);
  }
  using again = await d.connect();
  await expectReply(again, "PING\r\n", "OK \r\n");
});

Deno.test("PING counts jobs by state, sorted by state letter", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2"] });
  using c = await d.connect();
  for (let i = 0; i < 3; i++) await runJob(c, OK_SCRIPT);
  await runJob(c, "#!/bin/sh\nexit 3\n", [], "F");
  await submitOk(c, OK_SCRIPT, HOLD);
  const killed = await submitOk(c, OK_SCRIPT, HOLD);
  await expectReply(c, `KILL ${killed}\r\n`, "OK\r\n");
  const running = [await submitOk(c, BLOCK_SCRIPT), await submitOk(c, BLOCK_SCRIPT)];
  for (const id of running) await c.waitState(id, "R");
  const queued = await submitOk(c, OK_SCRIPT);
  await submitOk(c, OK_SCRIPT, [["DEPENDS", String(running[0])]]);
  assert.equal(await c.state(queued), "Q");
  await expectReply(c, "PING\r\n", "OK F:1 H:1 K:1 Q:1 R:2 S:3 U:1\r\n");
});

Deno.test("SHUTDOWN answers OK, closes the connection and stops the daemon", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  await expectReply(c, "SHUTDOWN\r\n", "OK\r\n");
  await expectClosed(c);
  assert.equal((await d.exited()).code, 0);
});

Deno.test("unknown commands, blank lines, lower case and bare LF leave the connection usable", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  await expectReply(c, "FOO\r\n", "ERROR Unknown command: FOO\r\n");
  await expectReply(c, "FOO bar baz\r\n", "ERROR Unknown command: FOO\r\n");
  await expectReply(c, "\r\n\r\n  \r\n\nPING\r\n", "OK \r\n");
  await expectReply(c, "ping\r\n", "OK \r\n");
  await expectReply(c, "PING\n", "OK \r\n");
  await c.send(submitRequest(OK_SCRIPT, [["name", "lower"], ["hold", ""]], "\n"));
  assert.equal(await reply(c), "OK 1\r\n");
  await c.send(submitRequest(OK_SCRIPT, [["Name", "mixed"], ["Hold", ""]]));
  assert.equal(await reply(c), "OK 2\r\n");
  await expectStatus(c, "status\n", [["1", "lower", "U", ""], ["2", "mixed", "U", ""]]);
  await expectReply(c, "PING\r\n", "OK U:2\r\n");
});

Deno.test("KILL and RELEASE: unknown ids are OK, bad ids are refused", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  for (const command of ["KILL", "RELEASE"]) {
    await expectReply(c, `${command} 99\r\n`, "OK unknown\r\n");
    for (const bad of [" abc", " 0", " -1", " 1.5", "", " 1 2"]) {
      await expectReply(c, `${command}${bad}\r\n`, "ERROR Bad jobid\r\n");
    }
  }
  await expectReply(c, "STATUS abc\r\n", "ERROR Bad jobid\r\n");
  await expectReply(c, "STATUS 0\r\n", "ERROR Bad jobid\r\n");
  const released = await submitOk(c, OK_SCRIPT, HOLD);
  const killed = await submitOk(c, OK_SCRIPT, HOLD);
  await expectReply(c, `KILL ${killed}\r\n`, "OK\r\n");
  await expectReply(c, `RELEASE ${released}\r\n`, "OK\r\n");
  assert.equal(await c.waitState(released, "SFAKE"), "S");
  await expectStatus(c, "STATUS\r\n", [["1", "job", "S", ""], ["2", "job", "K", ""]]);
  // Ended jobs: nothing to do, and the reply says so after OK (still OK for every client).
  await expectReply(c, `KILL ${released}\r\n`, "OK noop S\r\n");
  await expectReply(c, `RELEASE ${killed}\r\n`, "OK noop K\r\n");
  await expectReply(c, "PING\r\n", "OK K:1 S:1\r\n");
});

Deno.test("STATUS: one line per job in id order, counted in bytes, DEPENDS column", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  await expectStatus(c, "STATUS\r\n", []);
  const name = "näme-日本";
  assert.notEqual(encoder.encode(name).length, name.length);
  await submitOk(c, OK_SCRIPT, [...HOLD, ["NAME", name]]);
  for (let i = 2; i <= 4; i++) await submitOk(c, OK_SCRIPT, HOLD);
  await submitOk(c, OK_SCRIPT, [["NAME", "after"], ["DEPENDS", "3:4"]]);
  const rows = [
    ["1", name, "U", ""],
    ["2", "job", "U", ""],
    ["3", "job", "U", ""],
    ["4", "job", "U", ""],
    ["5", "after", "H", "3:4"],
  ];
  await expectStatus(c, "STATUS\r\n", rows);
  await expectStatus(c, "STATUS 1\r\n", [rows[0]!]);
  await expectStatus(c, "STATUS 5\r\n", [rows[4]!]);
  await expectReply(c, "STATUS 6\r\n", "OK 0\r\n");
  await expectReply(c, "PING\r\n", "OK H:1 U:4\r\n");
});

Deno.test("SUBMIT: PROCS and MEM in every unit form", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2", "--maxmem", "2T"] });
  using c = await d.connect();
  const mems: [string, number][] = [
    ["512", 512],
    ["100K", 100 * 1024],
    ["100kb", 100 * 1024],
    ["100M", 100 * 1024 ** 2],
    ["2G", 2 * 1024 ** 3],
    ["2gB", 2 * 1024 ** 3],
    ["1.5G", 1.5 * 1024 ** 3],
    ["1T", 1024 ** 4],
  ];
  for (const [text] of mems) await submitOk(c, OK_SCRIPT, [...HOLD, ["MEM", text]]);
  await submitOk(c, OK_SCRIPT, [...HOLD, ["PROCS", "2"]]);
  const jobs = await info(c);
  assert.deepEqual(jobs.map((j) => j.mem), [...mems.map(([, n]) => n), 2 * 1024 ** 3]);
  assert.deepEqual(jobs.map((j) => j.procs), [...mems.map(() => 1), 2]);
  const id = await runJob(c, '#!/bin/sh\necho "$SJQ_PROCS $SJQ_MEM"\n', [
    ["PROCS", "2"],
    ["MEM", "1.5M"],
  ]);
  assert.equal(await Deno.readTextFile(`${d.home}/${id}.stdout`), `2 ${1.5 * 1024 ** 2}\n`);
});

Deno.test("SUBMIT: STDOUT and STDERR as files, existing directories, relative to CWD", async () => {
  await using d = await TestDaemon.start();
  await using dir = await tempDir();
  const cwd = `${dir.path}/cwd`;
  const other = `${dir.path}/other`;
  await Deno.mkdir(`${cwd}/sub`, { recursive: true });
  await Deno.mkdir(other);
  using c = await d.connect();
  const script = "#!/bin/sh\necho out\necho err >&2\n";
  const cases: {
    options: Options;
    stdout: (id: number) => string;
    stderr: (id: number) => string;
  }[] = [
    { options: [], stdout: (id) => `${cwd}/${id}.stdout`, stderr: (id) => `${cwd}/${id}.stderr` },
    {
      options: [["STDOUT", "out.txt"], ["STDERR", "sub"]],
      stdout: () => `${cwd}/out.txt`,
      stderr: (id) => `${cwd}/sub/${id}.stderr`,
    },
    {
      options: [["STDOUT", `${other}/`], ["STDERR", `${other}/err.txt`]],
      stdout: (id) => `${other}/${id}.stdout`,
      stderr: () => `${other}/err.txt`,
    },
    {
      options: [["STDOUT", "sub/both.txt"], ["STDERR", `${cwd}/sub/both.txt`]],
      stdout: () => `${cwd}/sub/both.txt`,
      stderr: () => `${cwd}/sub/both.txt`,
    },
  ];
  for (const { options, stdout, stderr } of cases) {
    const id = await runJob(c, script, [["CWD", cwd], ...options]);
    if (stdout(id) === stderr(id)) {
      assert.equal(await Deno.readTextFile(stdout(id)), "out\nerr\n");
    } else {
      assert.equal(await Deno.readTextFile(stdout(id)), "out\n", `stdout of job ${id}`);
      assert.equal(await Deno.readTextFile(stderr(id)), "err\n", `stderr of job ${id}`);
    }
  }
});

Deno.test("SUBMIT: ENV lines add up and carry any UTF-8 value exactly", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  const tricky = "a;b=c\nnext line\tnäme 日本 ✓ ==";
  const options: Options = [
    ["ENV", `TRICKY=${base64(tricky)};EMPTY=;`],
    ["ENV", `SECOND=${base64("second")}`],
    ["ENV", `OVER=${base64("first")};OVER=${base64("last")}`],
  ];
  const id = await runJob(
    c,
    '#!/bin/sh\nprintf "%s|%s|%s|%s|%s" "$TRICKY" "${EMPTY-unset}" "$SECOND" "$OVER" "$JOB_ID"\n',
    options,
  );
  const out = await Deno.readFile(`${d.home}/${id}.stdout`);
  assert.deepEqual(out, encoder.encode(`${tricky}||second|last|${id}`));
});

Deno.test("SUBMIT: CWD, NAME, UID and GID", async () => {
  await using d = await TestDaemon.start();
  await using dir = await tempDir();
  using c = await d.connect();
  const id = await runJob(c, "#!/bin/sh\npwd\n", [
    ["CWD", dir.path],
    ["NAME", "  a\tb c  "],
    ["UID", String(Deno.uid())],
    ["GID", String(Deno.gid())],
  ]);
  assert.equal(await Deno.readTextFile(`${dir.path}/${id}.stdout`), `${dir.path}\n`);
  await expectStatus(c, `STATUS ${id}\r\n`, [[String(id), "a b c", "S", ""]]);
  const home = await runJob(c, "#!/bin/sh\npwd\n");
  assert.equal(await Deno.readTextFile(`${d.home}/${home}.stdout`), `${d.home}\n`);
});

Deno.test("SUBMIT: HOLD, AFTERANY, AFTERNOTOK, DEPENDS on a failed job, TIMEOUT", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2"] });
  using c = await d.connect();
  const held = await submitOk(c, OK_SCRIPT, [["HOLD", "ignored value"]]);
  assert.equal(await c.state(held), "U");
  const failed = await runJob(c, "#!/bin/sh\nexit 1\n", [], "F");
  const succeeded = await runJob(c, OK_SCRIPT);
  await runJob(c, OK_SCRIPT, [["AFTERANY", String(failed)]], "S");
  await runJob(c, OK_SCRIPT, [["AFTERNOTOK", String(failed)]], "S");
  await runJob(c, OK_SCRIPT, [["AFTERNOTOK", String(succeeded)]], "A");
  await runJob(c, OK_SCRIPT, [["DEPENDS", String(failed)]], "A");
  await runJob(c, BLOCK_SCRIPT, [["TIMEOUT", "0.5"]], "F");
  await expectReply(c, `RELEASE ${held}\r\n`, "OK\r\n");
  assert.equal(await c.waitState(held, "SFAKE"), "S");
});

Deno.test("SUBMIT errors: each refused with ERROR, and the stream stays in step", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2", "--maxmem", "2T"] });
  await using dir = await tempDir();
  using c = await d.connect();
  const other = String((Deno.uid() ?? 0) + 1);
  const cases: [Options, RegExp][] = [
    [[["PROCS", "0"]], /PROCS/],
    [[["PROCS", "abc"]], /PROCS/],
    [[["PROCS", "3"]], /PROCS/],
    [[["MEM", "12Q"]], /MEM/],
    [[["MEM", "-1G"]], /MEM/],
    [[["MEM", "3T"]], /MEM/],
    [[["DEPENDS", "99"]], /DEPENDS/],
    [[["DEPENDS", "1:x"]], /DEPENDS/],
    [[["DEPENDS", "1::2"]], /DEPENDS/],
    [[["AFTERANY", "99"]], /99/],
    [[["STDOUT", `${dir.path}/missing/out`]], /STDOUT/],
    [[["STDERR", "missing/err"], ["CWD", dir.path]], /STDERR/],
    [[["ENV", `=${base64("x")}`]], /ENV/],
    [[["ENV", "NOEQUALS"]], /ENV/],
    [[["ENV", "X=%%%"]], /ENV/],
    [[["ENV", "X=abc"]], /ENV/],
    [[["CWD", "relative/dir"]], /CWD/],
    [[["CWD", `${dir.path}/missing`]], /CWD/],
    [[["UID", other]], /UID/],
    [[["GID", other]], /GID/],
    [[["TIMEOUT", "0"]], /TIMEOUT/],
    [[["TIMEOUT", "soon"]], /TIMEOUT/],
  ];
  for (const [options, about] of cases) {
    const line = await submit(c, OK_SCRIPT, options);
    assert.match(line, /^ERROR [^\r\n]+\r\n$/, `reply to ${JSON.stringify(options)}`);
    assert.match(line, about, `reply to ${JSON.stringify(options)}`);
    await expectReply(c, "PING\r\n", "OK \r\n");
  }
  assert.equal(await submit(c, OK_SCRIPT, [["FOO", "bar"]]), "ERROR Unknown option: FOO\r\n");
  await expectReply(c, "PING\r\n", "OK \r\n");
  await c.send("SUBMIT\r\nSRC 0\r\nPING\r\n");
  assert.match(await reply(c), /^ERROR [^\r\n]*SRC[^\r\n]*\r\n$/);
  assert.equal(await reply(c), "OK \r\n");
  assert.equal(await submit(c, OK_SCRIPT, HOLD), "OK 1\r\n");
});

Deno.test("SUBMIT errors: several problems are reported together, joined by '; '", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  const line = await submit(c, OK_SCRIPT, [["PROCS", "0"], ["FOO", "x"], ["CWD", "rel"]]);
  const m = /^ERROR (.*)\r\n$/.exec(line);
  assert.ok(m, `expected an ERROR, got ${JSON.stringify(line)}`);
  const parts = m[1]!.split("; ");
  assert.equal(parts.length, 3, `three messages in ${JSON.stringify(line)}`);
  assert.match(parts[0]!, /PROCS/);
  assert.equal(parts[1], "Unknown option: FOO");
  assert.match(parts[2]!, /CWD/);
  assert.equal(await submit(c, OK_SCRIPT, HOLD), "OK 1\r\n");
});

Deno.test("SRC: a 10 MiB script arrives whole", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  const lines: string[] = [];
  for (let size = 0, i = 0; size < 10 * 1024 * 1024; i++) {
    const line = `${String(i).padStart(8, "0")} ${"0123456789abcdef".repeat(6)}\n`;
    lines.push(line);
    size += line.length;
  }
  const payload = encoder.encode(lines.join(""));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", payload));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  const script = concat("#!/bin/sh\nsha256sum <<'EOF'\n", payload, "EOF\necho end-of-script\n");
  assert.ok(script.length > 10 * 1024 * 1024);
  const id = await submitOk(c, script);
  await expectReply(c, "STATUS 999999\r\n", "OK 0\r\n");
  assert.equal(await c.waitState(id, "SFAKE", 60_000), "S");
  assert.equal(await Deno.readTextFile(`${d.home}/${id}.stdout`), `${hex}  -\nend-of-script\n`);
});

Deno.test("SRC: protocol lines inside a script are not interpreted", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  const inner = "PING\r\nEXIT\r\nSUBMIT\r\nSRC 5\r\nSHUTDOWN\r\n";
  const script = `#!/bin/sh\ncat <<'EOF'\n${inner}EOF\nexit 0 # PING\r\n`;
  await c.send(concat(submitRequest(script), "STATUS\r\n"));
  assert.equal(await reply(c), "OK 1\r\n");
  const listed = await readCounted(c);
  assert.match(listed, /^OK \d+\r\n1\tjob\t[QRS]\t\r\n$/);
  assert.equal(await c.waitState(1, "SFAKE"), "S");
  assert.equal(await Deno.readTextFile(`${d.home}/1.stdout`), inner);
  await expectReply(c, "PING\r\n", "OK S:1\r\n");
});

Deno.test("SRC: scripts without #! run under /bin/sh; #! lines are honoured with arguments", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  const out = (id: number) => Deno.readTextFile(`${d.home}/${id}.stdout`);
  const plain = await runJob(c, 'echo "no shebang"\nreadlink /proc/$$/exe\n');
  assert.equal(await out(plain), `no shebang\n${await Deno.realPath("/bin/sh")}\n`);
  const bash = await runJob(
    c,
    '#!/bin/bash\narr=(a b c)\n[[ ${#arr[@]} == 3 ]] && echo "${arr[1]^^}"\n',
  );
  assert.equal(await out(bash), "B\n");
  const strict = await runJob(c, "#!/bin/sh -e\nfalse\necho not reached\n", [], "F");
  assert.equal(await out(strict), "");
});

Deno.test("pipelining: many requests in one write are answered in order", async () => {
  await using d = await TestDaemon.start();
  using c = await d.connect();
  await c.send(concat(
    "PING\r\n",
    submitRequest(OK_SCRIPT, [["NAME", "first"], ...HOLD]),
    "STATUS\r\n",
    submitRequest(OK_SCRIPT, [["NAME", "second"], ["DEPENDS", "1"]]),
    "KILL 1\r\nSTATUS 1\r\nRELEASE 1\r\nFOO\r\nKILL x\r\nSTATUS\r\nPING\r\n",
  ));
  assert.equal(await reply(c), "OK \r\n");
  assert.equal(await reply(c), "OK 1\r\n");
  assert.equal(await readCounted(c), statusReply([["1", "first", "U", ""]]));
  assert.equal(await reply(c), "OK 2\r\n");
  assert.equal(await reply(c), "OK\r\n");
  assert.equal(await readCounted(c), statusReply([["1", "first", "K", ""]]));
  assert.equal(await reply(c), "OK noop K\r\n", "RELEASE of an ended job: nothing to do, said so");
  assert.equal(await reply(c), "ERROR Unknown command: FOO\r\n");
  assert.equal(await reply(c), "ERROR Bad jobid\r\n");
  const rows = [["1", "first", "K", ""], ["2", "second", "A", "1"]];
  assert.equal(await readCounted(c), statusReply(rows));
  assert.equal(await reply(c), "OK A:1 K:1\r\n");
});

Deno.test("limits: a line over 64 KiB gets one ERROR and a close; others go on", async () => {
  await using d = await TestDaemon.start();
  using bystander = await d.connect();
  await expectReply(bystander, "PING\r\n", "OK \r\n");
  {
    using c = await d.connect();
    await expectReply(c, `PING${" ".repeat(64 * 1024 - 6)}\r\n`, "OK \r\n");
    await c.send("x".repeat(64 * 1024));
    assert.match(await reply(c), /^ERROR [^\r\n]+\r\n$/);
    await expectClosed(c);
  }
  {
    using c = await d.connect();
    await c.send(`SUBMIT\r\nNAME ${"n".repeat(64 * 1024 - 5)}`);
    assert.match(await reply(c), /^ERROR [^\r\n]+\r\n$/);
    await expectClosed(c);
  }
  await expectReply(bystander, "PING\r\n", "OK \r\n");
  using fresh = await d.connect();
  await expectReply(fresh, "PING\r\n", "OK \r\n");
});

Deno.test("limits: SRC over maxscript or not a count gets one ERROR and a close", async () => {
  await using d = await TestDaemon.start({ args: ["--maxscript", "1K"] });
  for (const count of ["1025", "abc", "-1"]) {
    using c = await d.connect();
    await c.send(`SUBMIT\r\nSRC ${count}\r\n`);
    assert.match(await reply(c), /^ERROR [^\r\n]+\r\n$/, `SRC ${count}`);
    await expectClosed(c);
  }
  using c = await d.connect();
  const script = `#!/bin/sh\n${"#".repeat(1024 - 11)}\n`;
  assert.equal(encoder.encode(script).length, 1024);
  assert.equal(await submit(c, script, HOLD), "OK 1\r\n");
  await expectReply(c, "PING\r\n", "OK U:1\r\n");
});

Deno.test("replay: the original Python client's bytes for a submit with -env", async () => {
  await using d = await TestDaemon.start();
  await using dir = await tempDir();
  const script = '#!/bin/sh\necho "hello $GREETING${EMPTY}"\n';
  const env = [
    `PATH=${base64("/usr/bin:/bin")}`,
    `GREETING=${base64("from python")}`,
    "EMPTY=",
  ].join(";");
  const bytes = encoder.encode(script);
  using c = await d.connect();
  await c.send(concat(
    `SUBMIT\r\nENV ${env}\r\nCWD ${dir.path}\r\nUID ${Deno.uid()}\r\nGID ${Deno.gid()}\r\n`,
    `NAME myscript.sh\r\nSRC ${bytes.length}\r\n`,
    bytes,
    "EXIT\r\n",
  ));
  assert.equal(await reply(c), "OK 1\r\n");
  assert.equal(await reply(c), "OK BYE\r\n");
  await expectClosed(c);
  using check = await d.connect();
  assert.equal(await check.waitState(1, "SFAKE"), "S");
  assert.equal(await Deno.readTextFile(`${dir.path}/1.stdout`), "hello from python\n");
  await expectStatus(check, "STATUS\r\n", [["1", "myscript.sh", "S", ""]]);
});
