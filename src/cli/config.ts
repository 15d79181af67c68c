/**
 * `sjq config`: the effective configuration and where each value came from.
 *
 * @module
 */

import { CONFIG_KEYS, type ConfigKeyInfo } from "../config.ts";
import { formatDuration } from "../duration.ts";
import { formatSize } from "../size.ts";
import {
  CLIENT_FLAGS,
  CLIENT_FLAGS_HELP,
  clientConfig,
  type Command,
  flagNames,
  out,
  parseFlags,
  UsageError,
} from "./common.ts";

const HELP = `sjq config: show the effective configuration

Usage: sjq config [KEY] [--socket PATH]

Prints every configuration key with its value and, after '#', where the
value came from: 'flag', 'env SJQ_…', the rc file and line, or 'default'.
The output is in the rc file's format. With KEY, prints that value alone.

Each key is taken from the first place that sets it: a command-line flag, an
SJQ_* environment variable, the rc file ($SJQ_CONFIG or ~/.sjqrc), the default.

Keys:
${CONFIG_KEYS.map((k) => `  ${k.key.padEnd(20)} ${k.env.padEnd(20)} ${k.doc}`).join("\n")}

Options:
${CLIENT_FLAGS_HELP}

Examples:
  sjq config
  sjq config sjq.socket
  SJQ_MAXPROCS=4 sjq config | grep maxprocs
`;

/** `sjq config`. */
export const configCommand: Command = {
  name: "config",
  summary: "show the effective configuration and where each value came from",
  help: HELP,
  flags: flagNames(CLIENT_FLAGS),
  run(args) {
    const { values, positionals } = parseFlags(args, CLIENT_FLAGS);
    if (values.help) return Promise.resolve((out(HELP), 0));
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    const { config, sources } = clientConfig(values);
    const text = (row: ConfigKeyInfo) => formatValue(row, config[row.field]);
    const key = positionals[0];
    if (key !== undefined) {
      const row = CONFIG_KEYS.find((k) => k.key === key.toLowerCase());
      if (row === undefined) {
        throw new UsageError(`unknown configuration key "${key}"`, "'sjq config' lists them");
      }
      out(`${text(row)}\n`);
      return Promise.resolve(0);
    }
    const width = Math.max(...CONFIG_KEYS.map((k) => k.key.length));
    const lines = CONFIG_KEYS.map((k) =>
      [`${k.key.padEnd(width)} = ${quote(text(k))}`, sources[k.key]] as const
    );
    const valueWidth = Math.max(...lines.map(([l]) => l.length));
    out(lines.map(([l, source]) => `${l.padEnd(valueWidth)}  # ${source}\n`).join(""));
    return Promise.resolve(0);
  },
};

/** A value as the rc file would write it; empty for none. */
function formatValue(row: ConfigKeyInfo, value: string | number | boolean | null): string {
  if (value === null) return "";
  switch (row.kind) {
    case "size":
      return formatSize(value as number);
    case "duration":
      return formatDuration(value as number);
    default:
      return String(value);
  }
}

/** Quotes a value that the rc file would otherwise cut at a comment or trim. */
function quote(value: string): string {
  return /^\s|\s$|\s[#;]/.test(value) ? `"${value}"` : value;
}
