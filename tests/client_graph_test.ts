/**
 * Client start-up, kept by the module graph rather than by timings: what
 * `deno run` reads before a client command runs (main.ts, and the one
 * subcommand it loads) holds no `node:` module, no npm package and none of
 * the daemon's code; every module loaded by a hidden specifier
 * (src/cli/lazy.ts) is one that build.sh embeds in a compiled sjq.
 * bench/startup.ts measures the times (docs/benchmarks.md).
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const DENO = Deno.execPath();

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string } }[];
}

/**
 * The modules `deno run` loads for `root` before it runs: the graph through
 * code imports (static and literal dynamic ones; type-only imports are never
 * loaded).
 */
async function codeGraph(root: string): Promise<Set<string>> {
  const out = await new Deno.Command(DENO, {
    args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, root],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: InfoModule[];
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const todo = [...info.roots];
  while (todo.length > 0) {
    const specifier = todo.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const d of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (d.code !== undefined) todo.push(d.code.specifier);
    }
  }
  return seen;
}

/** A module's path in the repository (`src/cli/ping.ts`), or the specifier itself (`node:fs`). */
function local(specifier: string): string {
  return specifier.startsWith(ROOT.href) ? specifier.slice(ROOT.href.length) : specifier;
}

/** The daemon's own modules: a client command must never load them. */
const DAEMON_ONLY = ["src/daemon.ts", "src/store.ts", "src/scheduler.ts", "src/shepherd.ts"];

async function sources(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(new URL(dir, ROOT))) {
    if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
      files.push(`${dir}${e.name}`);
    }
  }
  return files.sort();
}

Deno.test("main.ts loads no subcommand and no configuration before it knows which one runs", async () => {
  const graph = [...await codeGraph(new URL("main.ts", ROOT).href)].map(local).sort();
  assert.deepEqual(graph, [
    "main.ts",
    "src/base64.ts",
    "src/cli/args.ts",
    "src/cli/client_settings.ts",
    "src/cli/common.ts",
    "src/cli/lazy.ts",
    "src/cli/main.ts",
    "src/client.ts",
    "src/path.ts",
  ]);
});

Deno.test("sjq ping, status and submit load only these modules (a --wrap script, no directives)", async () => {
  const main = await codeGraph(new URL("main.ts", ROOT).href);
  const extra = async (file: string) =>
    [...await codeGraph(new URL(file, ROOT).href)].filter((m) => !main.has(m)).map(local).sort();
  assert.deepEqual(await extra("src/cli/ping.ts"), ["src/cli/ping.ts"]);
  assert.deepEqual(await extra("src/cli/submit.ts"), [
    "src/cli/autostart.ts",
    "src/cli/submit.ts",
    "src/duration.ts",
    "src/size.ts",
  ]);
  assert.deepEqual(await extra("src/cli/status.ts"), [
    "src/cli/autostart.ts",
    "src/cli/job_query.ts",
    "src/cli/reasons.ts",
    "src/cli/states.ts",
    "src/cli/status.ts",
    "src/cli/table.ts",
    "src/job.ts",
    "src/size.ts",
  ]);
});

Deno.test("no client command loads a node: module, an npm package or the daemon's code", async () => {
  for (const file of await sources("src/cli/")) {
    // The daemon is no client; string_width.ts is npm:string-width, loaded lazily by status.
    if (file === "src/cli/daemon.ts" || file === "src/cli/string_width.ts") continue;
    const graph = [...await codeGraph(new URL(file, ROOT).href)].map(local);
    const bad = graph.filter((m) => !m.startsWith("src/") || DAEMON_ONLY.includes(m));
    assert.deepEqual(bad, [], `${file} loads ${bad.join(", ")}`);
  }
});

Deno.test("every module loaded by a hidden specifier is one build.sh embeds in a compiled sjq", async () => {
  // build.sh: --include for each of src/cli/*.ts (tests aside) and src/shepherd.ts.
  const build = await Deno.readTextFile(new URL("build.sh", ROOT));
  assert.ok(build.includes(`"$here"/src/cli/*.ts "$here/src/shepherd.ts"`), "build.sh's list");
  const embedded = new Set([...await sources("src/cli/"), "src/shepherd.ts"]);
  const loaded: string[] = [];
  for (const file of [...await sources("src/"), ...await sources("src/cli/")]) {
    const text = await Deno.readTextFile(new URL(file, ROOT));
    const at = new URL(file, ROOT);
    for (const m of text.matchAll(/lazyImport<typeof import\("([^"]+)"\)[^>]*>\(\s*"([^"]+)"/g)) {
      assert.equal(m[1], m[2], `${file}: typed as ${m[1]}, loads ${m[2]}`);
      loaded.push(local(new URL(m[2]!, at).href));
    }
    if (file === "src/cli/main.ts") {
      for (const m of text.matchAll(/^ {2}[a-z]+: \["(\.\/[a-z_]+\.ts)", "[A-Za-z]+"\],$/gm)) {
        loaded.push(local(new URL(m[1]!, at).href));
      }
    }
  }
  // Every subcommand (16), the shepherd, and the lazily loaded helpers.
  assert.ok(loaded.length >= 20, loaded.join(" "));
  for (const m of loaded) {
    assert.ok(embedded.has(m), `${m} is loaded lazily but build.sh does not embed it`);
    await Deno.stat(new URL(m, ROOT));
  }
});
