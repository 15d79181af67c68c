/**
 * `sjq completions`: shell completion scripts for bash, zsh and fish, made
 * from the commands' own flag lists so that they never fall behind.
 *
 * @module
 */

import { CONFIG_KEYS } from "../config.ts";
import { STATE_NAMES } from "../job.ts";
import { GROUP_KEYS } from "./acct.ts";
import { type Command, defineCommand, noPositionals, out, UsageError } from "./common.ts";

/** Commands whose arguments are job ids: completed from the running daemon (never starting one). */
const ID_COMMANDS = ["status", "show", "wait", "log", "kill", "hold", "release", "restart"];
/** Flags whose value is job ids (submit's dependencies): completed from the daemon too. */
const ID_FLAGS = ["--depends", "-d", "--after", "--afterany", "--afternotok"];
/** The state words `--state` takes. */
const STATE_WORDS = Object.values(STATE_NAMES).join(" ");
/** What `sjq acct --by` takes. */
const BY_WORDS = GROUP_KEYS.join(" ");
/** The configuration keys `sjq config KEY` takes. */
const KEYS = CONFIG_KEYS.map((k) => k.key).join(" ");
/** Prints the ids of the jobs the daemon knows, or nothing. */
const IDS = "sjq status --raw --no-autostart 2>/dev/null | cut -f1";

const HELP = `sjq completions: print a shell completion script

Usage: sjq completions bash|zsh|fish

Completes commands, each command's flags, job ids (asked of the running
daemon; completion never starts one) for the commands that take them and
after submit's --after/--depends flags, state words after --state, the keys
of 'sjq acct --by', config keys after 'sjq config', and file names elsewhere.

Examples:
  sjq completions bash > /etc/bash_completion.d/sjq       # or: source <(sjq completions bash)
  sjq completions zsh > "\${fpath[1]}/_sjq"
  sjq completions fish > ~/.config/fish/completions/sjq.fish
`;

const OPTIONS = { help: { type: "boolean", short: "h" } } as const;
const SHELLS = ["bash", "zsh", "fish"] as const;

/** `sjq completions`, completing `commands()` (the list main.ts dispatches to). */
export function completionsCommand(commands: () => Promise<readonly Command[]>): Command {
  return defineCommand({
    name: "completions",
    summary: "print a completion script for bash, zsh or fish",
    help: HELP,
    options: OPTIONS,
  }, async (_, positionals) => {
    const [shell, ...rest] = positionals;
    noPositionals(rest);
    const all = [...await commands(), {
      name: "help",
      summary: "show a command's help",
      flags: [],
    }];
    switch (shell) {
      case "bash":
        out(bash(all));
        break;
      case "zsh":
        out(zsh(all));
        break;
      case "fish":
        out(fish(all));
        break;
      default:
        throw new UsageError(
          shell === undefined ? "no shell given" : `unknown shell "${shell}"`,
          `give one of ${SHELLS.join(", ")}`,
        );
    }
    return 0;
  });
}

type Completable = Pick<Command, "name" | "summary" | "flags">;

function flagsOf(c: Completable): readonly string[] {
  return c.flags ?? [];
}

function bash(commands: Completable[]): string {
  const cases = commands.map((c) => `    ${c.name}) words="${flagsOf(c).join(" ")}" ;;`).join("\n");
  return `# bash completion for sjq (sjq completions bash)
_sjq() {
  local cur=\${COMP_WORDS[COMP_CWORD]} words
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(" ")} --help --version" -- "$cur"))
    return
  fi
  case \${COMP_WORDS[1]} in
${cases}
    *) words="" ;;
  esac
  local prev=\${COMP_WORDS[COMP_CWORD-1]}
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  elif [[ $prev == --state || $prev == -s ]]; then
    COMPREPLY=($(compgen -W "${STATE_WORDS}" -- "$cur"))
  elif [[ $prev == --by ]]; then
    COMPREPLY=($(compgen -W "${BY_WORDS}" -- "$cur"))
  elif [[ \${COMP_WORDS[1]} == config ]]; then
    COMPREPLY=($(compgen -W "${KEYS}" -- "$cur"))
  elif [[ \${COMP_WORDS[1]} == submit && " ${ID_FLAGS.join(" ")} " == *" $prev "* ]]; then
    COMPREPLY=($(compgen -W "$(${IDS})" -- "$cur"))
  elif [[ " ${ID_COMMANDS.join(" ")} " == *" \${COMP_WORDS[1]} "* ]]; then
    COMPREPLY=($(compgen -W "$(${IDS})" -- "$cur"))
  elif [[ \${COMP_WORDS[1]} == help ]]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(" ")}" -- "$cur"))
  elif [[ \${COMP_WORDS[1]} == completions ]]; then
    COMPREPLY=($(compgen -W "${SHELLS.join(" ")}" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _sjq sjq
`;
}

function zsh(commands: Completable[]): string {
  const described = commands.map((c) =>
    `    '${c.name}:${c.summary.replaceAll("'", "'\\''").replaceAll(":", "\\:")}'`
  );
  const cases = commands.map((c) => `    ${c.name}) flags=(${flagsOf(c).join(" ")}) ;;`).join("\n");
  return `#compdef sjq
# zsh completion for sjq (sjq completions zsh)
_sjq() {
  local -a commands flags
  local ID_WORDS="${ID_COMMANDS.join(" ")}"
  commands=(
${described.join("\n")}
  )
  if (( CURRENT == 2 )); then
    _describe 'sjq command' commands
    return
  fi
  case $words[2] in
${cases}
  esac
  if [[ $PREFIX == -* ]]; then
    compadd -a flags
  elif [[ $words[CURRENT-1] == --state || $words[CURRENT-1] == -s ]]; then
    compadd ${STATE_WORDS}
  elif [[ $words[CURRENT-1] == --by ]]; then
    compadd ${BY_WORDS}
  elif [[ $words[2] == config ]]; then
    compadd ${KEYS}
  elif [[ $words[2] == submit && " ${ID_FLAGS.join(" ")} " == *" $words[CURRENT-1] "* ]]; then
    compadd -- \${(f)"$(${IDS})"}
  elif [[ " $ID_WORDS " == *" $words[2] "* ]]; then
    compadd -- \${(f)"$(${IDS})"}
  elif [[ $words[2] == help ]]; then
    _describe 'sjq command' commands
  elif [[ $words[2] == completions ]]; then
    compadd ${SHELLS.join(" ")}
  else
    _files
  fi
}
compdef _sjq sjq
`;
}

function fish(commands: Completable[]): string {
  const quote = (s: string) => `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  const lines = [
    "# fish completion for sjq (sjq completions fish)",
    "complete -c sjq -f",
    ...commands.map((c) =>
      `complete -c sjq -n __fish_use_subcommand -a ${c.name} -d ${quote(c.summary)}`
    ),
    `complete -c sjq -n '__fish_seen_subcommand_from help' -a ${
      quote(commands.map((c) => c.name).join(" "))
    }`,
    `complete -c sjq -n '__fish_seen_subcommand_from completions' -a ${quote(SHELLS.join(" "))}`,
    `complete -c sjq -n '__fish_seen_subcommand_from config' -a ${quote(KEYS)}`,
    `complete -c sjq -n '__fish_seen_subcommand_from ${ID_COMMANDS.join(" ")}' -a ${
      quote(`(${IDS})`)
    }`,
  ];
  for (const c of commands) {
    const when = `-n '__fish_seen_subcommand_from ${c.name}'`;
    for (const flag of flagsOf(c).filter((f) => f.startsWith("-"))) {
      const states = flag === "--state" || flag === "-s"
        ? ` -x -a ${quote(STATE_WORDS)}`
        : c.name === "submit" && ID_FLAGS.includes(flag)
        ? ` -x -a ${quote(`(${IDS})`)}`
        : flag === "--by"
        ? ` -x -a ${quote(BY_WORDS)}`
        : "";
      lines.push(
        `complete -c sjq ${when} ${
          flag.startsWith("--") ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`
        }${states}`,
      );
    }
    if (c.name === "submit" || c.name === "daemon") lines.push(`complete -c sjq ${when} -F`);
  }
  return `${lines.join("\n")}\n`;
}
