import assert from "node:assert/strict";
import { defaultMaxConnections, openFileLimit } from "./server.ts";

Deno.test("defaultMaxConnections() is half the open-file limit, from 16 to 4096", () => {
  assert.equal(defaultMaxConnections(1024), 512);
  assert.equal(defaultMaxConnections(20), 16);
  assert.equal(defaultMaxConnections(1_048_576), 4096);
  assert.equal(defaultMaxConnections(null), 512);
});

Deno.test("openFileLimit() reads this process's soft limit", () => {
  const limit = openFileLimit();
  assert.ok(limit === null || limit >= 16, String(limit));
});
