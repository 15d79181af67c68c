/**
 * Many held jobs, submitted fast (pipelined in batches), for tests that need
 * a large queue that does not run.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { RawClient } from "./harness.ts";

/** Submits `n` held jobs, pipelined in batches; returns their ids. */
export async function submitHeld(c: RawClient, n: number, name = "held"): Promise<number[]> {
  const script = "#!/bin/sh\nexit 0\n";
  const one = `SUBMIT\r\nNAME ${name}\r\nHOLD\r\nSRC ${script.length}\r\n${script}`;
  const ids: number[] = [];
  for (let done = 0; done < n;) {
    const batch = Math.min(500, n - done);
    await c.send(one.repeat(batch));
    for (let i = 0; i < batch; i++) {
      const line = await c.line();
      const m = /^OK (\d+)\r\n$/.exec(line ?? "");
      assert.ok(m, `SUBMIT refused: ${JSON.stringify(line)}`);
      ids.push(Number(m[1]));
    }
    done += batch;
  }
  return ids;
}
