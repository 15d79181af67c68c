import assert from "node:assert/strict";
import { CONFIG_KEYS } from "../config.ts";
import { loadConfig } from "../config_loader.ts";
import {
  DEFAULT_SOCKET,
  DEFAULT_USERDIR,
  quickClientSettings,
  type QuickInput,
} from "./client_settings.ts";

const HOME = "/home/u";
const CWD = "/work/dir";

/** The loader's view of the same input (as common.ts configure() loads it). */
function loaded(input: QuickInput) {
  const { config, warnings } = loadConfig({
    flags: input.socket === undefined ? {} : { "sjq.socket": input.socket },
    env: input.env,
    home: input.home,
    cpus: 4,
    cwd: input.cwd,
    uid: input.uid,
    readFile: input.readFile,
    exists: input.exists,
  });
  return {
    settings: { socket: config.socket, userdir: config.userdir, autostart: config.autostart },
    warnings,
  };
}

function input(over: Partial<QuickInput> = {}): QuickInput {
  return {
    env: {},
    home: HOME,
    cwd: CWD,
    uid: 1000,
    readFile: () => null,
    exists: () => false,
    ...over,
  };
}

Deno.test("the quick path's defaults are src/config.ts's", () => {
  const row = (key: string) => CONFIG_KEYS.find((k) => k.key === key)!;
  assert.equal(row("sjq.socket").default, DEFAULT_SOCKET);
  assert.equal(row("sjq.userdir").default, DEFAULT_USERDIR);
  assert.equal(row("sjq.autostart").default, "true");
  // Every variable the quick path does not read starts with SJQ_, so it sees each one set.
  for (const k of CONFIG_KEYS) assert.match(k.env, /^SJQ_/);
});

Deno.test("the quick path gives what the loader gives, with no warning to lose", () => {
  const userSocket = "/run/sjq/u/1000.sock";
  const cases: QuickInput[] = [
    input(),
    input({ socket: "run/x.sock" }),
    input({ socket: "" }),
    input({ socket: "  ~/y.sock " }),
    input({ env: { SJQ_SOCKET: "rel.sock" } }),
    input({ env: { SJQ_SOCKET: "" } }),
    input({ env: { SJQ_SOCKET: "/s.sock" }, socket: "/flag.sock" }),
    input({ exists: (p) => p === userSocket }),
    input({ exists: (p) => p === userSocket, socket: "/flag.sock" }),
    input({ env: { SJQ_USERDIR: "dir/" }, exists: (p) => p === `${CWD}/dir/1000.sock` }),
    input({ env: { SJQ_CONFIG: "/etc/sjqrc" }, readFile: () => "" }),
    input({ env: { SJQ_CONFIG: "" } }),
    input({ readFile: () => "\n  \n" }),
    input({ env: { SJQ_MAXPROCS: "" } }),
  ];
  for (const c of cases) {
    const quick = quickClientSettings(c);
    const full = loaded(c);
    assert.deepEqual(quick, full.settings, JSON.stringify({ ...c, readFile: c.readFile("") }));
    assert.deepEqual(full.warnings, []);
  }
});

Deno.test("anything else configured, or anything to warn about, goes to the loader", () => {
  const cases: QuickInput[] = [
    input({ readFile: () => "[sjq]\nmaxprocs = 2\n" }),
    input({ readFile: () => "# only a comment\n" }),
    input({ env: { SJQ_AUTOSTART: "F" } }),
    input({ env: { SJQ_MAXPROCS: "lots" } }),
    input({ env: { SJQ_CONFIG: "/missing" } }),
    input({
      readFile: () => {
        throw new Deno.errors.PermissionDenied("no");
      },
    }),
  ];
  for (const c of cases) assert.equal(quickClientSettings(c), null);
});
