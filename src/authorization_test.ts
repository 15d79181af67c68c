import assert from "node:assert/strict";
import {
  mayActOnDaemon,
  mayActOnJob,
  maySeeJobDetails,
  submitGid,
  submitUid,
} from "./authorization.ts";

const A = { uid: 1000 };
const B = { uid: 1001 };
const ROOT = { uid: 0 };
const policy = { minUid: 1000 };
const exists = (uid: number) => [0, 5, 1000, 1001].includes(uid);
const denied = (x: unknown) => typeof x === "object" && x !== null && "denied" in x;

Deno.test("a user acts on their own jobs only; root on all", () => {
  for (const action of ["kill", "hold", "release", "restart", "output"] as const) {
    assert.equal(mayActOnJob(A, action, 1, A.uid), null);
    assert.ok(denied(mayActOnJob(B, action, 1, A.uid)), action);
    assert.equal(mayActOnJob(ROOT, action, 1, A.uid), null);
  }
  assert.ok(denied(mayActOnJob(A, "kill", 1, 0)), "a user may not kill root's job");
});

Deno.test("only root shuts down or cleans for everyone", () => {
  assert.ok(denied(mayActOnDaemon(A, "shutdown")));
  assert.ok(denied(mayActOnDaemon(A, "clean-all")));
  assert.equal(mayActOnDaemon(ROOT, "shutdown"), null);
});

Deno.test("details are for the owner and root", () => {
  assert.equal(maySeeJobDetails(A, A.uid), true);
  assert.equal(maySeeJobDetails(B, A.uid), false);
  assert.equal(maySeeJobDetails(ROOT, A.uid), true);
});

Deno.test("a forged UID line is refused; root may name any user", () => {
  assert.equal(submitUid(A, undefined, policy, exists), A.uid);
  assert.equal(submitUid(A, A.uid, policy, exists), A.uid);
  assert.ok(denied(submitUid(B, A.uid, policy, exists)));
  assert.ok(denied(submitUid(A, 0, policy, exists)), "UID 0 only from root");
  assert.equal(submitUid(ROOT, undefined, policy, exists), 0);
  assert.equal(submitUid(ROOT, A.uid, policy, exists), A.uid);
});

Deno.test("system accounts and unknown users are refused", () => {
  assert.ok(denied(submitUid(ROOT, 5, policy, exists)));
  assert.equal(submitUid(ROOT, 5, { minUid: 5 }, exists), 5);
  assert.ok(denied(submitUid(ROOT, 4242, policy, exists)));
});

Deno.test("a GID line must name one of the user's groups", () => {
  const user = { uid: 1000, gid: 1000, groups: [1000, 44] };
  assert.equal(submitGid(user, undefined), 1000);
  assert.equal(submitGid(user, 1000), 1000);
  assert.equal(submitGid(user, 44), 44);
  assert.ok(denied(submitGid(user, 0)));
});

Deno.test("system accounts: below minuid, and 60000 to 65535 (nobody, Debian's system range)", () => {
  assert.ok(denied(submitUid(ROOT, 65534, policy, () => true)));
  assert.ok(denied(submitUid(ROOT, 64030, policy, () => true)));
  assert.equal(submitUid(ROOT, 70000, policy, () => true), 70000);
});
