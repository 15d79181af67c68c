/**
 * End-to-end test of `sjq status --watch` on a real terminal (a pty made by
 * script(1)): each page is drawn over the last in place, from the top left,
 * every line cleared to its end and the rest of the screen below, cut to the
 * terminal's height; only the first page clears the screen.
 */

import assert from "node:assert/strict";
import { TestDaemon } from "./harness.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

Deno.test("status --watch on a terminal redraws in place, cut to the terminal's height", async () => {
  await using d = await TestDaemon.start();
  for (let i = 1; i <= 8; i++) {
    const r = await d.cli(["submit", "-C", d.home, "-n", `job${i}`, "--hold", "--wrap", "true"]);
    assert.equal(r.code, 0, r.stderr);
  }
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const command = `stty cols 100 rows 6; exec ${quote(Deno.execPath())} run -A --quiet ${
    quote(MAIN)
  } status --watch`;
  const child = new Deno.Command("script", {
    args: ["-qfec", command, "/dev/null"],
    env: d.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const reader = child.stdout.getReader();
  const pages = () => text.split("\x1b[H").slice(1);
  try {
    // Two whole pages (a third has begun).
    while (pages().length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  } finally {
    reader.releaseLock();
    child.kill("SIGTERM");
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
    await child.status;
  }
  const [first, second, third] = pages();
  assert.ok(third !== undefined, JSON.stringify(text));
  assert.ok(first!.endsWith("\x1b[K\x1b[J"), JSON.stringify(first));
  assert.ok(first!.startsWith("\x1b[2J"), JSON.stringify(first));
  const page = second!;
  assert.ok(!page.includes("\x1b[2J"), `a later page clears the screen: ${JSON.stringify(page)}`);
  assert.ok(page.endsWith("\x1b[K\x1b[J"), JSON.stringify(page));
  const lines = page.slice(0, -"\x1b[K\x1b[J".length).split("\x1b[K\r\n");
  // 6 rows: the summary, the header, 3 jobs and what is left out, never a scroll.
  assert.equal(lines.length, 6, JSON.stringify(page));
  assert.match(lines[0]!, /8 jobs: 8 user-hold$/);
  assert.match(lines[1]!, /^ *ID +NAME +STATE/, JSON.stringify(page));
  assert.match(lines[2]!, /job1/);
  assert.equal(lines[5], "… 5 more lines");
});
