/**
 * A client that never reads its replies, against a daemon holding many
 * jobs (issue 8, item 9): other clients' PING latency and the daemon's
 * memory, with no hog (the baseline) and with one.
 *
 *   deno run -A bench/hog.ts [JOBS] [REQUESTS]
 *
 * @module
 */

import { TestDaemon } from "../tests/harness.ts";
import { submitHeld } from "../tests/held_jobs.ts";
import { percentile, pingLatencies, rssMiB, startHog } from "../tests/hostile_clients_test.ts";

const jobs = Number(Deno.args[0] ?? 50_000);
const requests = Number(Deno.args[1] ?? 2_000);

await using d = await TestDaemon.start({ args: ["--autoshutdown", "F"] });
using c = await d.connect();
let t = performance.now();
await submitHeld(c, jobs);
console.log(`${jobs} held jobs submitted in ${((performance.now() - t) / 1000).toFixed(1)} s`);

const report = async (what: string, ms: number[]) => {
  console.log(
    `${what}: PING p50 ${percentile(ms, 50).toFixed(2)} ms, p99 ${
      percentile(ms, 99).toFixed(2)
    } ms, max ${Math.max(...ms).toFixed(2)} ms (${ms.length} pings); daemon RSS ${
      (await rssMiB(d.pid)).toFixed(0)
    } MiB`,
  );
};

/**
 * Sends a listing request on a connection of its own and reads the reply
 * into one buffer (RawClient's reads copy all they hold per chunk: slow for
 * megabytes, and that would be measured instead of the daemon).
 */
async function listing(verb: string): Promise<number> {
  using conn = await Deno.connect({ transport: "unix", path: d.socket });
  const request = new TextEncoder().encode(`${verb}\r\n`);
  for (let off = 0; off < request.length;) off += await conn.write(request.subarray(off));
  const buf = new Uint8Array(1 << 20);
  let have = 0;
  let head = -1;
  while (head < 0) {
    const n = await conn.read(buf.subarray(have));
    if (n === null) throw new Error("closed");
    have += n;
    head = buf.subarray(0, have).indexOf(10);
  }
  const size = Number(new TextDecoder().decode(buf.subarray(3, head)).trim());
  let got = have - head - 1;
  while (got < size) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("closed");
    got += n;
  }
  return size;
}

for (const verb of ["STATUS", "INFO"]) {
  t = performance.now();
  const size = await listing(verb);
  console.log(
    `one ${verb} of ${jobs} jobs: ${(size / 2 ** 20).toFixed(1)} MiB in ${
      (performance.now() - t).toFixed(0)
    } ms`,
  );
}

await report("no hog (baseline)", await pingLatencies(c, 1000));

/** PINGs while a listing is built for another (reading) client. */
async function duringListing(verb: string): Promise<number[]> {
  let done = false;
  const reading = listing(verb).then(() => done = true);
  const ms: number[] = [];
  while (!done) ms.push(...await pingLatencies(c, 1));
  await reading;
  return ms;
}
await report("while another client reads a STATUS", await duringListing("STATUS"));
await report("while another client reads an INFO", await duringListing("INFO"));

const hog = await startHog(d.socket, requests);
try {
  await report(`with a hog (${requests} listings unread)`, await pingLatencies(c, 1000));
  await new Promise((r) => setTimeout(r, 5000));
  await report("with the hog, 5 s later", await pingLatencies(c, 1000));
} finally {
  hog[Symbol.dispose]();
}
await report("after the hog left", await pingLatencies(c, 1000));
