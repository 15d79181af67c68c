/**
 * Storage failures: a full disk under the database makes changing requests
 * fail with a clear ERROR while the daemon stays up, answers, and loses
 * nothing; once space is back everything goes on. A database directory that
 * cannot be written keeps the daemon from starting, with a clear message.
 *
 * Needs root (it mounts small tmpfs file systems); skipped where mounting is
 * not permitted.
 *
 * @module
 */

import assert from "node:assert";
import { TestDaemon, waitFor } from "./harness.ts";
import { alive, infoOf, jobId } from "./inspect.ts";

const ARGS = ["--maxprocs", "2", "--autoshutdown", "F"];
/** Generous: the supervisor retries a full disk once a second, and the machine is shared. */
const ENDS_MS = 30_000;

async function run(cmd: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** A tmpfs of `size` mounted on a new directory; unmounted and removed on dispose. */
async function tmpfs(size: string, readOnly = false): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "sjq-tmpfs-" });
  const options = `${readOnly ? "ro," : ""}size=${size}`;
  const mounted = await run("mount", ["-t", "tmpfs", "-o", options, "tmpfs", path]);
  if (mounted.code !== 0) {
    await Deno.remove(path);
    throw new Error(`Cannot mount a tmpfs on ${path}: ${mounted.stderr.trim()}`);
  }
  return {
    path,
    async [Symbol.asyncDispose]() {
      // Processes killed a moment ago may still hold files: detach lazily then.
      if ((await run("umount", [path])).code !== 0) await run("umount", ["-l", path]);
      await Deno.remove(path);
    },
  };
}

/** Whether mounting is not permitted here (not root, or no CAP_SYS_ADMIN). */
const mountDenied = await (async () => {
  try {
    await using _ = await tmpfs("64k");
    return false;
  } catch (e) {
    return /permission denied|not permitted|must be superuser/i.test((e as Error).message);
  }
})();

/** Writes `path` until its file system is full (ENOSPC), then frees `spare` bytes of it. */
async function fill(path: string, spare = 0): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true });
  const page = new Uint8Array(4096).fill(120);
  try {
    for (;;) await file.write(page);
  } catch (e) {
    if ((e as { code?: string }).code !== "ENOSPC") throw e;
  }
  if (spare > 0) await file.truncate((await file.stat()).size - spare);
}

Deno.test({
  name: "storage: a full disk refuses changes clearly, loses nothing, and recovers",
  ignore: mountDenied,
}, async () => {
  await using fs = await tmpfs("2m");
  await using d = await TestDaemon.start({ args: [...ARGS, "--db", `${fs.path}/sjq.db`] });
  const home = d.home;
  using c = await d.connect();
  for (let i = 0; i < 3; i++) {
    assert.equal(await c.waitState(jobId(await c.submit("true\n")), "SFAKE"), "S");
  }
  const held = jobId(await c.submit("true\n", { HOLD: "1" }));
  const long = jobId(
    await c.submit(
      `echo $$ > ${home}/long.pid\nwhile [ ! -e ${home}/go ]; do sleep 0.05; done\nexit 4\n`,
    ),
  );
  const pid = await waitFor(
    () => Deno.readTextFile(`${home}/long.pid`).then(Number),
    "the job to start",
  );
  const before = await c.status();
  await fill(`${fs.path}/filler`);

  // A fresh database's WAL only grows: the first change already needs space that is not there.
  assert.match(await c.submit("true\n"), /^ERROR .*(disk is full|No space)/);
  assert.match(await c.request(`RELEASE ${held}\r\n`), /^ERROR .*(disk is full|No space)/);
  assert.match(await c.request("PING\r\n"), /^OK /, "the stream stays usable");
  using other = await d.connect();
  assert.match(await other.submit("true\n"), /^ERROR /);
  assert.deepEqual(await other.status(), before, "acknowledged jobs are all still there");

  await Deno.writeTextFile(`${home}/go`, "");
  await waitFor(() => !alive(pid), "the job to end");
  assert.equal(await c.state(long), "R", "its end is not known until its supervisor can record it");
  assert.equal(d.exitedCode, undefined, "the daemon stays up");

  await Deno.remove(`${fs.path}/filler`);
  assert.equal(await c.waitState(long, "SFAKE", ENDS_MS), "F");
  assert.equal((await infoOf(c, long)).exit_code, 4);
  const next = jobId(await c.submit("true\n"));
  assert.ok(next > long, `new id ${next} after ${long}`);
  assert.equal(await c.request(`RELEASE ${held}\r\n`), "OK\r\n");
  assert.equal(await c.waitState(next, "SFAKE", ENDS_MS), "S");
  assert.equal(await c.waitState(held, "SFAKE", ENDS_MS), "S");
});

Deno.test({
  name: "storage: a job that cannot be spawned for a full disk ends E once its end can be stored",
  ignore: mountDenied,
}, async () => {
  await using fs = await tmpfs("2m");
  await using d = await TestDaemon.start({ args: [...ARGS, "--db", `${fs.path}/sjq.db`] });
  using c = await d.connect();
  assert.equal(await c.waitState(jobId(await c.submit("true\n")), "SFAKE"), "S");
  // Room for the script in the database but not for its copy in the spool, nor then for
  // the job's end: the spawn fails and so does the commit that records it.
  const size = 256 * 1024;
  await fill(`${fs.path}/filler`, size * 1.5);
  const id = jobId(await c.submit(`#${"x".repeat(size)}\ntrue\n`));
  await waitFor(() => d.stderr.includes("Storage failure"), "the job's end to fail to commit");

  await Deno.remove(`${fs.path}/filler`);
  assert.equal(await c.waitState(id, "SFAKE", ENDS_MS), "E", "not left running for ever");
  assert.match((await infoOf(c, id)).reason ?? "", /cannot start: No space left/);
});

Deno.test({
  name: "storage: a daemon whose database directory cannot be written refuses to start",
  ignore: mountDenied,
}, async () => {
  await using fs = await tmpfs("1m", true);
  await using d = await TestDaemon.start({
    args: [...ARGS, "--db", `${fs.path}/sjq.db`],
    noWait: true,
  });
  assert.equal((await d.exited()).code, 1);
  assert.match(d.stderr, /Read-only file system/);
  assert.ok(d.stderr.includes(fs.path), `the message names the place: ${d.stderr}`);
});
