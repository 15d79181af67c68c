import assert from "node:assert/strict";
import { encodeBase64 } from "./base64.ts";

Deno.test("encodeBase64 gives btoa's encoding of the UTF-8 bytes, for every length and byte", () => {
  const latin1 = (s: string) => String.fromCharCode(...new TextEncoder().encode(s));
  for (let n = 0; n < 300; n++) {
    const text = Array.from({ length: n }, (_, i) => String.fromCodePoint((i * 7919 + n) % 0x800))
      .join("");
    assert.equal(encodeBase64(text), btoa(latin1(text)), `length ${n}`);
  }
});
