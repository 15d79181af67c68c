import assert from "node:assert/strict";
import { selfCommand } from "./detach.ts";

Deno.test("a compiled sjq runs itself again as its own binary, with no 'run main.ts'", () => {
  assert.deepEqual(
    selfCommand({
      standalone: true,
      execPath: "/usr/local/bin/sjq",
      mainModule: "file:///tmp/deno-compile-sjq/main.ts",
    }),
    ["/usr/local/bin/sjq"],
  );
});

Deno.test("sjq from the sources runs itself again as Deno running main.ts", () => {
  assert.deepEqual(
    selfCommand({
      standalone: false,
      execPath: "/opt/deno",
      mainModule: "file:///home/me/sjq%20src/main.ts",
    }),
    ["/opt/deno", "run", "-A", "--quiet", "--no-config", "/home/me/sjq src/main.ts"],
  );
});

Deno.test("this test process is not compiled: it would run itself through Deno", () => {
  assert.equal(Deno.build.standalone, false);
  assert.equal(selfCommand()[0], Deno.execPath());
});
