import assert from "node:assert/strict";
import { SUPERVISOR_SH } from "./supervisor.ts";

/** A pid no process has: one of a process that has ended and been reaped. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test("supervisor: exits once a new daemon has settled its job and removed the done file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sjq-supervisor-" });
  try {
    // A `sync` that fails because the done file went away under it: what a new daemon does
    // when it settles the job from that file and removes it while no daemon started the job.
    await Deno.mkdir(`${dir}/bin`);
    await Deno.writeTextFile(`${dir}/bin/sync`, '#!/bin/sh\nrm -f "$1"\nexit 1\n', { mode: 0o755 });
    await Deno.writeTextFile(`${dir}/script`, "#!/bin/sh\nexit 3\n", { mode: 0o755 });
    await Deno.writeTextFile(`${dir}/supervisor.sh`, SUPERVISOR_SH);
    const child = new Deno.Command("/bin/sh", {
      args: [
        `${dir}/supervisor.sh`,
        `${dir}/script`,
        `${dir}/done`,
        dir,
        `${dir}/out`,
        `${dir}/out`,
        String(await deadPid()),
        "-",
      ],
      env: { PATH: `${dir}/bin:/usr/bin:/bin` },
      clearEnv: true,
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("go\n"));
    await writer.close();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"looping">((resolve) => {
      timer = setTimeout(() => resolve("looping"), 15_000);
    });
    const ended = await Promise.race([child.status.then((s) => s.code), deadline]);
    clearTimeout(timer);
    if (ended === "looping") child.kill("SIGKILL"), await child.status;
    assert.equal(ended, 0, "the supervisor exits instead of retrying sync every second");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
