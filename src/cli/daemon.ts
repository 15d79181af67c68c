/**
 * `sjq daemon`: runs the job queue daemon, in the foreground or detached.
 *
 * @module
 */

import type { ConfigKey } from "../config.ts";
import type { ConfigInput, LoadedConfig } from "../config_loader.ts";
import { Daemon } from "../daemon.ts";
import type { Reply } from "../reply.ts";
import { checkDaemonPaths, ownerOnly } from "../daemon_files.ts";
import {
  LiveConfig,
  loadDaemonConfig,
  readSavedSettings,
  type SavedSettings,
  saveSettings,
} from "../live_config.ts";
import { Logger } from "../log.ts";
import { detectGpus } from "../gpus.ts";
import { type Caller, mayActOnDaemon } from "../authorization.ts";
import { DEFAULT_LIMITS, type Request } from "../protocol.ts";
import { checkSocketPath, defaultMaxConnections, Server } from "../server.ts";
import { userSocketPath, UserSockets } from "../user_sockets.ts";
import { flagNames, flagsOnlyCommand, out } from "./common.ts";
import { DAEMON_FLAGS, daemonAnswers, startDetached } from "./detach.ts";

const HELP = `sjq daemon: run the job queue daemon

Usage: sjq daemon [--detach | --foreground] [options]

Runs jobs submitted over the socket, first come first served within the CPUs
and memory it manages. Stops on SHUTDOWN (sjq shutdown), SIGTERM or SIGINT
(running jobs go on and are adopted by the next daemon), or after
sjq.waittime seconds with nothing running or queued (sjq.autoshutdown).

Options (each overrides its configuration key; see 'sjq config'):
  -d, --detach          run in the background; print the daemon's pid once it answers
  --foreground          stay in the foreground even when sjq.daemon=T
  --socket PATH         sjq.socket       (default $HOME/.sjq.sock)
  --db PATH             sjq.db           (default $HOME/.sjq.db)
  --logfile PATH        sjq.logfile      (default: stderr; $HOME/.sjq.log when detached)
  --pidfile PATH        sjq.pidfile
  --maxprocs N          sjq.maxprocs     (default: all CPUs)
  --maxmem SIZE         sjq.maxmem       (default: unlimited)
  --default-procs N     sjq.defaults.procs (default 1)
  --default-mem SIZE    sjq.defaults.mem (default 2G)
  --autoshutdown BOOL   sjq.autoshutdown (default T)
  --waittime SECONDS    sjq.waittime     (default 60)
  --schedtime SECONDS   sjq.schedtime    (default 10)
  --keepdone DURATION   sjq.keepdone     (default 30d)
  --killgrace SECONDS   sjq.killgrace    (default 10)
  --maxscript SIZE      sjq.maxscript    (default 16M)
  --maxconnections N    sjq.maxconnections (default: half the open-file limit, 16 to 4096)
  --multiuser BOOL      sjq.multiuser    (default F): as root, serve every user (docs/security.md)
  --userdir PATH        sjq.userdir      (default /run/sjq/u): each user's socket, <uid>.sock
  --user-minuid N       sjq.user.minuid  (default 1000): lower uids but root get no socket
  --user-maxprocs N     sjq.user.maxprocs (default: none): CPUs one user's jobs may hold
  --user-maxjobs N      sjq.user.maxjobs (default: none): jobs one user may have waiting or running
  --backend NAME        sjq.backend      (default local; slurm: see docs/slurm.md)
  --slurm-options OPTS  sjq.slurm.options (sbatch options for every job)
  --slurm-poll DURATION sjq.slurm.poll   (default 5s: longest interval between polls)
  --contain BOOL        sjq.contain      (default T: a job's escaped processes end with it)
  --gpus N|IDS          sjq.gpus         (default: nvidia-smi -L): a count, or device ids 0,1,3
  -h, --help            show this help

Examples:
  sjq daemon --detach --maxprocs 16 --maxmem 64G
  sjq daemon --autoshutdown F          # foreground, logs to stderr
  sjq daemon --multiuser T --autoshutdown F --db /var/lib/sjq/sjq.db   # one daemon for a lab
`;

const OPTIONS = {
  detach: { type: "boolean", short: "d" },
  foreground: { type: "boolean" },
  /** Internal: where a detaching parent waits for "ok <pid>" or "error <message>". */
  "startup-report": { type: "string" },
  /** Internal: started by a client that found no daemon; takes the saved settings. */
  autostarted: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  ...Object.fromEntries(Object.keys(DAEMON_FLAGS).map((k) => [k, { type: "string" as const }])),
} as const;

/** `sjq daemon`. */
export const daemonCommand = flagsOnlyCommand({
  name: "daemon",
  summary: "run the job queue daemon",
  help: HELP,
  options: OPTIONS,
  flags: flagNames(OPTIONS).filter((f) => f !== "--startup-report" && f !== "--autostarted"),
}, async (values) => {
  const flags = configFlags(values as Record<string, string | boolean | undefined>);
  const input: ConfigInput = {
    flags,
    env: Deno.env.toObject(),
    home: Deno.env.get("HOME") ?? "/",
    cpus: navigator.hardwareConcurrency,
    gpus: detectGpus,
    cwd: Deno.cwd(),
  };
  const autostarted = values.autostarted === true;
  let saved: SavedSettings | null = null;
  let loaded = loadDaemonConfig(input, null);
  if (autostarted) {
    saved = readSavedSettings(loaded.config.db);
    if (saved !== null) loaded = loadDaemonConfig(input, saved);
  }
  for (const w of loaded.warnings) console.error(`warning: ${w}`);
  const detach = values.detach === true || (loaded.config.daemon && values.foreground !== true);
  if (detach) {
    const pid = await startDetached(loaded, flags);
    out(`${pid}\n`);
    return 0;
  }
  const live = { input, saved, autostarted };
  return await runForeground(loaded, values["startup-report"] ?? null, live);
});

/** The configuration flags among parsed values. */
function configFlags(
  values: Record<string, string | boolean | undefined>,
): Partial<Record<ConfigKey, string>> {
  const flags: Partial<Record<ConfigKey, string>> = {};
  for (const [flag, key] of Object.entries(DAEMON_FLAGS)) {
    const v = values[flag];
    if (typeof v === "string") flags[key] = v;
  }
  return flags;
}

/** Runs the daemon in this process until it stops; returns the exit code. */
async function runForeground(
  loaded: LoadedConfig,
  report: string | null,
  start: { input: ConfigInput; saved: SavedSettings | null; autostarted: boolean },
): Promise<number> {
  const { config } = loaded;
  const since = Date.now();
  try {
    if (await daemonAnswers(config.socket)) {
      throw new Error(`an sjq daemon is already running on ${config.socket}`);
    }
    checkDaemonPaths(config);
    // A multi-user daemon's own socket may be root's socket among the users' (the client default).
    const ownInUserdir = config.multiuser && config.socket === userSocketPath(config.userdir, 0);
    if (!ownInUserdir) checkSocketPath(config.socket);
    if (config.multiuser && Deno.uid() !== 0) {
      throw new Error("sjq.multiuser needs a daemon running as root (docs/security.md)");
    }
    if (config.multiuser && config.backend !== "local") {
      // Only the local executor runs a job as its submitter (src/as_user.ts).
      throw new Error(
        `sjq.multiuser runs jobs with the local backend only, not "${config.backend}"`,
      );
    }
    using lock = lockDatabase(config.db);
    // Saved for the next auto-started daemon: the settings of one started by hand.
    if (!start.autostarted) saveSettings(config.db, start.input.flags);
    const log = new Logger(config.logfile);
    const daemon = await Daemon.open(config, log);
    const live = new LiveConfig(loaded, start.input, start.saved, () => daemon.reconfigured());
    const reload = () => {
      try {
        const lines = live.reload();
        log.info(`reloaded ${loaded.file ?? "(no rc file)"}: ${lines.join("; ") || "no change"}`);
        return lines;
      } catch (e) {
        log.error(`reload failed, settings unchanged: ${(e as Error).message}`);
        throw e;
      }
    };
    const handler = (req: Request, caller: Caller, gone: AbortSignal): Promise<Reply> => {
      if (req.kind === "config") return Promise.resolve(counted(JSON.stringify(live.describe())));
      if (req.kind === "reload") {
        const denied = config.multiuser ? mayActOnDaemon(caller, "reload") : null;
        if (denied !== null) return Promise.resolve({ line: `ERROR ${denied.denied}` });
        try {
          return Promise.resolve(counted(reload().map((l) => `${l}\n`).join("")));
        } catch (e) {
          return Promise.resolve({ line: `ERROR ${(e as Error).message.replaceAll("\n", " ")}` });
        }
      }
      return daemon.handle(req, caller, gone);
    };
    const limits = {
      ...DEFAULT_LIMITS,
      maxScript: config.maxscript,
      maxConnections: config.maxconnections ?? defaultMaxConnections(),
    };
    const server = ownInUserdir ? null : Server.listen(config.socket, handler, limits);
    const users = config.multiuser
      ? UserSockets.open({ dir: config.userdir, handler, limits, minUid: config.minUid, log })
      : null;
    if (config.pidfile) Deno.writeTextFileSync(config.pidfile, `${Deno.pid}\n`);
    // A daemon stays up: a bug in one handler or timer is logged, not fatal.
    globalThis.addEventListener("unhandledrejection", (e) => {
      e.preventDefault();
      log.error(`unhandled: ${e.reason?.stack ?? e.reason}`);
    });
    globalThis.addEventListener("error", (e) => {
      e.preventDefault();
      log.error(`uncaught: ${e.error?.stack ?? e.message}`);
    });
    const onSignal = () => daemon.stop("signal");
    Deno.addSignalListener("SIGTERM", onSignal);
    Deno.addSignalListener("SIGINT", onSignal);
    const onHangup = () => {
      try {
        reload();
      } catch { /* logged */ }
    };
    Deno.addSignalListener("SIGHUP", onHangup);
    log.info(
      `sjq daemon ${Deno.pid} listening on ${config.socket} (maxprocs ${config.maxprocs}, db ${config.db})`,
    );
    if (users) {
      log.info(`serving uids ${users.uids.join(" ")} through ${config.userdir}/<uid>.sock`);
    }
    if (report) Deno.writeTextFileSync(report, `ok ${Deno.pid}\n`);
    daemon.kick();
    daemon.stopping.then(() => {
      server?.close();
      users?.close();
    });
    const reason = await daemon.stopped;
    Deno.removeSignalListener("SIGTERM", onSignal);
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGHUP", onHangup);
    if (config.pidfile) Deno.removeSync(config.pidfile);
    void lock;
    const code = reason === "fatal" ? 1 : 0;
    const took = ((Date.now() - since) / 1000).toFixed(3);
    log.info(`sjq daemon ${Deno.pid} exiting: exit code ${code} after ${took} s`);
    log.close();
    return code;
  } catch (e) {
    if (report) Deno.writeTextFileSync(report, `error ${(e as Error).message}\n`);
    throw e;
  }
}

/** Holds an exclusive lock on `<db>.lock` (containing our pid) while one daemon uses the database. */
function lockDatabase(db: string): Disposable {
  const path = `${db}.lock`;
  const file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
  ownerOnly(path);
  if (!file.tryLockSync(true)) {
    const pid = Deno.readTextFileSync(path).trim();
    file.close();
    throw new Error(`another sjq daemon${pid ? ` (pid ${pid})` : ""} is using ${db}`);
  }
  file.truncateSync(0);
  const pid = new TextEncoder().encode(`${Deno.pid}\n`);
  for (let off = 0; off < pid.length;) off += file.writeSync(pid.subarray(off));
  return { [Symbol.dispose]: () => file.close() };
}

/** An `OK <n>` reply with an n-byte payload. */
function counted(text: string): { line: string; payload: Uint8Array } {
  const payload = new TextEncoder().encode(text);
  return { line: `OK ${payload.length}`, payload };
}
