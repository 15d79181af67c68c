/**
 * The three settings a client command needs to reach its daemon (the
 * socket, sjq.userdir, sjq.autostart), found without loading the whole
 * configuration when nothing else is configured.
 *
 * Loading every key (src/config_loader.ts: eight modules, each value parsed
 * and checked) costs a client about 4 ms of start-up. When no rc file sets
 * anything and no `SJQ_*` variable but those naming the socket, the user's
 * socket directory or the rc file is set, every other key has its default,
 * which is valid: the full loader would give the same three values and no
 * warning, so {@linkcode quickClientSettings} gives them itself. Otherwise it
 * says null and the caller loads the configuration as usual, so that a bad
 * value or an unknown rc key is reported as before. client_settings_test.ts
 * checks both against the loader.
 *
 * @module
 */

import { expandPath } from "../path.ts";

/** What a client command needs to know to reach its daemon (src/config.ts `Config` fields). */
export interface ClientSettings {
  socket: string;
  userdir: string;
  autostart: boolean;
}

/** What {@linkcode quickClientSettings} reads: as src/config_loader.ts `ConfigInput`. */
export interface QuickInput {
  /** `--socket` as typed, if given. */
  socket?: string | undefined;
  env: Record<string, string | undefined>;
  home: string;
  cwd: string;
  uid: number;
  /** The rc file's text, null if it does not exist; throws for other errors. */
  readFile: (path: string) => string | null;
  exists: (path: string) => boolean;
}

/** The defaults of sjq.socket and sjq.userdir, as src/config.ts has them (the test compares). */
export const DEFAULT_SOCKET = "~/.sjq.sock";
export const DEFAULT_USERDIR = "/run/sjq/u";

/** The variables the quick path reads; any other `SJQ_*` variable set needs the full loader. */
const QUICK_VARIABLES = new Set(["SJQ_SOCKET", "SJQ_USERDIR", "SJQ_CONFIG"]);

/**
 * The client's settings when nothing but the socket, the user socket
 * directory or the rc file's name is configured; null when the full
 * configuration must be loaded (an rc file with content, another `SJQ_*`
 * variable, an rc file named by SJQ_CONFIG that is missing or unreadable).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quickClientSettings } from "./client_settings.ts";
 *
 * const input = { env: {}, home: "/home/u", cwd: "/tmp", uid: 1000, exists: () => false };
 * assert.deepEqual(quickClientSettings({ ...input, readFile: () => null }), {
 *   socket: "/home/u/.sjq.sock",
 *   userdir: "/run/sjq/u",
 *   autostart: true,
 * });
 * assert.equal(quickClientSettings({ ...input, readFile: () => "maxprocs = 2\n" }), null);
 * ```
 */
export function quickClientSettings(input: QuickInput): ClientSettings | null {
  const { env, home, cwd } = input;
  for (const [name, value] of Object.entries(env)) {
    if (value && name.startsWith("SJQ_") && !QUICK_VARIABLES.has(name)) return null;
  }
  let rc: string | null;
  try {
    rc = input.readFile(expandPath(env.SJQ_CONFIG || "~/.sjqrc", cwd, home));
  } catch {
    return null;
  }
  if (rc === null ? Boolean(env.SJQ_CONFIG) : rc.trim() !== "") return null;
  const userdir = expandPath(env.SJQ_USERDIR?.trim() || DEFAULT_USERDIR, cwd, home);
  const given = input.socket ?? (env.SJQ_SOCKET || undefined);
  if (given !== undefined) {
    return {
      socket: expandPath(given.trim() || DEFAULT_SOCKET, cwd, home),
      userdir,
      autostart: true,
    };
  }
  // As the loader does: the socket a multi-user daemon made for this user, if there is one.
  const own = `${userdir.replace(/\/+$/, "")}/${input.uid}.sock`;
  const socket = input.exists(own) ? own : expandPath(DEFAULT_SOCKET, cwd, home);
  return { socket, userdir, autostart: true };
}
