/**
 * The command line: dispatches `sjq CMD ARGS…` to its subcommand and turns
 * errors into messages and exit codes (0 ok, 1 failed, 2 usage).
 *
 * @module
 */

import { NoDaemonError } from "../client.ts";
import { ConfigError } from "../config.ts";
import { type Command, out, UsageError } from "./common.ts";
import { cleanCommand } from "./clean.ts";
import { daemonCommand } from "./daemon.ts";
import { holdCommand, killCommand, releaseCommand } from "./control.ts";
import { pingCommand } from "./ping.ts";
import { shutdownCommand } from "./shutdown.ts";
import { statusCommand } from "./status.ts";
import { submitCommand } from "./submit.ts";

/** sjq's version. */
export const VERSION = "0.1.0";

const COMMANDS: Command[] = [
  daemonCommand,
  submitCommand,
  statusCommand,
  killCommand,
  releaseCommand,
  holdCommand,
  pingCommand,
  shutdownCommand,
  cleanCommand,
];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const list = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n");
  return `sjq: a batch job queue for one server

Usage: sjq COMMAND [options]

Commands:
${list}
  help CMD${" ".repeat(Math.max(0, width - 8))}  show a command's help

Run 'sjq COMMAND --help' for a command's options. sjq --version prints the version.
`;
}

/** Runs sjq with `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h") return out(mainHelp()), 0;
  if (name === "--version" || name === "-V") return out(`sjq ${VERSION}\n`), 0;
  if (name === "help") {
    const topic = rest[0] === undefined ? undefined : COMMANDS.find((c) => c.name === rest[0]);
    if (rest[0] !== undefined && topic === undefined) return usage(`unknown command "${rest[0]}"`, undefined);
    return out(topic?.help ?? mainHelp()), 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) return usage(`unknown command "${name}"`, undefined);
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) return usage(e.message, command);
    if (e instanceof NoDaemonError) {
      console.error(`error: ${e.message}\nhint: start one with 'sjq daemon --detach'`);
      return 1;
    }
    if (e instanceof ConfigError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    console.error(`error: ${(e as Error).message ?? e}`);
    return 1;
  }
}

function usage(message: string, command: Command | undefined): number {
  const hint = command ? `sjq ${command.name} --help` : "sjq --help";
  console.error(`error: ${message}\nhint: see '${hint}'`);
  return 2;
}
