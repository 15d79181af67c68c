/**
 * End-to-end test of the bash completion: real bash sources `sjq completions
 * bash` and completes job ids from the running daemon, state words, config
 * keys and every command's flags (clean's included).
 */

import assert from "node:assert/strict";
import { TestDaemon } from "./harness.ts";

const BUILD = new URL("../build.sh", import.meta.url).pathname;

Deno.test("bash completes job ids from the daemon, state words, config keys and flags", async () => {
  await using d = await TestDaemon.start();
  const bin = `${d.home}/bin`;
  await Deno.mkdir(bin);
  const built = await new Deno.Command("/bin/sh", {
    args: [BUILD, `${bin}/sjq`],
    env: { DENO: Deno.execPath(), SJQ_BUILD: "launcher" },
  }).output();
  assert.equal(built.code, 0, new TextDecoder().decode(built.stderr));
  for (let i = 0; i < 2; i++) {
    assert.equal((await d.cli(["submit", "-C", d.home, "--hold", "--wrap", "true"])).code, 0);
  }
  const complete = async (...words: string[]) => {
    const script = `source <(sjq completions bash)
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}
_sjq; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const out = await new Deno.Command("bash", {
      args: ["-c", script],
      env: { ...d.env, PATH: `${bin}:/usr/bin:/bin` },
      clearEnv: true,
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).trim().split("\n").filter((l) => l !== "").sort();
  };
  assert.deepEqual(await complete("sjq", "kill", ""), ["1", "2"]);
  assert.deepEqual(await complete("sjq", "show", "2"), ["2"]);
  assert.deepEqual(await complete("sjq", "submit", "--after", ""), ["1", "2"]);
  assert.deepEqual(await complete("sjq", "submit", "-p", "2", "-d", "1"), ["1"]);
  assert.deepEqual(await complete("sjq", "status", "--state", "u"), ["user-hold"]);
  assert.deepEqual(await complete("sjq", "acct", "--by", "s"), ["state"]);
  const keys = await complete("sjq", "config", "sjq.max");
  for (const key of ["sjq.maxmem", "sjq.maxprocs", "sjq.maxscript"]) assert.ok(keys.includes(key));
  assert.ok(keys.every((k) => k.startsWith("sjq.max")));
  assert.ok((await complete("sjq", "clean", "--")).includes("--older-than"));
  assert.ok((await complete("sjq", "sh")).includes("show"));
});
