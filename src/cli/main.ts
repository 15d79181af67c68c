/**
 * The command line: dispatches `sjq CMD ARGS…` to its subcommand and turns
 * errors into messages and exit codes (0 ok, 1 failed, 2 usage).
 *
 * @module
 */

import { NoDaemonError } from "../client.ts";
import { type Command, nearest, out, UsageError } from "./common.ts";
import { lazyImport } from "./lazy.ts";

/** sjq's version. */
export const VERSION = "0.1.0";

/**
 * Every subcommand's module and export, loaded only when it runs (by
 * lazyImport: a literal `import()` would make Deno read every module, the
 * daemon's too, at each start): `sjq ping` reads only what ping needs.
 */
const COMMANDS: Record<string, [file: string, exported: string]> = {
  submit: ["./submit.ts", "submitCommand"],
  status: ["./status.ts", "statusCommand"],
  show: ["./show.ts", "showCommand"],
  wait: ["./wait.ts", "waitCommand"],
  log: ["./log.ts", "logCommand"],
  kill: ["./control.ts", "killCommand"],
  hold: ["./control.ts", "holdCommand"],
  release: ["./control.ts", "releaseCommand"],
  daemon: ["./daemon.ts", "daemonCommand"],
  ping: ["./ping.ts", "pingCommand"],
  shutdown: ["./shutdown.ts", "shutdownCommand"],
  clean: ["./clean.ts", "cleanCommand"],
  restart: ["./restart.ts", "restartCommand"],
  acct: ["./acct.ts", "acctCommand"],
  config: ["./config.ts", "configCommand"],
  reload: ["./reload.ts", "reloadCommand"],
  completions: ["./completions.ts", "completionsCommand"],
};

/** Loads subcommand `name` (one of COMMANDS). */
async function load(name: string): Promise<Command> {
  const [file, exported] = COMMANDS[name]!;
  const module = await lazyImport<Record<string, unknown>>(file, import.meta.url);
  if (name === "completions") {
    return (module[exported] as typeof import("./completions.ts").completionsCommand)(allCommands);
  }
  return module[exported] as Command;
}

/** Every subcommand, loaded. */
function allCommands(): Promise<Command[]> {
  return Promise.all(Object.keys(COMMANDS).map(load));
}

async function mainHelp(): Promise<string> {
  const commands = await allCommands();
  const width = Math.max(...commands.map((c) => c.name.length));
  const list = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n");
  return `sjq: a batch job queue for one server

Usage: sjq COMMAND [options]

Commands:
${list}
  ${"help CMD".padEnd(width)}  show a command's help

A command that needs the daemon starts one when none is running (see
'sjq config', sjq.autostart). Run 'sjq COMMAND --help' for a command's
options and examples; 'sjq --version' prints the version.

Examples:
  id=$(sjq submit -p 4 -m 8G align.sh)
  sjq submit --after "$id" -- ./report.sh results/
  sjq status
  sjq wait "$id" && sjq log "$id"
`;
}

/** Runs sjq with `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h") return out(await mainHelp()), 0;
  if (name === "--version" || name === "-V") return out(`sjq ${VERSION}\n`), 0;
  if (name === "help") {
    const topic = rest[0] === undefined ? undefined : await find(rest[0]);
    if (rest[0] !== undefined && topic === undefined) return unknownCommand(rest[0]);
    return out(topic === undefined ? await mainHelp() : await aligned(topic.help)), 0;
  }
  // The local executor's shepherd (src/shepherd.ts): started by the daemon, not by people.
  if (name === "__shepherd") {
    const shepherd = await lazyImport<typeof import("../shepherd.ts")>(
      "../shepherd.ts",
      import.meta.url,
    );
    return await shepherd.runShepherd(rest);
  }
  const command = await find(name);
  if (command === undefined) return unknownCommand(name);
  // Every command's --help, its option lines in one column.
  const flags = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
  if (flags.includes("--help") || flags.includes("-h")) return out(await aligned(command.help)), 0;
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) return usage(e.message, e.hint, `sjq ${command.name} --help`);
    if (e instanceof NoDaemonError) {
      console.error(`error: ${e.message}\nhint: start one with '${e.startCommand}'`);
      return 1;
    }
    console.error(`error: ${(e as Error).message ?? e}`);
    return 1;
  }
}

/** A command's help text with its option lines in one column (./help_layout.ts, loaded for help only). */
async function aligned(help: string): Promise<string> {
  const { alignHelp } = await lazyImport<typeof import("./help_layout.ts")>(
    "./help_layout.ts",
    import.meta.url,
  );
  return alignHelp(help);
}

function find(name: string): Promise<Command> | undefined {
  return Object.hasOwn(COMMANDS, name) ? load(name) : undefined;
}

function unknownCommand(name: string): number {
  const what = name.startsWith("-") ? `unknown option "${name}"` : `unknown command "${name}"`;
  const near = nearest(name, [...Object.keys(COMMANDS), "--help", "--version"]);
  return usage(what, near ? `did you mean '${near}'?` : undefined, "sjq --help");
}

function usage(message: string, hint: string | undefined, help: string): number {
  console.error(`error: ${message}\nhint: ${hint ? `${hint} ` : ""}see '${help}'`);
  return 2;
}
