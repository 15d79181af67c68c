import assert from "node:assert/strict";
import { clearLongTimeout, setLongTimeout, timerInterval } from "./long_timer.ts";

Deno.test("long timer: a 30-day delay does not fire at once", async () => {
  let fired = false;
  const t = setLongTimeout(() => fired = true, 30 * 86_400_000);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(fired, false);
  clearLongTimeout(t);
});

Deno.test("long timer: a short delay fires once", async () => {
  let fired = 0;
  await new Promise<void>((resolve) => setLongTimeout(() => (fired++, resolve()), 5));
  assert.equal(fired, 1);
});

Deno.test("long timer: intervals are clamped to what setInterval honours", () => {
  assert.equal(timerInterval(30 * 86_400_000), 2 ** 31 - 1);
  assert.equal(timerInterval(0), 1);
  assert.equal(timerInterval(500), 500);
});
