/**
 * End-to-end test of notifications: `--notify CMD` runs once per end, after
 * the end is recorded, with the job's id, name, state and exit code in its
 * environment, also for a job aborted by its dependency.
 */

import assert from "node:assert/strict";
import { TestDaemon, waitFor } from "./harness.ts";

Deno.test("--notify runs a command when a job ends, with SJQ_JOB_ID, name, state and exit code", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2"] });
  const dir = `${d.home}/work`;
  await Deno.mkdir(dir);
  const notify =
    `echo "$SJQ_JOB_ID $SJQ_JOB_NAME $SJQ_JOB_STATE $SJQ_JOB_STATE_NAME [$SJQ_JOB_EXIT_CODE]" >> notes`;
  const submit = async (...args: string[]) => {
    const out = await d.cli(["submit", "--notify", notify, ...args], { cwd: dir });
    assert.equal(out.code, 0, out.stderr);
    return Number(out.stdout);
  };
  const good = await submit("-n", "good", "--wrap", "true");
  const bad = await submit("-n", "bad", "--wrap", "exit 3");
  const aborted = await submit("-n", "aborted", "--after", String(bad), "--wrap", "true");
  const expected = [
    `${good} good S success [0]`,
    `${bad} bad F failed [3]`,
    `${aborted} aborted A aborted []`,
  ];
  const lines = await waitFor(async () => {
    const text = await Deno.readTextFile(`${dir}/notes`).catch(() => "");
    const got = text.trim().split("\n").filter((l) => l !== "");
    return got.length >= 3 ? got : undefined;
  }, "three notifications");
  assert.deepEqual(lines.sort(), expected.sort());
  const refused = await d.cli(["submit", "--notify", "", "--wrap", "true"], { cwd: dir });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Bad NOTIFY value/);
});

/** Polls the lines of `file` until there are `n` of them. */
function lines(file: string, n: number): Promise<string[]> {
  return waitFor(async () => {
    const text = await Deno.readTextFile(file).catch(() => "");
    const got = text.split("\n").filter((l) => l !== "");
    return got.length >= n ? got : undefined;
  }, `${n} lines in ${file}`);
}

Deno.test("sjq.notify runs for every job without --notify; an array notifies once, at its end", async () => {
  await using d = await TestDaemon.start({
    rc: "[sjq]\nmaxprocs = 2\nnotify = echo default $SJQ_JOB_ID $SJQ_JOB_STATE >> notes\n",
  });
  const dir = `${d.home}/work`;
  await Deno.mkdir(dir);
  const submit = async (...args: string[]) => {
    const out = await d.cli(["submit", "--wait", ...args], { cwd: dir });
    assert.ok(out.code === 0 || out.code === 3, out.stderr);
    return Number(out.stdout);
  };
  const plain = await submit("--wrap", "true");
  const own = await submit("--notify", "echo own $SJQ_JOB_ID >> notes", "--wrap", "exit 3");
  const array = await submit("--array", "1-3", "--wrap", "true");
  const got = await lines(`${dir}/notes`, 3);
  assert.deepEqual(
    got.sort(),
    [
      `default ${array} S`,
      `default ${plain} S`,
      `own ${own}`,
    ].sort(),
  );
  // The tasks' ends are not notified: one line per job, however long we look.
  const wait = await d.cli(["wait", String(array)]);
  assert.equal(wait.code, 0);
  assert.equal((await lines(`${dir}/notes`, 3)).length, 3);
});

Deno.test("--mail hands a mail to the configured sendmail: id, name, state and exit code in the subject", async () => {
  await using d = await TestDaemon.start({ args: ["--maxprocs", "2"] });
  const dir = `${d.home}/work`;
  await Deno.mkdir(dir);
  // A real program in sendmail's place: it keeps its arguments and the message it is given.
  const sendmail = `${d.home}/sendmail`;
  await Deno.writeTextFile(
    sendmail,
    `#!/bin/sh\n{ echo "args: $*"; cat; } > "${dir}/mail.tmp" && mv "${dir}/mail.tmp" "${dir}/mail"\n`,
  );
  await Deno.chmod(sendmail, 0o755);
  await Deno.writeTextFile(`${d.home}/.sjqrc`, `sjq.sendmail = ${sendmail}\n`);
  assert.equal((await d.cli(["reload"])).code, 0);
  const out = await d.cli(
    ["submit", "--wait", "--mail", "me@example.org", "-n", "align", "--wrap", "exit 3"],
    { cwd: dir },
  );
  assert.equal(out.code, 3, out.stderr);
  const id = Number(out.stdout);
  const mail = await waitFor(() => Deno.readTextFile(`${dir}/mail`).catch(() => ""), "the mail");
  const [args, ...message] = mail.split(/\r?\n/);
  assert.equal(args, "args: -i -- me@example.org");
  assert.ok(message.includes("To: me@example.org"), mail);
  assert.ok(message.includes(`Subject: sjq job ${id} (align) failed: F, exit code 3`), mail);
  assert.ok(message.includes("Exit code: 3"), mail);
  assert.match(
    (await d.cli(["submit", "--mail=-oi", "--wrap", "true"], { cwd: dir })).stderr,
    /Bad MAIL value "-oi"/,
  );
});

Deno.test("without a sendmail, --mail is refused at submit", async () => {
  await using d = await TestDaemon.start({ args: ["--sendmail", "/nonexistent/sendmail"] });
  const out = await d.cli(["submit", "--mail", "me@example.org", "--wrap", "true"]);
  assert.equal(out.code, 1, out.stdout);
  assert.match(out.stderr, /MAIL needs a sendmail program, and there is none \(sjq\.sendmail\)/);
  assert.equal((await d.cli(["status", "--json"])).stdout.trim(), "[]", "nothing was submitted");
});
