/**
 * End-to-end tests of the live configuration: `sjq config` shows the running
 * daemon's settings and marks what this shell's files say otherwise; `sjq
 * reload` and SIGHUP apply a changed rc file at once (a raised maxprocs
 * starts a waiting job); an auto-started daemon takes the settings of the
 * last daemon started by hand.
 */

import assert from "node:assert/strict";
import { Bench } from "./gated_jobs.ts";
import { killJobsUnder, sjq, TestDaemon, waitFor } from "./harness.ts";

Deno.test("sjq reload and SIGHUP apply a changed rc file live; sjq config shows the daemon's view", async () => {
  await using d = await TestDaemon.start({ rc: "sjq.maxprocs = 1\nsjq.defaults.mem = 1G\n" });
  await using b = await Bench.open(d);
  const first = await b.gate();
  const second = await b.gate();
  await b.client.waitState(first, "R");
  assert.equal(await b.client.state(second), "Q");

  await Deno.writeTextFile(`${d.home}/.sjqrc`, "sjq.maxprocs = 2\nsjq.defaults.mem = 1G\n");
  const before = await d.cli(["config"]);
  assert.match(before.stdout, /^# the settings of the running daemon \(pid \d+\)$/m);
  assert.match(
    before.stdout,
    /^sjq\.maxprocs\s+= 1\s+# .*\.sjqrc:1; differs: 2 here \(.*\.sjqrc:1\)$/m,
  );
  assert.equal((await d.cli(["config", "sjq.maxprocs"])).stdout, "1\n");
  assert.equal((await d.cli(["config", "--local", "sjq.maxprocs"])).stdout, "2\n");

  const reload = await d.cli(["reload"]);
  assert.equal(reload.code, 0, reload.stderr);
  assert.match(reload.stderr, /sjq\.maxprocs = 2 \(was 1\)/);
  await b.client.waitState(second, "R");
  const after = await d.cli(["config"]);
  assert.match(after.stdout, /^sjq\.maxprocs\s+= 2\s+# \S+\.sjqrc:1$/m);

  // A bad file changes nothing; the daemon says why.
  await Deno.writeTextFile(`${d.home}/.sjqrc`, "sjq.maxprocs = lots\n");
  const bad = await d.cli(["reload"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: Invalid value "lots" for sjq.maxprocs in \S+\.sjqrc:1/);
  using raw = await d.connect();
  assert.match(await raw.request("RELOAD\r\n"), /^ERROR Invalid value "lots" for sjq.maxprocs/);
  await Deno.writeTextFile(`${d.home}/.sjqrc`, "sjq.maxprocs = 2\n");
  assert.equal((await d.cli(["config", "sjq.maxprocs"])).stdout, "2\n");

  // SIGHUP does the same as sjq reload; a path change needs a restart.
  await Deno.writeTextFile(`${d.home}/.sjqrc`, "sjq.maxprocs = 3\nsjq.keepdone = 2d\n");
  d.kill("SIGHUP");
  await waitFor(async () => (await d.cli(["config", "sjq.maxprocs"])).stdout === "3\n", "SIGHUP");
  assert.equal((await d.cli(["config", "sjq.keepdone"])).stdout, "2d00h\n");
  assert.equal((await d.cli(["config", "sjq.defaults.mem"])).stdout, "2G\n");
  await Deno.writeTextFile(`${d.home}/.sjqrc`, `sjq.maxprocs = 3\nsjq.db = ${d.home}/other.db\n`);
  const restart = await d.cli(["reload"]);
  assert.match(restart.stderr, /sjq\.db = \S+other\.db needs a restart: the daemon keeps /);
  await b.open(first);
  await b.open(second);
  await b.client.waitState(second, "S");
});

Deno.test("an auto-started daemon takes the settings of the last daemon started by hand", async () => {
  const home = await Deno.makeTempDir({ prefix: "sjq-test-" });
  try {
    {
      await using d = await TestDaemon.start({
        home,
        args: ["--maxprocs", "3", "--maxmem", "5G", "--autoshutdown", "F"],
      });
      const shut = await d.cli(["shutdown"]);
      assert.equal(shut.code, 0, shut.stderr);
      await d.exited();
    }
    const env = {
      HOME: home,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      NO_COLOR: "1",
      SJQ_SOCKET: `${home}/sjq.sock`,
    };
    const sub = await sjq(["submit", "-C", home, "--wrap", "true"], { env });
    assert.equal(sub.code, 0, sub.stderr);
    const config = await sjq(["config"], { env });
    assert.match(
      config.stdout,
      /^sjq\.maxprocs\s+= 3\s+# saved from the daemon started by hand at \S+; differs: \d+ here \(default\)$/m,
    );
    assert.match(config.stdout, /^sjq\.maxmem\s+= 5G\s+# saved from/m);
    assert.match(config.stdout, /^sjq\.autoshutdown\s+= false\s+# saved from/m);
    assert.equal((await sjq(["shutdown"], { env })).code, 0);
  } finally {
    await killJobsUnder(home);
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});
