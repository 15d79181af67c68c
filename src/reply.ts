/**
 * A reply of the daemon to one request, as the socket server writes it.
 *
 * @module
 */

import type { JobRecord } from "./job.ts";

/** A reply: one line, an optional counted payload (whole or in chunks), and whether to close the connection after it. */
export interface Reply {
  line: string;
  payload?: Uint8Array | readonly Uint8Array[];
  close?: boolean;
}

/** `OK`, or `OK text`. */
export function ok(text = ""): Reply {
  return { line: text === "" ? "OK" : `OK ${text}` };
}

/** `ERROR text`. */
export function error(text: string): Reply {
  return { line: `ERROR ${text}` };
}

/** The answer to a WAIT on an ended job: `OK state exit-code` (`-` for none). */
export function waitReply(job: JobRecord): Reply {
  return ok(`${job.state} ${job.exitCode ?? "-"}`);
}
