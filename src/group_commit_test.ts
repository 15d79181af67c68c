import assert from "node:assert/strict";
import { GroupCommit, type TickHooks } from "./group_commit.ts";

/** Hooks of a group commit whose commits fail while `failing` is set. */
function hooks(state: { failing: boolean; ticks: number }): TickHooks<string> {
  return {
    begin: () => {},
    beforeCommit: () => {},
    commit: () => {
      if (state.failing) throw new Error("disk full");
    },
    durable: () => Promise.resolve(),
    onFatal: () => {},
    rollback: (failure) => `rolled back: ${failure.message}`,
    afterTick: () => state.ticks++,
    onAfterCommitError: () => {},
  };
}

Deno.test("group commit: a read that throws in a rolled-back tick leaves the others answered", async () => {
  const state = { failing: true, ticks: 0 };
  const ticks = new GroupCommit(hooks(state));
  const write = ticks.write(() => "written");
  const bad = ticks.read(() => {
    throw new Error("no file descriptors left");
  });
  const good = ticks.read(() => "read");
  const later = ticks.write(() => "written too");
  await assert.rejects(bad, /no file descriptors left/);
  assert.equal(await write, "rolled back: disk full");
  assert.equal(await good, "read");
  assert.equal(await later, "rolled back: disk full");
  assert.equal(state.ticks, 1, "the tick is over");
});

Deno.test("group commit: a read that throws outside a tick rejects, it does not throw", async () => {
  const ticks = new GroupCommit(hooks({ failing: false, ticks: 0 }));
  let promise: Promise<string> | undefined;
  assert.doesNotThrow(() =>
    promise = ticks.read(() => {
      throw new Error("no file descriptors left");
    })
  );
  await assert.rejects(promise!, /no file descriptors left/);
});
