/**
 * End-to-end tests of script arguments: `sjq submit [opts] SCRIPT ARG...`
 * runs the script with its arguments, byte for byte, and still reads the
 * script's #SJQ directives; the ARG option on the wire.
 */

import assert from "node:assert/strict";
import type { JobInfo } from "../src/info.ts";
import { encodeBase64 } from "../src/protocol.ts";
import { TestDaemon } from "./harness.ts";

Deno.test("submit SCRIPT ARG...: the arguments reach the script and its #SJQ directives still count", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2"] });
  const dir = `${d.home}/work`;
  await Deno.mkdir(dir);
  await Deno.writeTextFile(
    `${dir}/align.sh`,
    `#!/bin/sh\n#SJQ --name aligner -p 2\nprintf '%s|' "$#" "$@"\n`,
  );
  // Flags after the script belong to it, not to submit (as with sbatch).
  const args = ["S01", "two words", "", "it's", "-p", "--name", "$HOME", "é"];
  const sub = await d.cli(["submit", "--mem", "1M", "align.sh", ...args], { cwd: dir });
  assert.equal(sub.code, 0, sub.stderr);
  const id = Number(sub.stdout);
  assert.equal((await d.cli(["wait", String(id)])).code, 0);
  assert.equal(await Deno.readTextFile(`${dir}/${id}.stdout`), `${args.length}|${args.join("|")}|`);
  const [job] = JSON.parse((await d.cli(["status", "--json", String(id)])).stdout) as JobInfo[];
  assert.equal(job!.name, "aligner", "the directive's name");
  assert.equal(job!.procs, 2, "the directive's procs");
  assert.equal(job!.mem, 1024 * 1024, "the command line's mem");
  assert.deepEqual(job!.args, args);

  // A job without arguments runs with none.
  const plain = Number((await d.cli(["submit", "align.sh"], { cwd: dir })).stdout);
  await d.cli(["wait", String(plain)]);
  assert.equal(await Deno.readTextFile(`${dir}/${plain}.stdout`), "0|");
});

Deno.test("ARG on the wire: one base64 argument per line, in order; bad base64 is an ERROR", async () => {
  await using d = await TestDaemon.start();
  const dir = `${d.home}/work`;
  await Deno.mkdir(dir);
  using c = await d.connect();
  const script = `printf '%s|' "$@"\n`;
  const submit = async (args: string[]) =>
    (await c.request(
      `SUBMIT\r\nCWD ${dir}\r\n${
        args.map((a) => `ARG ${a}\r\n`).join("")
      }SRC ${script.length}\r\n${script}`,
    )).trimEnd();
  const good = await submit([encodeBase64("a b"), "", encodeBase64("c")]);
  assert.match(good, /^OK \d+$/);
  assert.equal(await submit(["not base64!"]), 'ERROR Bad ARG value "not base64!": expected base64');
  const id = good.slice(3);
  assert.equal((await c.request(`WAIT ${id}\r\n`)).trimEnd(), "OK S 0");
  assert.equal(await Deno.readTextFile(`${dir}/${id}.stdout`), "a b||c|");
});
