/**
 * The command line: dispatches `sjq CMD ARGS…` to its subcommand and turns
 * errors into messages and exit codes (0 ok, 1 failed, 2 usage).
 *
 * @module
 */

import { NoDaemonError } from "../client.ts";
import { cleanCommand } from "./clean.ts";
import { type Command, nearest, out, UsageError } from "./common.ts";
import { completionsCommand } from "./completions.ts";
import { configCommand } from "./config.ts";
import { daemonCommand } from "./daemon.ts";
import { holdCommand, killCommand, releaseCommand } from "./control.ts";
import { logCommand } from "./log.ts";
import { pingCommand } from "./ping.ts";
import { shutdownCommand } from "./shutdown.ts";
import { statusCommand } from "./status.ts";
import { submitCommand } from "./submit.ts";
import { waitCommand } from "./wait.ts";

/** sjq's version. */
export const VERSION = "0.1.0";

const COMMANDS: Command[] = [
  submitCommand,
  statusCommand,
  waitCommand,
  logCommand,
  killCommand,
  holdCommand,
  releaseCommand,
  daemonCommand,
  pingCommand,
  shutdownCommand,
  cleanCommand,
  configCommand,
];
COMMANDS.push(completionsCommand(() => COMMANDS));

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const list = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n");
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
  if (name === undefined || name === "--help" || name === "-h") return out(mainHelp()), 0;
  if (name === "--version" || name === "-V") return out(`sjq ${VERSION}\n`), 0;
  if (name === "help") {
    const topic = rest[0] === undefined ? undefined : find(rest[0]);
    if (rest[0] !== undefined && topic === undefined) return unknownCommand(rest[0]);
    return out(topic?.help ?? mainHelp()), 0;
  }
  const command = find(name);
  if (command === undefined) return unknownCommand(name);
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

function find(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

function unknownCommand(name: string): number {
  const what = name.startsWith("-") ? `unknown option "${name}"` : `unknown command "${name}"`;
  const near = nearest(name, [...COMMANDS.map((c) => c.name), "--help", "--version"]);
  return usage(what, near ? `did you mean '${near}'?` : undefined, "sjq --help");
}

function usage(message: string, hint: string | undefined, help: string): number {
  console.error(`error: ${message}\nhint: ${hint ? `${hint} ` : ""}see '${help}'`);
  return 2;
}
