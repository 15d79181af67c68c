import assert from "node:assert/strict";
import { parseIni } from "./ini.ts";

/** The `key=value` pairs of `text`, for tests that do not look at positions. */
function pairs(text: string): string[] {
  return parseIni(text, "rc").map((entry) => `${entry.key}=${entry.value}`);
}

Deno.test("parseIni() reads the original dotted format with file and line", () => {
  assert.deepEqual(parseIni("sjq.maxprocs=4\nsjq.socket = /tmp/s\n", "/home/u/.sjqrc"), [
    { key: "sjq.maxprocs", value: "4", file: "/home/u/.sjqrc", line: 1 },
    { key: "sjq.socket", value: "/tmp/s", file: "/home/u/.sjqrc", line: 2 },
  ]);
});

Deno.test("parseIni() accepts = and : as separators, splitting at the first", () => {
  assert.deepEqual(pairs("a = 1\nb: 2\nc=x:y\nd:x=y\ne=\n"), [
    "a=1",
    "b=2",
    "c=x:y",
    "d=x=y",
    "e=",
  ]);
});

Deno.test("parseIni() skips comments and blank lines and counts every line", () => {
  const entries = parseIni("# comment\n; comment\n\n   \n  # indented\na=1\r\n\r\nb=2\rc=3", "rc");
  assert.deepEqual(entries.map((entry) => [entry.key, entry.line]), [["a", 6], ["b", 8], [
    "c",
    9,
  ]]);
});

Deno.test("parseIni() ignores a byte order mark", () => {
  assert.deepEqual(pairs("\uFEFFsjq.db = x"), ["sjq.db=x"]);
});

Deno.test("parseIni() prefixes keys with their section", () => {
  const text = "top=0\n[sjq]\nmaxprocs = 4\n[sjq.defaults]\nmem=2G\n[ Other ] # c\nx=1";
  assert.deepEqual(pairs(text), ["top=0", "sjq.maxprocs=4", "sjq.defaults.mem=2G", "other.x=1"]);
});

Deno.test("parseIni() lower-cases keys and sections but not values", () => {
  assert.deepEqual(pairs("[SJQ]\nMaxProcs = Four\nSJQ.DB=/Tmp/X"), [
    "sjq.maxprocs=Four",
    "sjq.sjq.db=/Tmp/X",
  ]);
});

Deno.test("parseIni() trims values and strips matching quotes", () => {
  assert.deepEqual(
    pairs(`a =  x y  \nb = "x # y"\nc = ' q '\nd = "x" # c\ne = "x'\nf = ""\ng = "x"y`),
    ["a=x y", "b=x # y", "c= q ", "d=x", `e="x'`, "f=", `g="x"y`],
  );
});

Deno.test("parseIni() removes inline comments after whitespace from unquoted values", () => {
  assert.deepEqual(pairs("a = x # c\nb = x ; c\nc = x#y\nd = x;y\ne = # c\nf =#x\ng = x\t# c"), [
    "a=x",
    "b=x",
    "c=x#y",
    "d=x;y",
    "e=",
    "f=#x",
    "g=x",
  ]);
});

Deno.test("parseIni() keeps every occurrence of a repeated key", () => {
  assert.deepEqual(pairs("a=1\na=2"), ["a=1", "a=2"]);
});

Deno.test("parseIni() rejects malformed lines, naming file and line", () => {
  const cases: [string, string][] = [
    ["a=1\njunk", 'Cannot parse /x/rc:2: expected "key = value", found "junk"'],
    ["= 1", 'Cannot parse /x/rc:1: missing key before "="'],
    ["\n\n : 1", 'Cannot parse /x/rc:3: missing key before ":"'],
    ["[sjq", 'Cannot parse /x/rc:1: expected a section header such as "[sjq]", found "[sjq"'],
    ["[]", 'Cannot parse /x/rc:1: expected a section header such as "[sjq]", found "[]"'],
    ["[a] b", 'Cannot parse /x/rc:1: expected a section header such as "[sjq]", found "[a] b"'],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseIni(text, "/x/rc"), { name: "SyntaxError", message });
  }
});
