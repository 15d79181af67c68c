/**
 * A raw protocol client for tests that must connect as another user: sends
 * its stdin to the socket named by its argument, half-closes, and prints
 * everything the daemon answers until it closes. When connecting fails it
 * prints `connect failed: <error name>` and exits 3.
 *
 * @module
 */

const [path] = Deno.args;
let conn: Deno.UnixConn;
try {
  conn = await Deno.connect({ transport: "unix", path: path! });
} catch (e) {
  console.log(`connect failed: ${(e as Error).name}`);
  Deno.exit(3);
}
const input = new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
for (let off = 0; off < input.length;) off += await conn.write(input.subarray(off));
await conn.closeWrite();
const buf = new Uint8Array(65536);
for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
  // Deno.stdout.write may take only part of what it is given.
  for (let off = 0; off < n;) off += await Deno.stdout.write(buf.subarray(off, n));
}
conn.close();
