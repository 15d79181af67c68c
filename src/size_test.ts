import assert from "node:assert/strict";
import { formatSize, parseSize } from "./size.ts";

Deno.test("parseSize() reads plain byte counts", () => {
  assert.equal(parseSize("512"), 512);
  assert.equal(parseSize("0"), 0);
  assert.equal(parseSize("512b"), 512);
  assert.equal(parseSize("512B"), 512);
});

Deno.test("parseSize() reads units as powers of 1024", () => {
  assert.equal(parseSize("100K"), 100 * 1024);
  assert.equal(parseSize("100M"), 100 * 1024 ** 2);
  assert.equal(parseSize("2G"), 2 * 1024 ** 3);
  assert.equal(parseSize("1T"), 1024 ** 4);
});

Deno.test("parseSize() ignores case, a trailing B and whitespace", () => {
  for (const text of ["2G", "2g", "2GB", "2gb", "2Gb", " 2G\t", "2 G", "2 GB"]) {
    assert.equal(parseSize(text), 2 * 1024 ** 3, text);
  }
});

Deno.test("parseSize() reads fractions and rounds down to whole bytes", () => {
  assert.equal(parseSize("1.5G"), 1.5 * 1024 ** 3);
  assert.equal(parseSize(".5K"), 512);
  assert.equal(parseSize("1.K"), 1024);
  assert.equal(parseSize("0.3"), 0);
  assert.equal(parseSize("1.001K"), 1025);
});

Deno.test("parseSize() rejects text that is not a size", () => {
  for (const text of ["", "  ", "G", "NaN", "abc", "1.2.3", "1e3", "0x10", "+1", "1 2"]) {
    assert.throws(() => parseSize(text), {
      name: "SyntaxError",
      message:
        `Cannot parse memory size "${text}": expected a number with an optional unit K, M, G or T`,
    });
  }
});

Deno.test("parseSize() rejects unknown units", () => {
  assert.throws(() => parseSize("12Q"), {
    name: "SyntaxError",
    message: 'Cannot parse memory size "12Q": unknown unit "Q"',
  });
  assert.throws(() => parseSize("1KiB"), { message: /unknown unit "Ki"/ });
  assert.throws(() => parseSize("1bb"), { message: /unknown unit "b"/ });
  assert.throws(() => parseSize("1constructor"), { message: /unknown unit "constructor"/ });
});

Deno.test("parseSize() rejects negative and huge sizes", () => {
  assert.throws(() => parseSize("-1G"), {
    name: "RangeError",
    message: 'Cannot parse memory size "-1G": must not be negative',
  });
  assert.throws(() => parseSize("99999999T"), {
    name: "RangeError",
    message: 'Cannot parse memory size "99999999T": too large',
  });
});

Deno.test("formatSize() picks the largest unit with a value of at least 1", () => {
  assert.equal(formatSize(0), "0");
  assert.equal(formatSize(512), "512");
  assert.equal(formatSize(1023), "1023");
  assert.equal(formatSize(1024), "1K");
  assert.equal(formatSize(100 * 1024), "100K");
  assert.equal(formatSize(512 * 1024 ** 2), "512M");
  assert.equal(formatSize(2 * 1024 ** 3), "2G");
  assert.equal(formatSize(1024 ** 4), "1T");
  assert.equal(formatSize(2048 * 1024 ** 4), "2048T");
});

Deno.test("formatSize() keeps at most one decimal", () => {
  assert.equal(formatSize(1.5 * 1024 ** 3), "1.5G");
  assert.equal(formatSize(1.25 * 1024 ** 3), "1.3G");
  assert.equal(formatSize(1.04 * 1024 ** 3), "1G");
  assert.equal(formatSize(1536), "1.5K");
  assert.equal(formatSize(1024 ** 2 - 1), "1M");
});

Deno.test("formatSize() output reads back with parseSize()", () => {
  for (const bytes of [0, 1, 512, 1024, 1536, 100 * 1024, 3 * 1024 ** 3, 1.5 * 1024 ** 4]) {
    assert.equal(parseSize(formatSize(bytes)), bytes);
  }
});

Deno.test("formatSize() rejects negative and non-finite numbers", () => {
  for (const bytes of [-1, NaN, Infinity]) {
    assert.throws(() => formatSize(bytes), {
      name: "RangeError",
      message: `Cannot format memory size "${bytes}": expected a finite number ≥ 0`,
    });
  }
});
