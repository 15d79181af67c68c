/**
 * The server's timer for a request left half-sent (30 s) drops only such a
 * connection: one that is idle between requests stays open however long.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TestDaemon } from "./harness.ts";

Deno.test("an idle connection outlives the mid-request timeout; a half-sent request does not", async () => {
  await using d = await TestDaemon.start();
  using idle = await d.connect();
  using half = await d.connect();
  // The idle client's request came first, so a timer wrongly set for it would fire first.
  assert.match(await idle.request("PING\r\n"), /^OK /);
  await half.send("SUBMIT\r\nPROCS 1\r\n");
  // The daemon's own clock: its ERROR comes about 30 s after the half request.
  assert.equal(await half.line(), "ERROR Timed out in the middle of a request\r\n");
  assert.equal(await half.line(), null, "and the connection is closed");
  assert.match(await idle.request("PING\r\n"), /^OK /, "the idle connection still serves");
});
