/**
 * End-to-end tests of the `sjq` command `make build` makes (build.sh): where
 * `deno compile` cannot produce sjq, a launcher that runs these sources from
 * any directory, passing arguments and exit codes; a "compiled" program that
 * is only Deno (DENORT_BIN pointing at deno) is never shipped.
 */

import assert from "node:assert/strict";
import { killJobsUnder, type Output, tempDir, waitFor } from "./harness.ts";

const BUILD = new URL("../build.sh", import.meta.url).pathname;
const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function run(
  program: string,
  args: string[],
  opts: { env: Record<string, string>; cwd?: string },
): Promise<Output> {
  const out = await new Deno.Command(program, {
    args,
    env: opts.env,
    clearEnv: true,
    cwd: opts.cwd ?? "/",
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function buildEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/",
    DENO: Deno.execPath(),
    ...extra,
  };
}

Deno.test("the launcher runs sjq from any directory, passes arguments and exit codes, and detaches", async () => {
  await using dir = await tempDir();
  try {
    await Deno.mkdir(`${dir.path}/bin`);
    const built = await run("/bin/sh", [BUILD, `${dir.path}/bin/sjq`], {
      env: buildEnv({ SJQ_BUILD: "launcher" }),
    });
    assert.equal(built.code, 0, built.stderr);
    assert.match(
      built.stderr,
      /a launcher for the sources in .* \(no compiled binary: SJQ_BUILD=launcher\)/,
    );
    const sjq = `${dir.path}/bin/sjq`;
    const text = await Deno.readTextFile(sjq);
    assert.match(text, /^#!\/bin\/sh\n/);
    assert.ok(text.includes(`'${MAIN}'`), text);
    assert.ok(text.includes(`exec '${Deno.execPath()}' run`), text);

    const env = {
      HOME: dir.path,
      PATH: "/usr/bin:/bin",
      NO_COLOR: "1",
      SJQ_SOCKET: `${dir.path}/s.sock`,
    };
    const version = await run(sjq, ["--version"], { env });
    assert.deepEqual(version, { code: 0, stdout: "sjq 0.1.0\n", stderr: "" });
    assert.equal((await run(sjq, ["bogus"], { env })).code, 2);

    // A detached daemon started through the launcher runs Deno on main.ts again.
    const started = await run(sjq, ["daemon", "--detach", "--autoshutdown", "F"], {
      env,
      cwd: dir.path,
    });
    assert.equal(started.code, 0, started.stderr);
    const pid = Number(started.stdout.trim());
    const cmdline = (await Deno.readTextFile(`/proc/${pid}/cmdline`)).split("\0");
    assert.deepEqual(cmdline.slice(0, 6), [
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      "--no-config",
      MAIN,
    ]);

    const out = `${dir.path}/out`;
    await Deno.mkdir(out);
    const job = await run(
      sjq,
      ["submit", "--wait", "-o", `${out}/`, "--wrap", 'echo "two  words"; exit 3'],
      { env, cwd: "/tmp" },
    );
    assert.equal(job.code, 3, job.stderr);
    const id = job.stdout.trim();
    assert.equal(await Deno.readTextFile(`${out}/${id}.stdout`), "two  words\n");
    assert.equal((await run(sjq, ["shutdown"], { env })).code, 0);
    await waitFor(
      () => Deno.stat(`/proc/${pid}`).then(() => false, () => true),
      "the daemon to stop",
    );
  } finally {
    await killJobsUnder(dir.path);
  }
});

Deno.test("a compiled program that is only Deno (DENORT_BIN=deno) is not shipped: a launcher is", async () => {
  await using dir = await tempDir();
  const built = await run("/bin/sh", [BUILD, `${dir.path}/sjq`], {
    env: buildEnv({ DENORT_BIN: Deno.execPath() }),
  });
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stderr, /the compiled program is not sjq \(it answers --version with "deno /);
  assert.match(built.stderr, /built .*: a launcher/);
  const version = await run(`${dir.path}/sjq`, ["--version"], { env: { PATH: "/usr/bin:/bin" } });
  assert.equal(version.stdout, "sjq 0.1.0\n");
  const left = [];
  for await (const e of Deno.readDir(dir.path)) left.push(e.name);
  assert.deepEqual(left, ["sjq"]);
});
