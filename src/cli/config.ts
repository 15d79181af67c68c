/**
 * `sjq config`: the configuration and where each value came from: the
 * running daemon's, marked where this shell's files and environment say
 * otherwise, or this shell's view when no daemon runs.
 *
 * @module
 */

import { NoDaemonError, UnsupportedError } from "../client.ts";
import { CONFIG_KEYS, type ConfigKey } from "../config.ts";
import { type LoadedConfig } from "../config_loader.ts";
import { formatConfigValue } from "../config_values.ts";
import type { DaemonSettings } from "../live_config.ts";
import { queueKey, queueSettings } from "../queue_config.ts";
import { formatSize } from "../size.ts";
import {
  CLIENT_FLAGS,
  CLIENT_FLAGS_HELP,
  clientConfig,
  connect,
  defineCommand,
  type Flags,
  out,
  UsageError,
} from "./common.ts";

const HELP = `sjq config: show the configuration in force

Usage: sjq config [KEY] [--local] [--socket PATH]

Prints every configuration key with its value and, after '#', where the
value came from: 'flag', 'env SJQ_…', the rc file and line, 'saved' (the
flags of the last daemon started by hand, which an auto-started daemon
takes), or 'default'. The output is in the rc file's format. With KEY,
prints that value alone.

When a daemon runs, these are the daemon's settings, and 'differs:' marks a
value that this shell's rc file, environment or flags set otherwise (an rc
file changed since the daemon started: apply it with 'sjq reload'). With no
daemon, or with --local, this shell's view.

Each key is taken from the first place that sets it: a command-line flag, an
SJQ_* environment variable, the rc file ($SJQ_CONFIG or ~/.sjqrc), the default.

Keys:
${CONFIG_KEYS.map((k) => `  ${k.key.padEnd(20)} ${k.env.padEnd(20)} ${k.doc}`).join("\n")}

Options:
      --local     this shell's view, without asking the daemon
${CLIENT_FLAGS_HELP}

Examples:
  sjq config
  sjq config sjq.maxprocs
  SJQ_MAXPROCS=4 sjq config --local | grep maxprocs
`;

const OPTIONS = { ...CLIENT_FLAGS, local: { type: "boolean" } } as const satisfies Flags;

/** Keys only clients read, or that say where the daemon is: always this shell's view. */
const OWN_KEYS = new Set<string>(["sjq.socket", "sjq.autostart", "sjq.daemon"]);

/** `sjq config`. */
export const configCommand = defineCommand({
  name: "config",
  summary: "show the configuration in force and where each value came from",
  help: HELP,
  options: OPTIONS,
}, async (values, positionals) => {
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  const key = positionals[0];
  const wanted = key?.toLowerCase();
  const row = wanted === undefined ? undefined : CONFIG_KEYS.find((k) => k.key === wanted) ??
    (queueKey(wanted) ? { key: wanted } : undefined);
  if (key !== undefined && row === undefined) {
    throw new UsageError(`unknown configuration key "${key}"`, "'sjq config' lists them");
  }
  const here = await clientConfig(values);
  const daemon = values.local ? null : await daemonSettings(values);
  const rows = settings(here, daemon);
  if (row !== undefined) {
    out(`${rows.find((r) => r.key === row.key)?.value ?? ""}\n`);
    return 0;
  }
  const width = Math.max(...rows.map((r) => r.key.length));
  const lines = rows.map((r) => [`${r.key.padEnd(width)} = ${quote(r.value)}`, r.note] as const);
  const valueWidth = Math.max(...lines.map(([l]) => l.length));
  if (daemon !== null) {
    out(`# the settings of the running daemon (pid ${daemon.pid})\n`);
  }
  out(lines.map(([l, note]) => `${l.padEnd(valueWidth)}  # ${note}\n`).join(""));
  return 0;
});

/** The daemon's settings, or null when none answers (or it cannot say: an original SJQ daemon). */
async function daemonSettings(values: { socket?: string | undefined }) {
  try {
    using client = await connect(values);
    const reply = await client.request("CONFIG", true);
    if (!reply.ok) return null;
    return JSON.parse(new TextDecoder().decode(reply.payload)) as DaemonSettings;
  } catch (e) {
    if (e instanceof NoDaemonError || e instanceof UnsupportedError) return null;
    throw e;
  }
}

/** Each key's value and the note after '#': the daemon's where it has one, marked where this shell differs. */
function settings(here: LoadedConfig, daemon: DaemonSettings | null) {
  // The queues' rows: the daemon's when one answers, else this shell's rc file's.
  const queues = daemon !== null
    ? daemon.settings.filter((s) => s.key.startsWith("sjq.queue."))
      .map((s) => ({ key: s.key, value: s.value, note: s.source }))
    : queueSettings(here.config.queues, formatSize)
      .map((s) => ({ ...s, note: here.file ?? "the rc file" }));
  return [
    ...CONFIG_KEYS.map((k) => {
      const local = formatConfigValue(k, here.config[k.field]);
      const localSource = here.sources[k.key as ConfigKey];
      const theirs = daemon?.settings.find((s) => s.key === k.key);
      if (theirs === undefined || OWN_KEYS.has(k.key)) {
        return { key: k.key, value: local, note: localSource };
      }
      // A client never runs nvidia-smi: its default of sjq.gpus says nothing about the daemon's.
      const unknownHere = k.kind === "devices" && localSource === "default";
      const differs = theirs.value === local || unknownHere
        ? ""
        : `; differs: ${quote(local) || "(none)"} here (${localSource})`;
      return { key: k.key, value: theirs.value, note: `${theirs.source}${differs}` };
    }),
    ...queues,
  ];
}

/** Quotes a value that the rc file would otherwise cut at a comment or trim. */
function quote(value: string): string {
  return /^\s|\s$|\s[#;]/.test(value) ? `"${value}"` : value;
}
