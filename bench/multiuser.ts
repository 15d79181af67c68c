/**
 * The cost of running jobs as their submitter: a root daemon with
 * `--multiuser T` runs N trivial jobs as root (the direct path), then N as
 * the user sjqa (setpriv and the user stage, src/as_user.ts), submitted in
 * one pipelined connection each, and reports both throughputs and their
 * ratio from the same run. Needs root and the user sjqa (tests/multiuser_test.ts
 * makes it).
 *
 * Usage: deno run -A bench/multiuser.ts [--jobs N]
 *
 * @module
 */

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const jobsFlag = Deno.args.indexOf("--jobs");
const N = jobsFlag >= 0 ? Number(Deno.args[jobsFlag + 1]) : 300;
const encoder = new TextEncoder();

if (Deno.uid() !== 0) throw new Error("bench/multiuser.ts needs root");
const id = (flag: string) =>
  Number(
    new TextDecoder().decode(new Deno.Command("id", { args: [flag, "sjqa"] }).outputSync().stdout),
  );
const [uid, gid] = [id("-u"), id("-g")];
const dir = Deno.makeTempDirSync({ prefix: "sjq-bench-mu-" });
Deno.chmodSync(dir, 0o755);
Deno.mkdirSync(`${dir}/out`, { mode: 0o777 });
Deno.chmodSync(`${dir}/out`, 0o1777);
const daemon = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "--quiet", MAIN, "daemon", "--multiuser", "T", "--userdir", `${dir}/u`],
  env: { HOME: dir, SJQ_SOCKET: `${dir}/root.sock`, SJQ_AUTOSHUTDOWN: "F", PATH: "/usr/bin:/bin" },
  clearEnv: true,
  stdout: "null",
  stderr: "null",
}).spawn();

async function request(text: string | Uint8Array): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path: `${dir}/root.sock` });
  await conn.write(typeof text === "string" ? encoder.encode(text) : text);
  await conn.closeWrite();
  const reply = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
  return reply;
}

async function untilDone(): Promise<void> {
  for (;;) {
    const ping = await request("PING\r\n");
    if (!/[QHR]:/.test(ping)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Jobs per second for N jobs submitted with these extra option lines. */
async function batch(lines: string): Promise<number> {
  const script = "#!/bin/sh\ntrue\n";
  const one = `SUBMIT\r\n${lines}CWD ${dir}/out\r\nSTDOUT /dev/null\r\nSTDERR /dev/null\r\n` +
    `SRC ${script.length}\r\n${script}`;
  const start = performance.now();
  await request(one.repeat(N));
  await untilDone();
  return N / ((performance.now() - start) / 1000);
}

try {
  for (let i = 0;; i++) {
    try {
      await request("PING\r\n");
      break;
    } catch {
      if (i > 500) throw new Error("the daemon did not start");
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const asRoot = await batch("");
  const asUser = await batch(`UID ${uid}\r\nGID ${gid}\r\n`);
  console.log(`| jobs | as root (jobs/s) | as sjqa (jobs/s) | ratio |`);
  console.log(`| ---: | ---: | ---: | ---: |`);
  console.log(
    `| ${N} | ${asRoot.toFixed(0)} | ${asUser.toFixed(0)} | ${(asUser / asRoot).toFixed(2)} |`,
  );
} finally {
  daemon.kill("SIGKILL");
  await daemon.status;
  Deno.removeSync(dir, { recursive: true });
}
