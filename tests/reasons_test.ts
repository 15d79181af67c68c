/**
 * End-to-end tests of why a job waits or ended as it did, wherever a person
 * looks: `sjq show`, the REASON column of `sjq status` (a table that fits the
 * terminal), `sjq wait`, `sjq submit --after` a failed job, `sjq log -f` on a
 * job that has not started.
 */

import assert from "node:assert/strict";
import { stringWidth } from "../src/cli/string_width.ts";
import { type Output, TestDaemon, waitFor } from "./harness.ts";

async function ok(p: Promise<Output>): Promise<Output> {
  const o = await p;
  assert.equal(o.code, 0, o.stderr);
  return o;
}

Deno.test("show, status, wait, submit --after and log -f say why a job waits or ended so", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "1", "--maxmem", "4G"] });
  const dir = `${d.home}/work`;
  await Deno.mkdir(dir);
  const submit = async (args: string[]) =>
    Number((await ok(d.cli(["submit", ...args], { cwd: dir }))).stdout.trim());
  const gate = await submit([
    "-n",
    "gate",
    "-m",
    "1G",
    "--wrap",
    "while [ ! -e go ]; do sleep 0.02; done\necho done\nexit 1",
  ]);
  await waitFor(async () => (await d.cli(["ping"])).stdout.includes("R:1"), "the gate to run");
  const queued = await submit(["-n", "queued", "-m", "1G", "--wrap", "true"]);
  const after = await submit([
    "-n",
    "after",
    "-m",
    "1G",
    "--after",
    String(gate),
    "--wrap",
    "true",
  ]);
  const held = await submit(["-n", "held", "-m", "1G", "--hold", "--wrap", "echo held-out"]);

  const show = (await ok(d.cli(["show", String(after)]))).stdout;
  assert.match(show, new RegExp(`^job ${after}: after\n`));
  assert.match(show, new RegExp(`^  reason +waiting for job ${gate} \\(running\\)$`, "m"));
  assert.match(show, new RegExp(`^  depends +${gate} \\(running\\)$`, "m"));
  assert.match(show, new RegExp(`^  stdout +${dir}/${after}\\.stdout$`, "m"));
  assert.match(show, /^ {2}mem +1G$/m);
  assert.match(show, /^ {2}script:\n {4}#!\/bin\/sh\n {4}true\n/m);
  const gateShow = (await ok(d.cli(["show", "--lines", "1", String(gate)]))).stdout;
  assert.match(gateShow, /^ {2}script \(first 1 of 4 lines\):\n {4}#!\/bin\/sh\n$/m);
  assert.match(gateShow, /^ {2}started +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/m);
  assert.equal((await d.cli(["show", "999"])).code, 1);

  const table = await ok(d.cli(["status"]));
  const reasons = Object.fromEntries(
    table.stdout.trimEnd().split("\n").slice(1).map((l) => {
      const cells = l.trim().split(/ {2,}/);
      return [Number(cells[0]), cells.at(-1)];
    }),
  );
  assert.deepEqual(reasons, {
    [gate]: "-",
    [queued]: "waiting for 1 CPU (0 free)",
    [after]: `waiting for job ${gate} (running)`,
    [held]: `held: sjq release ${held}`,
  });
  assert.equal(table.stderr, "4 jobs: 1 queued, 1 holding, 1 user-hold, 1 running\n");

  // log -f on a held job says so, and ends with the job's end.
  const following = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      new URL("../main.ts", import.meta.url).pathname,
      "log",
      "-f",
      String(held),
    ],
    env: d.env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const followOut = new Response(following.stdout).text();
  const followErr = following.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let followed = "";
  const readErr = async (until: (text: string) => boolean) => {
    while (!until(followed)) {
      const { value, done } = await followErr.read();
      if (done) break;
      followed += value;
    }
  };
  // Not before log -f has seen the job held: released first, it would only follow its output.
  await readErr((text) => text.includes("its output follows once it starts"));

  await Deno.writeTextFile(`${dir}/go`, "");
  const waited = await d.cli(["wait", String(after)]);
  assert.equal(waited.code, 1);
  assert.equal(waited.stderr, `job ${after}: aborted: job ${gate} failed (exit 1)\n`);
  const late = await ok(d.cli(["submit", "--after", String(gate), "--wrap", "true"], { cwd: dir }));
  assert.match(
    late.stderr,
    new RegExp(`^warning: job \\d+ is aborted already: job ${gate} failed \\(exit 1\\)$`, "m"),
  );

  await ok(d.cli(["release", String(held)]));
  await readErr(() => false);
  assert.equal((await following.status).code, 0, followed);
  assert.equal(await followOut, "held-out\n");
  assert.match(
    followed,
    new RegExp(
      `^sjq: job ${held} is user-hold \\(held: sjq release ${held}\\); its output follows once it starts\n`,
    ),
  );
  assert.match(followed, new RegExp(`sjq: job ${held} ended: success\n$`));
});

Deno.test("the status table fits COLUMNS by display width, wide characters included", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "1"] });
  const name = "日本語のとても長いジョブの名前です-and-more";
  const deps: string[] = [];
  for (let i = 0; i < 12; i++) {
    deps.push(
      (await ok(d.cli(["submit", "-C", d.home, "--hold", "--wrap", "true"]))).stdout.trim(),
    );
  }
  await ok(
    d.cli(["submit", "-C", d.home, "-n", name, "--after", deps.join(","), "--wrap", "true"]),
  );
  const wide = await ok(d.cli(["status"]));
  assert.ok(wide.stdout.split("\n").some((l) => stringWidth(l) > 80), "too wide without COLUMNS");
  // The CLI loads npm:string-width from the cache this test's own import filled.
  const cache = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;
  const fitted = await ok(d.cli(["status"], { env: { COLUMNS: "80", DENO_DIR: cache } }));
  const lines = fitted.stdout.trimEnd().split("\n");
  for (const line of lines) assert.ok(stringWidth(line) <= 80, `${stringWidth(line)}: ${line}`);
  const last = lines.at(-1)!;
  assert.match(last, /日本語.*…/);
  assert.match(last, /1,2,3.*…/);
  // Columns line up by display width: STATE starts at the same column in every row.
  const header = lines[0]!;
  const at = stringWidth(header.slice(0, header.indexOf("STATE")));
  for (const line of lines.slice(1)) {
    const state = line.search(/holding|user-hold/);
    assert.equal(stringWidth(line.slice(0, state)), at, line);
  }
});

Deno.test("status filters by name glob and user; --watch redraws until stopped", async () => {
  await using d = await TestDaemon.start();
  for (const name of ["align-1", "align-2", "report"]) {
    await ok(d.cli(["submit", "-C", d.home, "-n", name, "--hold", "--wrap", "true"]));
  }
  const names = async (args: string[]) =>
    (await ok(d.cli(["status", ...args]))).stdout.trimEnd().split("\n").slice(1).map((l) =>
      l.trim().split(/ {2,}/)[1]
    );
  assert.deepEqual(await names(["--name", "align*"]), ["align-1", "align-2"]);
  assert.deepEqual(await names(["--name", "?eport"]), ["report"]);
  assert.deepEqual(await names(["--user", String(Deno.uid())]), ["align-1", "align-2", "report"]);
  assert.deepEqual(await names(["--user", "root", "--name", "none*"]), []);
  assert.equal((await d.cli(["status", "--user", "no-such-user"])).code, 2);

  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", new URL("../main.ts", import.meta.url).pathname, "status", "-W"],
    env: d.env,
    clearEnv: true,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let text = "";
  const reader = child.stdout.getReader();
  try {
    while ((text.match(/3 jobs: 3 user-hold/g) ?? []).length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  } finally {
    child.kill("SIGINT");
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    await child.status;
  }
  assert.equal((text.match(/^ID +NAME/gm) ?? []).length >= 2, true, text);
});
