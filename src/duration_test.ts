import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "./duration.ts";

Deno.test("parseDuration() reads plain seconds", () => {
  assert.equal(parseDuration("90"), 90);
  assert.equal(parseDuration("0"), 0);
  assert.equal(parseDuration("0.25"), 0.25);
  assert.equal(parseDuration(" 90 "), 90);
});

Deno.test("parseDuration() reads every unit, case-insensitive", () => {
  assert.equal(parseDuration("90s"), 90);
  assert.equal(parseDuration("15m"), 900);
  assert.equal(parseDuration("2h"), 7200);
  assert.equal(parseDuration("30d"), 30 * 86400);
  assert.equal(parseDuration("1w"), 7 * 86400);
  assert.equal(parseDuration("2H"), 7200);
  assert.equal(parseDuration("1.5h"), 5400);
  assert.equal(parseDuration(".5m"), 30);
});

Deno.test("parseDuration() adds up compound durations", () => {
  assert.equal(parseDuration("1h30m"), 5400);
  assert.equal(parseDuration("1d2h3m4s"), 86400 + 7200 + 180 + 4);
  assert.equal(parseDuration("1h 30m"), 5400);
  assert.equal(parseDuration("1w1d"), 8 * 86400);
});

Deno.test("parseDuration() rejects text that is not a duration", () => {
  for (const text of ["", " ", "h", "abc", "NaN", "1h-5m", "--5", "1:30"]) {
    assert.throws(() => parseDuration(text), {
      name: "SyntaxError",
      message:
        `Cannot parse duration "${text}": expected seconds or numbers with units s, m, h, d ` +
        "or w, such as 90, 15m or 1h30m",
    });
  }
});

Deno.test("parseDuration() rejects unknown and missing units", () => {
  assert.throws(() => parseDuration("5x"), {
    name: "SyntaxError",
    message: 'Cannot parse duration "5x": unknown unit "x"',
  });
  assert.throws(() => parseDuration("5min"), { message: /unknown unit "min"/ });
  assert.throws(() => parseDuration("1e3"), { message: /unknown unit "e"/ });
  assert.throws(() => parseDuration("5constructor"), { message: /unknown unit "constructor"/ });
  assert.throws(() => parseDuration("1h30"), {
    name: "SyntaxError",
    message: 'Cannot parse duration "1h30": missing unit after "30"',
  });
});

Deno.test("parseDuration() rejects negative durations", () => {
  assert.throws(() => parseDuration("-5m"), {
    name: "RangeError",
    message: 'Cannot parse duration "-5m": must not be negative',
  });
});

Deno.test("formatDuration() shows tenths below ten seconds", () => {
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(0.04), "0s");
  assert.equal(formatDuration(0.4), "0.4s");
  assert.equal(formatDuration(3), "3s");
  assert.equal(formatDuration(9.94), "9.9s");
  assert.equal(formatDuration(9.96), "10s");
});

Deno.test("formatDuration() shows whole seconds below a minute", () => {
  assert.equal(formatDuration(12), "12s");
  assert.equal(formatDuration(12.4), "12s");
  assert.equal(formatDuration(59.4), "59s");
  assert.equal(formatDuration(59.6), "1m00s");
});

Deno.test("formatDuration() shows the two largest units", () => {
  assert.equal(formatDuration(185), "3m05s");
  assert.equal(formatDuration(3599), "59m59s");
  assert.equal(formatDuration(3600), "1h00m");
  assert.equal(formatDuration(2 * 3600 + 4 * 60 + 59), "2h04m");
  assert.equal(formatDuration(86399), "23h59m");
  assert.equal(formatDuration(3 * 86400 + 2 * 3600 + 59 * 60), "3d02h");
  assert.equal(formatDuration(400 * 86400), "400d00h");
});

Deno.test("formatDuration() rejects negative and non-finite numbers", () => {
  for (const seconds of [-1, NaN, Infinity]) {
    assert.throws(() => formatDuration(seconds), {
      name: "RangeError",
      message: `Cannot format duration "${seconds}": expected a finite number ≥ 0`,
    });
  }
});
