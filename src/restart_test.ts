import assert from "node:assert/strict";
import { abortCause, type EndedJob, planRestart } from "./restart.ts";

const afterok = (id: number) => ({ id, kind: "afterok" as const });

Deno.test("planRestart revives what the restarted jobs aborted, transitively, and nothing else", () => {
  const later: EndedJob[] = [
    { id: 2, state: "A", deps: [afterok(1)], reason: "dependency 1 ended in F" },
    { id: 3, state: "A", deps: [afterok(2)], reason: "dependency 2 ended in A" },
    { id: 4, state: "A", deps: [afterok(9)], reason: "dependency 9 ended in F" },
    { id: 5, state: "F", deps: [afterok(1)], reason: null },
    { id: 6, state: "A", deps: [afterok(1), afterok(9)], reason: "dependency 9 ended in F" },
  ];
  assert.deepEqual(planRestart([1], later, false), [1, 2, 3]);
  assert.deepEqual(planRestart([1], later, true), [1, 2, 3, 5]);
});

Deno.test("abortCause reads the dependency from an aborted job's reason", () => {
  assert.equal(abortCause({ state: "A", reason: "dependency 12 ended in K" }), 12);
  assert.equal(abortCause({ state: "F", reason: "dependency 12 ended in K" }), null);
  assert.equal(abortCause({ state: "A", reason: "killed" }), null);
});
