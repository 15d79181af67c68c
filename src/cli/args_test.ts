import assert from "node:assert/strict";
import { parseArgs as nodeParseArgs } from "node:util";
import { parseArgs } from "./args.ts";

const OPTIONS = {
  procs: { type: "string", short: "p" },
  after: { type: "string", multiple: true },
  hold: { type: "boolean" },
  wait: { type: "boolean", short: "w" },
  help: { type: "boolean", short: "h" },
  q: { type: "boolean", multiple: true },
  "no-env": { type: "boolean" },
} as const;

function outcome(parse: () => { values: object; positionals: string[] }) {
  try {
    const { values, positionals } = parse();
    return { values: { ...values }, positionals };
  } catch (e) {
    return { error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

const CASES: string[][] = [
  [],
  ["--bogus"],
  ["-x"],
  ["-p"],
  ["--procs"],
  ["--after"],
  ["--hold=1"],
  ["--hold="],
  ["-p", "-3"],
  ["-p-3"],
  ["--procs=-3"],
  ["--procs", "--hold"],
  ["-wp4"],
  ["-pw"],
  ["-wh"],
  ["-wx"],
  ["-w=3"],
  ["--procs=4"],
  ["--procs="],
  ["--procs=a=b"],
  ["-p4"],
  ["-", "a"],
  ["--", "-p"],
  ["--", "--", "x"],
  ["a", "-p", "3", "b"],
  ["--after", "1", "--after=2", "--after", "3"],
  ["-q", "-q", "--q"],
  ["--hold", "--hold"],
  ["--p"],
  ["---x"],
  ["--="],
  ["--=x"],
  ["-p", "3", "-p", "4"],
  ["--no-hold"],
  ["--no-env"],
  ["-ww"],
  ["--procs", "-"],
  ["-p", "--"],
  ["--wait=", "x"],
  ["--__proto__"],
  ["--toString"],
  ["-h", "x", "--bogus", "-p"],
  ["x", "--bogus"],
  ["--procs", "4", "--", "--procs", "5"],
  ["-wq"],
  ["-qw"],
  ["--wrap", "echo -n"],
  ["ünï", "-p", "ç"],
];

Deno.test("parseArgs behaves as node:util parseArgs (strict), messages included", () => {
  for (const args of CASES) {
    for (const allowPositionals of [true, false]) {
      const ours = outcome(() => parseArgs(args, OPTIONS, allowPositionals));
      const node = outcome(() =>
        nodeParseArgs({ args, options: OPTIONS, allowPositionals, strict: true })
      );
      assert.deepEqual(ours, node, `${JSON.stringify(args)}, allowPositionals ${allowPositionals}`);
    }
  }
});

Deno.test("parseArgs gives typed values: strings, booleans, lists", () => {
  const { values, positionals } = parseArgs(["-p", "2", "--after", "1", "-w", "s.sh"], OPTIONS);
  const procs: string | undefined = values.procs;
  const after: string[] | undefined = values.after;
  const wait: boolean | undefined = values.wait;
  assert.deepEqual([procs, after, wait, values.hold, positionals], ["2", ["1"], true, undefined, [
    "s.sh",
  ]]);
});
