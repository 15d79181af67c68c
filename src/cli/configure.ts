/**
 * The whole configuration of a client command, as this shell sees it: a
 * module of its own so that a command that needs only its daemon's socket
 * (src/cli/client_settings.ts) does not load the configuration loader.
 *
 * @module
 */

import { type ConfigKey } from "../config.ts";
import { loadConfig, type LoadedConfig } from "../config_loader.ts";

/** Loads the configuration from `flags` and this process's environment, printing its warnings to stderr. */
export function configure(flags: Partial<Record<ConfigKey, string>>): LoadedConfig {
  const loaded = loadConfig({
    flags,
    env: Deno.env.toObject(),
    home: Deno.env.get("HOME") ?? "/",
    cpus: navigator.hardwareConcurrency,
    uid: Deno.uid() ?? 0,
  });
  for (const w of loaded.warnings) console.error(`warning: ${w}`);
  return loaded;
}
