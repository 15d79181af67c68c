import assert from "node:assert/strict";
import { concatBytes } from "./bytes.ts";
import { encodeBase64, parseJobId, type Request, RequestParser } from "./protocol.ts";

const encoder = new TextEncoder();

function bytes(...parts: (string | Uint8Array)[]): Uint8Array {
  return concatBytes(parts.map((p) => typeof p === "string" ? encoder.encode(p) : p));
}

/** Feeds `chunks` one after the other, taking every complete request after each. */
function parse(parser: RequestParser, ...chunks: (string | Uint8Array)[]): Request[] {
  const requests: Request[] = [];
  for (const chunk of chunks) {
    parser.push(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
    for (let r = parser.next(); r !== null; r = parser.next()) requests.push(r);
  }
  return requests;
}

/** A submit request as the parser returns it, with defaults for what is not given. */
function submitted(
  script: string | Uint8Array,
  options: Partial<Extract<Request, { kind: "submit" }>["options"]> = {},
  errors: string[] = [],
): Request {
  return {
    kind: "submit",
    options: { deps: [], env: [], hold: false, args: [], ...options },
    errors,
    script: typeof script === "string" ? encoder.encode(script) : script,
  };
}

/** A script with bytes that look like protocol lines, CRs, a NUL and invalid UTF-8. */
const SCRIPT = bytes("#!/bin/sh\nPING\r\nSRC 3\r\n", new Uint8Array([0, 0xff, 0xfe, 13, 10]));

const STREAM = bytes(
  "PING\r\n\r\n  \r\n",
  "submit\r\nprocs 2\r\nMem 1.5g\r\nDEPENDS 1:2\r\nAfterAny 3\r\nAFTERNOTOK 4\r\n",
  `ENV A=${encodeBase64("x;y=z\nnäme")};B=\r\nENV C=${encodeBase64("c")}\r\n`,
  "STDOUT out dir/x\r\nSTDERR /abs/err\r\nCWD /work\r\nNAME  My\tJob \r\nUID 0\r\nGID 0\r\n",
  "HOLD\r\nTIMEOUT 1.5\r\n",
  `SRC ${SCRIPT.length}\r\n`,
  SCRIPT,
  "status\nSTATUS 3\r\nKILL 2\r\nrelease 5\r\nhold 6\r\nwait 7\r\nINFO\r\ninfo 8\r\n",
  "exit\r\nshutdown DRAIN\r\nSHUTDOWN\r\nshutdown kill\r\n",
);

const EXPECTED: Request[] = [
  { kind: "ping" },
  submitted(SCRIPT, {
    procs: 2,
    mem: 1.5 * 1024 ** 3,
    deps: [
      { id: 1, kind: "afterok" },
      { id: 2, kind: "afterok" },
      { id: 3, kind: "afterany" },
      { id: 4, kind: "afternotok" },
    ],
    env: [["A", "x;y=z\nnäme"], ["B", ""], ["C", "c"]],
    stdout: "out dir/x",
    stderr: "/abs/err",
    cwd: "/work",
    name: "My Job",
    uid: 0,
    gid: 0,
    hold: true,
    timeout: 1.5,
  }),
  { kind: "status", id: null },
  { kind: "status", id: 3 },
  { kind: "kill", id: 2 },
  { kind: "release", id: 5 },
  { kind: "hold", id: 6 },
  { kind: "wait", id: 7 },
  { kind: "info", id: null },
  { kind: "info", id: 8 },
  { kind: "exit" },
  { kind: "shutdown", mode: "drain" },
  { kind: "shutdown", mode: "detach" },
  { kind: "shutdown", mode: "kill" },
];

Deno.test("RequestParser parses a whole stream fed as one chunk", () => {
  assert.deepEqual(parse(new RequestParser(), STREAM), EXPECTED);
});

Deno.test("RequestParser gives the same requests when fed one byte at a time", () => {
  const parser = new RequestParser();
  const chunks = Array.from(STREAM, (b) => new Uint8Array([b]));
  assert.deepEqual(parse(parser, ...chunks), EXPECTED);
  assert.equal(parser.midRequest, false);
});

Deno.test("RequestParser gives the same requests for chunks split at every size", () => {
  for (const size of [2, 3, 7, 64, 1000]) {
    const chunks = [];
    for (let i = 0; i < STREAM.length; i += size) chunks.push(STREAM.subarray(i, i + size));
    assert.deepEqual(parse(new RequestParser(), ...chunks), EXPECTED, `chunks of ${size}`);
  }
});

Deno.test("RequestParser waits for the whole SRC and takes exactly n bytes", () => {
  const parser = new RequestParser();
  const script = "#!/bin/sh\necho hi\n";
  assert.deepEqual(parse(parser, `SUBMIT\r\nSRC ${script.length}\r\n`, script.slice(0, 5)), []);
  assert.equal(parser.midRequest, true);
  assert.deepEqual(parse(parser, script.slice(5, -1)), []);
  assert.deepEqual(parse(parser, `${script.slice(-1)}PING\r\n`), [submitted(script), {
    kind: "ping",
  }]);
  assert.equal(parser.midRequest, false);
});

Deno.test("RequestParser.midRequest tells whether part of a request is buffered", () => {
  const parser = new RequestParser();
  assert.equal(parser.midRequest, false);
  parse(parser, "PI");
  assert.equal(parser.midRequest, true);
  parse(parser, "NG\r\n");
  assert.equal(parser.midRequest, false);
  parse(parser, "SUBMIT\r\n");
  assert.equal(parser.midRequest, true, "after SUBMIT");
  parse(parser, "NAME x\r\n");
  assert.equal(parser.midRequest, true, "after an option");
  parse(parser, "SRC 1\r\n");
  assert.equal(parser.midRequest, true, "after SRC");
  assert.deepEqual(parse(parser, "x"), [submitted("x", { name: "x" })]);
  assert.equal(parser.midRequest, false);
});

Deno.test("RequestParser: a line longer than maxLine is fatal, one of exactly maxLine is not", () => {
  const limits = { maxLine: 16, maxScript: 100 };
  assert.deepEqual(parse(new RequestParser(limits), `PING${" ".repeat(10)}\r\n`), [{
    kind: "ping",
  }]);
  for (
    const stream of [`PING${" ".repeat(11)}\r\n`, "x".repeat(16), "SUBMIT\r\n" + "N".repeat(16)]
  ) {
    const parser = new RequestParser(limits);
    const [first, ...rest] = parse(parser, stream, "PING\r\n");
    assert.equal(first?.kind, "fatal", JSON.stringify(stream));
    assert.match((first as { message: string }).message, /16/);
    assert.deepEqual(rest, [], "nothing is parsed after a fatal error");
  }
  assert.deepEqual(parse(new RequestParser(limits), "x".repeat(15)), [], "short partial line");
});

Deno.test("RequestParser: a bad or too large SRC count is fatal", () => {
  const limits = { maxLine: 1024, maxScript: 100 };
  for (const count of ["abc", "-1", "1.5", "", "101"]) {
    const requests = parse(new RequestParser(limits), `SUBMIT\r\nSRC ${count}\r\n`, "PING\r\n");
    assert.equal(requests.length, 1, `SRC ${count}`);
    assert.equal(requests[0]!.kind, "fatal", `SRC ${count}`);
  }
  const script = "#".repeat(100);
  assert.deepEqual(parse(new RequestParser(limits), `SUBMIT\r\nSRC 100\r\n${script}`), [
    submitted(script),
  ]);
});

Deno.test("RequestParser: bad commands and ids are invalid, and parsing goes on", () => {
  const requests = parse(
    new RequestParser(),
    "FOO bar\r\nfoo\r\nKILL\r\nKILL abc\r\nRELEASE 0\r\nSTATUS -1\r\nHOLD 1 2\r\nSHUTDOWN NOW\r\nPING\r\n",
  );
  assert.deepEqual(requests, [
    { kind: "invalid", message: "Unknown command: FOO" },
    { kind: "invalid", message: "Unknown command: foo" },
    { kind: "invalid", message: "Bad jobid" },
    { kind: "invalid", message: "Bad jobid" },
    { kind: "invalid", message: "Bad jobid" },
    { kind: "invalid", message: "Bad jobid" },
    { kind: "invalid", message: "Bad jobid" },
    { kind: "invalid", message: "Bad SHUTDOWN mode: NOW" },
    { kind: "ping" },
  ]);
});

Deno.test("RequestParser collects every bad SUBMIT option and still reads the script", () => {
  const [request, ping] = parse(
    new RequestParser(),
    "SUBMIT\r\nPROCS 0\r\nMEM 12Q\r\nDEPENDS 1:x\r\nFoo bar\r\nENV =eA==;B=%%;C\r\n",
    "UID -1\r\nTIMEOUT 0\r\nCWD\r\nSRC 2\r\nhiPING\r\n",
  );
  assert.equal(request?.kind, "submit");
  const { errors, options } = request as Extract<Request, { kind: "submit" }>;
  const expected = [
    /PROCS/,
    /MEM/,
    /DEPENDS/,
    /^Unknown option: Foo$/,
    /ENV name ""/,
    /B/,
    /C/,
    /UID/,
    /TIMEOUT/,
    /CWD/,
  ];
  assert.equal(errors.length, expected.length, errors.join("; "));
  for (const [i, re] of expected.entries()) assert.match(errors[i]!, re);
  assert.deepEqual(options, { deps: [], env: [], hold: false, args: [] });
  assert.deepEqual(ping, { kind: "ping" });
});

Deno.test("RequestParser: SRC 0 is an error that keeps the stream in step", () => {
  const [request, ping] = parse(new RequestParser(), "SUBMIT\r\nSRC 0\r\nPING\r\n");
  assert.equal(request?.kind, "submit");
  assert.match((request as Extract<Request, { kind: "submit" }>).errors[0]!, /SRC/);
  assert.deepEqual(ping, { kind: "ping" });
});

Deno.test("RequestParser: command words and option keys are case-insensitive, values are not", () => {
  assert.deepEqual(
    parse(new RequestParser(), "Ping\r\nsUbMiT\r\nname MiXed\r\ncwd /Tmp\r\nHold\r\nsrc 1\r\nx"),
    [{ kind: "ping" }, submitted("x", { name: "MiXed", cwd: "/Tmp", hold: true })],
  );
});

Deno.test("parseJobId accepts positive whole numbers only", () => {
  for (
    const [text, id] of [["1", 1], ["42", 42], ["007", 7], [
      "999999999999999",
      999999999999999,
    ]] as const
  ) {
    assert.equal(parseJobId(text), id, text);
  }
  for (
    const text of ["0", "-1", "+1", "1.5", "1e3", "abc", "", " 1", "1 ", "0x10", "1".repeat(16)]
  ) {
    assert.equal(parseJobId(text), null, JSON.stringify(text));
  }
});

Deno.test("encodeBase64 encodes UTF-8 bytes", () => {
  assert.equal(encodeBase64(""), "");
  assert.equal(encodeBase64("näme"), "bsOkbWU=");
  const long = "日本".repeat(20_000);
  assert.equal(atob(encodeBase64(long)).length, encoder.encode(long).length);
});

Deno.test("RequestParser: QUEUE (lower-cased) and MAIL options; RESTART of an array task", () => {
  assert.deepEqual(
    parse(new RequestParser(), "SUBMIT\r\nQUEUE GPU-a\r\nMAIL me@example.org\r\nSRC 1\r\nx"),
    [submitted("x", { queue: "gpu-a", mail: "me@example.org" })],
  );
  const [bad] = parse(
    new RequestParser(),
    "SUBMIT\r\nQUEUE a.b\r\nMAIL -oi\r\nMAIL a b\r\nSRC 1\r\nx",
  ) as Extract<Request, { kind: "submit" }>[];
  assert.deepEqual(bad!.errors.map((e) => e.split(":")[0]), [
    'Bad QUEUE value "a.b"',
    'Bad MAIL value "-oi"',
    'Bad MAIL value "a b"',
  ]);
  assert.deepEqual(parse(new RequestParser(), "RESTART 12_7 DEPENDENTS\r\nRESTART 3\r\n"), [
    { kind: "restart", id: 12, task: 7, dependents: true },
    { kind: "restart", id: 3, dependents: false },
  ]);
});

Deno.test("SUBMIT GPUS: a whole number of devices; anything else is an error of the submit", () => {
  const reqs = parse(
    new RequestParser(),
    "SUBMIT\r\nGPUS 2\r\nSRC 1\r\nx",
    "SUBMIT\r\nGPUS -1\r\nSRC 1\r\nx",
    "SUBMIT\r\ngpus 0\r\nSRC 1\r\nx",
  );
  assert.deepEqual(reqs, [
    submitted("x", { gpus: 2 }),
    submitted("x", {}, ['Bad GPUS value "-1": expected a whole number']),
    submitted("x", { gpus: 0 }),
  ]);
});

Deno.test("RequestParser: an ENV line sent again gives each SUBMIT the same pairs, and the same errors", () => {
  const line = `ENV A=${encodeBase64("a")};B=${encodeBase64("b;c")};bad=%%\r\n`;
  const submit = (env: string) => `SUBMIT\r\n${env}SRC 1\r\nx`;
  const requests = parse(
    new RequestParser(),
    submit(line),
    submit(`${line}ENV C=${encodeBase64("c")}\r\n`),
    submit(line),
    submit(`ENV A=${encodeBase64("other")}\r\n`),
  );
  const pairs: [string, string][] = [["A", "a"], ["B", "b;c"]];
  const errors = ["Bad ENV value for bad: not base64"];
  assert.deepEqual(requests, [
    submitted("x", { env: pairs }, errors),
    submitted("x", { env: [...pairs, ["C", "c"]] }, errors),
    submitted("x", { env: pairs }, errors),
    submitted("x", { env: [["A", "other"]] }),
  ]);
});
