/**
 * Base64 of UTF-8 text, as SUBMIT's ENV values and ARG lines carry it. A
 * module of its own so that a client need not load the protocol parser.
 *
 * @module
 */

/** Base64 of a string's UTF-8 bytes, as ENV values are sent. */
export function encodeBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
