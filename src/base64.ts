/**
 * Base64 of UTF-8 text, as SUBMIT's ENV values and ARG lines carry it. A
 * module of its own so that a client need not load the protocol parser.
 *
 * Encoded here rather than by `btoa`: Deno loads `btoa`'s script the first
 * time a program touches it, about 1 ms of every `sjq submit`.
 *
 * @module
 */

const ALPHABET = new TextEncoder().encode(
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Base64 (RFC 4648, padded) of a string's UTF-8 bytes, as ENV values are sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeBase64 } from "./base64.ts";
 *
 * assert.equal(encodeBase64("näme"), "bsOkbWU=");
 * assert.equal(encodeBase64("ab"), "YWI=");
 * ```
 */
export function encodeBase64(text: string): string {
  const bytes = encoder.encode(text);
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = ALPHABET[n >> 18]!;
    out[o++] = ALPHABET[(n >> 12) & 63]!;
    out[o++] = ALPHABET[(n >> 6) & 63]!;
    out[o++] = ALPHABET[n & 63]!;
  }
  if (i < bytes.length) {
    const two = i + 1 < bytes.length;
    const n = (bytes[i]! << 16) | (two ? bytes[i + 1]! << 8 : 0);
    out[o++] = ALPHABET[n >> 18]!;
    out[o++] = ALPHABET[(n >> 12) & 63]!;
    out[o++] = two ? ALPHABET[(n >> 6) & 63]! : 61; // "="
    out[o++] = 61;
  }
  return decoder.decode(out);
}
