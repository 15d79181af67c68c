/**
 * The configuration: every key with its field, kind, default, environment
 * variable and flag ({@linkcode CONFIG_KEYS}), and the effective
 * configuration they make up ({@linkcode Config}). Where the values come
 * from is src/config_loader.ts's; how each kind is written,
 * src/config_values.ts's.
 *
 * @module
 */

import type { QueueLimits } from "./queue_config.ts";

/** The effective configuration of a client or daemon. Sizes are in bytes, durations in seconds. */
export interface Config {
  /** `sjq.socket`: the daemon's Unix socket. */
  socket: string;
  /** `sjq.logfile`: the daemon's log; null leaves the choice to the caller. */
  logfile: string | null;
  /** `sjq.daemon`: whether `sjq daemon` detaches. */
  daemon: boolean;
  /** `sjq.pidfile`: where the daemon writes its process id; null for nowhere. */
  pidfile: string | null;
  /** `sjq.autoshutdown`: whether an idle daemon exits after `waittime`. */
  autoshutdown: boolean;
  /** `sjq.schedtime`: seconds between periodic scheduling passes, more than 0. */
  schedtime: number;
  /** `sjq.waittime`: seconds an idle daemon waits before an autoshutdown. */
  waittime: number;
  /** `sjq.maxprocs`: CPUs shared by running jobs, at least 1. */
  maxprocs: number;
  /** `sjq.maxmem`: memory shared by running jobs; null for unlimited. */
  maxmem: number | null;
  /** `sjq.defaults.procs`: CPUs of a job submitted without PROCS, at most `maxprocs`. */
  defaultProcs: number;
  /** `sjq.defaults.mem`: memory of a job submitted without MEM, at most `maxmem`. */
  defaultMem: number;
  /** `sjq.db`: the job database. */
  db: string;
  /** `sjq.keepdone`: seconds finished jobs are kept; 0 keeps them forever. */
  keepdone: number;
  /** `sjq.killgrace`: seconds from SIGTERM to SIGKILL when a running job is killed. */
  killgrace: number;
  /** `sjq.maxscript`: the largest script SUBMIT accepts. */
  maxscript: number;
  /** `sjq.maxconnections`: client connections the daemon serves at once; null derives it from the file-descriptor limit. */
  maxconnections: number | null;
  /** `sjq.autostart`: whether a client starts the daemon when none answers. */
  autostart: boolean;
  /** `sjq.backend`: the executor that runs jobs (src/executors.ts), e.g. `local`. */
  backend: string;
  /** `sjq.multiuser`: whether a root daemon serves every user, each through a socket of their own. */
  multiuser: boolean;
  /** `sjq.userdir`: the directory of the per-user sockets of a multi-user daemon. */
  userdir: string;
  /** `sjq.user.minuid`: the lowest uid (but root's) that may submit to a multi-user daemon. */
  minUid: number;
  /** `sjq.user.maxprocs`: CPUs one user's running jobs may hold together; null for no limit. */
  userMaxprocs: number | null;
  /** `sjq.user.maxjobs`: jobs one user may have waiting or running; null for no limit. */
  userMaxjobs: number | null;
  /** `sjq.slurm.options`: sbatch arguments for every job of the Slurm backend; null for none. */
  slurmOptions: string | null;
  /** `sjq.slurm.poll`: longest interval between two polls of Slurm, in seconds. */
  slurmPoll: number;
  /** `sjq.contain`: whether a job's escaped descendants are ended with it. */
  contain: boolean;
  /** `sjq.gpus`: the GPU device ids jobs are given (`CUDA_VISIBLE_DEVICES`); empty for none. */
  gpus: string[];
  /** `sjq.defaults.queue`: the queue of a job submitted without one; it always exists. */
  defaultQueue: string;
  /** The queues configured by `[sjq.queue.NAME]` sections (src/queue_config.ts); `defaultQueue` exists besides. */
  queues: Record<string, QueueLimits>;
  /** `sjq.notify`: a command run when any job ends (as `--notify`); null for none. */
  notify: string | null;
  /** `sjq.mail`: where a mail goes when any job ends (as `--mail`); null for nowhere. */
  mail: string | null;
  /** `sjq.sendmail`: the sendmail program mails go through; null finds one (src/mail.ts). */
  sendmail: string | null;
  /** `sjq.memmargin`: memory kept free beyond what a starting job declares (src/memory_gate.ts); 0 for none. */
  memmargin: number;
  /** `sjq.enforce`: `memory` limits each job to its declared memory (src/memory_cgroup.ts); `none` does not. */
  enforce: "none" | "memory";
}

/** How a configuration value is written. */
export type ConfigKind =
  | "path"
  | "bool"
  | "int"
  | "size"
  | "duration"
  | "word"
  | "text"
  | "devices";

/** The description of one configuration key: a row of {@linkcode CONFIG_KEYS}. */
export interface ConfigKeyInfo {
  /** The dotted key, as written in the rc file. */
  key: string;
  /** The {@linkcode Config} field it sets. */
  field: keyof Config;
  /** How its value is written. */
  kind: ConfigKind;
  /** The default as written in the rc file; empty means the one `doc` describes. */
  default: string;
  /** The environment variable that sets it. */
  env: string;
  /** The command-line option that sets it, without `--`, as error messages name it. */
  flag: string;
  /** One line for help texts and the README. */
  doc: string;
}

/** Every configuration key, in the order help texts list them. */
export const CONFIG_KEYS = [
  {
    key: "sjq.socket",
    field: "socket",
    kind: "path",
    default: "~/.sjq.sock",
    env: "SJQ_SOCKET",
    flag: "socket",
    doc: "Unix socket of the daemon",
  },
  {
    key: "sjq.logfile",
    field: "logfile",
    kind: "path",
    default: "",
    env: "SJQ_LOGFILE",
    flag: "logfile",
    doc: "Daemon log; if empty, stderr in the foreground and ~/.sjq.log when detached",
  },
  {
    key: "sjq.daemon",
    field: "daemon",
    kind: "bool",
    default: "false",
    env: "SJQ_DAEMON",
    flag: "daemon",
    doc: "Whether `sjq daemon` detaches from the terminal",
  },
  {
    key: "sjq.pidfile",
    field: "pidfile",
    kind: "path",
    default: "",
    env: "SJQ_PIDFILE",
    flag: "pidfile",
    doc: "File the daemon writes its process id to; none if empty",
  },
  {
    key: "sjq.autoshutdown",
    field: "autoshutdown",
    kind: "bool",
    default: "true",
    env: "SJQ_AUTOSHUTDOWN",
    flag: "autoshutdown",
    doc: "Whether the daemon exits after sjq.waittime with no job running or waiting",
  },
  {
    key: "sjq.schedtime",
    field: "schedtime",
    kind: "duration",
    default: "10s",
    env: "SJQ_SCHEDTIME",
    flag: "schedtime",
    doc: "Interval of the periodic scheduling pass (a safety net; scheduling is event-driven)",
  },
  {
    key: "sjq.waittime",
    field: "waittime",
    kind: "duration",
    default: "60s",
    env: "SJQ_WAITTIME",
    flag: "waittime",
    doc: "Idle time after which the daemon exits if sjq.autoshutdown is on",
  },
  {
    key: "sjq.maxprocs",
    field: "maxprocs",
    kind: "int",
    default: "",
    env: "SJQ_MAXPROCS",
    flag: "maxprocs",
    doc: "CPUs shared by running jobs; all CPUs if empty",
  },
  {
    key: "sjq.maxmem",
    field: "maxmem",
    kind: "size",
    default: "",
    env: "SJQ_MAXMEM",
    flag: "maxmem",
    doc: "Memory shared by running jobs; unlimited if empty",
  },
  {
    key: "sjq.defaults.procs",
    field: "defaultProcs",
    kind: "int",
    default: "1",
    env: "SJQ_DEFAULTS_PROCS",
    flag: "default-procs",
    doc: "CPUs of a job submitted without a CPU count",
  },
  {
    key: "sjq.defaults.mem",
    field: "defaultMem",
    kind: "size",
    default: "2G",
    env: "SJQ_DEFAULTS_MEM",
    flag: "default-mem",
    doc: "Memory of a job submitted without a memory size",
  },
  {
    key: "sjq.db",
    field: "db",
    kind: "path",
    default: "~/.sjq.db",
    env: "SJQ_DB",
    flag: "db",
    doc: "Job database of the daemon",
  },
  {
    key: "sjq.keepdone",
    field: "keepdone",
    kind: "duration",
    default: "30d",
    env: "SJQ_KEEPDONE",
    flag: "keepdone",
    doc: "How long finished jobs are kept; 0 keeps them forever",
  },
  {
    key: "sjq.killgrace",
    field: "killgrace",
    kind: "duration",
    default: "10s",
    env: "SJQ_KILLGRACE",
    flag: "killgrace",
    doc: "Time from SIGTERM to SIGKILL when a running job is killed",
  },
  {
    key: "sjq.maxscript",
    field: "maxscript",
    kind: "size",
    default: "16M",
    env: "SJQ_MAXSCRIPT",
    flag: "maxscript",
    doc: "Largest job script the daemon accepts",
  },
  {
    key: "sjq.maxconnections",
    field: "maxconnections",
    kind: "int",
    default: "",
    env: "SJQ_MAXCONNECTIONS",
    flag: "maxconnections",
    doc: "Client connections served at once, more are refused; half the open-file limit if empty",
  },
  {
    key: "sjq.autostart",
    field: "autostart",
    kind: "bool",
    default: "true",
    env: "SJQ_AUTOSTART",
    flag: "autostart",
    doc: "Whether a client starts the daemon when none is running",
  },
  {
    key: "sjq.backend",
    field: "backend",
    kind: "word",
    default: "local",
    env: "SJQ_BACKEND",
    flag: "backend",
    doc: "What runs the jobs: local (processes on this machine) or slurm (docs/slurm.md)",
  },
  {
    key: "sjq.slurm.options",
    field: "slurmOptions",
    kind: "text",
    default: "",
    env: "SJQ_SLURM_OPTIONS",
    flag: "slurm-options",
    doc: "sbatch options for every job of the Slurm backend, e.g. --partition=batch",
  },
  {
    key: "sjq.slurm.poll",
    field: "slurmPoll",
    kind: "duration",
    default: "5s",
    env: "SJQ_SLURM_POLL",
    flag: "slurm-poll",
    doc: "Longest interval between two polls of Slurm (idle polls back off to it)",
  },
  {
    key: "sjq.multiuser",
    field: "multiuser",
    kind: "bool",
    default: "false",
    env: "SJQ_MULTIUSER",
    flag: "multiuser",
    doc: "A root daemon for every user: a socket each in sjq.userdir, jobs run as their submitter",
  },
  {
    key: "sjq.userdir",
    field: "userdir",
    kind: "path",
    default: "/run/sjq/u",
    env: "SJQ_USERDIR",
    flag: "userdir",
    doc: "Where a multi-user daemon puts each user's socket (<uid>.sock)",
  },
  {
    key: "sjq.user.minuid",
    field: "minUid",
    kind: "int",
    default: "1000",
    env: "SJQ_USER_MINUID",
    flag: "user-minuid",
    doc: "Lowest uid but root's with a socket of a multi-user daemon (system accounts are below)",
  },
  {
    key: "sjq.user.maxprocs",
    field: "userMaxprocs",
    kind: "int",
    default: "",
    env: "SJQ_USER_MAXPROCS",
    flag: "user-maxprocs",
    doc: "CPUs the running jobs of one user may hold together; no limit if empty",
  },
  {
    key: "sjq.user.maxjobs",
    field: "userMaxjobs",
    kind: "int",
    default: "",
    env: "SJQ_USER_MAXJOBS",
    flag: "user-maxjobs",
    doc: "Jobs one user may have queued, held or running at once; no limit if empty",
  },
  {
    key: "sjq.contain",
    field: "contain",
    kind: "bool",
    default: "true",
    env: "SJQ_CONTAIN",
    flag: "contain",
    doc: "End every process a job started (also those that left its group or session) with it",
  },
  {
    key: "sjq.gpus",
    field: "gpus",
    kind: "devices",
    default: "",
    env: "SJQ_GPUS",
    flag: "gpus",
    doc:
      "GPUs for jobs: a count N (devices 0..N-1) or device ids 0,1,3; from nvidia-smi -L if empty",
  },
  {
    key: "sjq.defaults.queue",
    field: "defaultQueue",
    kind: "word",
    default: "default",
    env: "SJQ_DEFAULTS_QUEUE",
    flag: "default-queue",
    doc: "Queue of a job submitted without --queue; other queues are [sjq.queue.NAME] sections",
  },
  {
    key: "sjq.notify",
    field: "notify",
    kind: "text",
    default: "",
    env: "SJQ_NOTIFY",
    flag: "notify",
    doc: "Command run by /bin/sh when any job ends (as submit --notify); none if empty",
  },
  {
    key: "sjq.mail",
    field: "mail",
    kind: "text",
    default: "",
    env: "SJQ_MAIL",
    flag: "mail",
    doc: "Address mailed when any job ends (as submit --mail, through sendmail); none if empty",
  },
  {
    key: "sjq.sendmail",
    field: "sendmail",
    kind: "path",
    default: "",
    env: "SJQ_SENDMAIL",
    flag: "sendmail",
    doc:
      "The sendmail program for --mail; if empty, /usr/sbin/sendmail, /usr/lib/sendmail or PATH's",
  },
  {
    key: "sjq.enforce",
    field: "enforce",
    kind: "word",
    default: "none",
    env: "SJQ_ENFORCE",
    flag: "enforce",
    doc:
      "memory: the kernel ends a job that takes more than it declared (cgroup v2); none: it does not",
  },
  {
    key: "sjq.memmargin",
    field: "memmargin",
    kind: "size",
    default: "256M",
    env: "SJQ_MEMMARGIN",
    flag: "memmargin",
    doc:
      "A job starts only while MemAvailable holds its memory and this much more (0 for no margin)",
  },
] as const satisfies readonly ConfigKeyInfo[];

/** `sjq.maxprocs` of the Slurm backend when it is not set: no limit of sjq's own. */
export const UNLIMITED_PROCS = 1_000_000;

/** A configuration key by its dotted name, e.g. `sjq.maxprocs`. */
export type ConfigKey = (typeof CONFIG_KEYS)[number]["key"];

/** A configuration that cannot be used: a bad value, an unreadable rc file, clashing limits. */
export class ConfigError extends Error {
  override name = "ConfigError";
}
