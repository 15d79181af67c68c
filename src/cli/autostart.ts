/**
 * Auto-start: a client command that needs a daemon starts one when none
 * answers, detached and configured as usual (autoshutdown included).
 *
 * Many clients may find no daemon at the same moment (a burst of submits
 * from a script or from cron). They queue on an exclusive lock beside the
 * socket, so one of them starts the daemon and the others find it answering.
 * The daemon's own lock on its database is the final guard: a client that
 * starts a daemon anyway (the lock file could not be made, or a daemon was
 * started by hand meanwhile) sees it refuse and waits for the one that won.
 *
 * @module
 */

import { Client, NoDaemonError } from "../client.ts";
import type { LoadedConfig } from "../config_loader.ts";
import {
  clientConfig,
  clientSettings,
  type ClientValues,
  socketProblem,
  startCommand,
} from "./common.ts";
import { lazyImport } from "./lazy.ts";

/** How long a client that lost the race waits for the winner's daemon to answer. */
const RACE_TIMEOUT_MS = 30_000;
/** How long it waits before it tries again, in case the daemon holding the database was stopping. */
const RETRY_MS = 2_000;

/**
 * Connects to the daemon a client command is configured for, starting one
 * when none answers, unless `--no-autostart` or `sjq.autostart=F`.
 *
 * @throws {NoDaemonError} When no daemon answers and auto-start is off.
 */
export async function connectDaemon(values: ClientValues): Promise<Client> {
  const settings = await clientSettings(values);
  const socket = settings.socket;
  const first = await tryConnect(socket);
  if (first !== null) return first;
  // A user's socket of a multi-user daemon (sjq.userdir) is root's to serve: never start one there.
  const lab = socket.startsWith(`${settings.userdir.replace(/\/+$/, "")}/`);
  if (values["no-autostart"] === true || !settings.autostart || lab) {
    const hint = lab ? "sudo sjq daemon --multiuser T" : startCommand(values, socket);
    throw new NoDaemonError(socket, undefined, hint);
  }
  notASocket(socket);
  using _lock = await startLock(socket);
  const again = await tryConnect(socket);
  if (again !== null) return again;
  await start(await clientConfig(values));
  return await Client.connect(socket);
}

async function tryConnect(socket: string): Promise<Client | null> {
  try {
    return await Client.connect(socket);
  } catch (e) {
    if (e instanceof NoDaemonError) return null;
    throw e;
  }
}

/**
 * Takes the exclusive lock `<socket>.lock`, waiting for whoever holds it.
 * Where the lock file cannot be made, goes on without it: the daemon's
 * database lock still lets only one daemon run.
 */
async function startLock(socket: string): Promise<Disposable> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(`${socket}.lock`, {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
  } catch {
    return { [Symbol.dispose]: () => {} };
  }
  await file.lock(true);
  return { [Symbol.dispose]: () => file.close() };
}

/**
 * Starts the daemon. When another daemon holds the database, it is either
 * starting (wait until it answers) or stopping (then try again).
 */
async function start(loaded: LoadedConfig): Promise<void> {
  // Loaded only here: a client that finds its daemon answering never needs it.
  const { DaemonStartError, startDetached } = await lazyImport<typeof import("./detach.ts")>(
    "./detach.ts",
    import.meta.url,
  );
  const { socket } = loaded.config;
  const deadline = Date.now() + RACE_TIMEOUT_MS;
  for (;;) {
    try {
      const pid = await startDetached(loaded, { "sjq.socket": socket }, true);
      if (Deno.stderr.isTerminal()) {
        const idle = loaded.config.autoshutdown
          ? `; it exits after ${loaded.config.waittime} s idle`
          : "";
        console.error(`sjq: started a daemon (pid ${pid}) on ${socket}${idle}`);
      }
      return;
    } catch (e) {
      const lostRace = e instanceof DaemonStartError && /already running|is using/.test(e.reason);
      if (!lostRace || Date.now() > deadline) throw e;
    }
    for (const retry = Date.now() + RETRY_MS; Date.now() < retry;) {
      const client = await tryConnect(socket);
      if (client !== null) return client[Symbol.dispose]();
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Throws when no daemon could listen at `socket` (see socketProblem). */
function notASocket(socket: string): void {
  const problem = socketProblem(socket);
  if (problem !== null) throw new Error(problem);
}
