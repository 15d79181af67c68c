/**
 * SUBMIT (`sjq submit`): a new job (or array) checked against the limits,
 * its dependencies, its user and its paths, then stored and scheduled.
 *
 * @module
 */

import { abortReason, type Dependency, type JobRecord } from "./job.ts";
import type { Request } from "./protocol.ts";
import { accountOf } from "./job_environment.ts";
import { outputPath } from "./output_path.ts";
import { formatSize } from "./size.ts";
import { gpuRefusal } from "./gpus.ts";
import { formatArraySpec, taskCount } from "./array_spec.ts";
import { taskOutputPattern } from "./arrays.ts";
import type { Caller } from "./authorization.ts";
import { submitter } from "./submitter.ts";
import { currentAccounts } from "./user_accounts.ts";
import type { DaemonContext } from "./daemon_context.ts";
import { resolveJob } from "./job_queries.ts";
import { error, ok, type Reply } from "./reply.ts";
import type { RunningJobs } from "./running_jobs.ts";
import { findSendmail } from "./mail.ts";
import { queueRefusals } from "./queue_config.ts";
import { memTotal } from "./memory_gate.ts";
import { isDirectory } from "./file_tests.ts";

/** SUBMIT (`sjq submit`): validates everything, stores the job, answers its id. */
export function submit(
  ctx: DaemonContext,
  jobs: RunningJobs,
  req: Extract<Request, { kind: "submit" }>,
  caller: Caller,
): Reply {
  const { config, store, scheduler } = ctx;
  if (ctx.stopping()) return error("The daemon is shutting down");
  const o = req.options;
  const errors = [...req.errors];
  const procs = o.procs ?? config.defaultProcs;
  const mem = o.mem ?? config.defaultMem;
  if (procs > config.maxprocs) {
    errors.push(`PROCS ${procs} is more than sjq.maxprocs (${config.maxprocs})`);
  }
  if (config.maxmem !== null && mem > config.maxmem) {
    errors.push(
      `MEM ${formatSize(mem)} is more than sjq.maxmem (${formatSize(config.maxmem)})`,
    );
  } else if (config.maxmem === null && config.backend === "local") {
    // Unlimited means "what the machine has": more could never be available.
    const total = memTotal();
    if (total !== null && mem > total) {
      errors.push(
        `MEM ${formatSize(mem)} is more than this machine's memory (${
          formatSize(total)
        }); a larger sjq.maxmem allows it`,
      );
    }
  }
  const gpus = o.gpus ?? 0;
  const noGpus = gpuRefusal(gpus, config.gpus);
  if (noGpus !== null) errors.push(noGpus);
  if (o.notify !== undefined && config.multiuser) {
    errors.push("NOTIFY is not supported by a multi-user daemon yet (it would run as root)");
  }
  const queue = o.queue ?? config.defaultQueue;
  errors.push(...queueRefusals(config, queue, procs, mem, formatSize));
  if (o.mail !== undefined && findSendmail(config.sendmail) === null) {
    errors.push("MAIL needs a sendmail program, and there is none (sjq.sendmail)");
  }
  const deps = _checkDeps(ctx, o.deps.map((d) => _depOnTask(ctx, d, errors)), errors);
  const user = submitter(
    {
      multiuser: config.multiuser,
      minUid: config.minUid,
      uid: ctx.uid,
      gid: ctx.gid,
      home: accountOf(ctx.uid).home,
      accounts: config.multiuser ? currentAccounts() : new Map(),
    },
    caller,
    o,
  );
  if ("denied" in user) return error(user.denied);
  if (config.multiuser) {
    errors.push(
      ..._userLimits(ctx, user.uid, procs, o.array === undefined ? 1 : taskCount(o.array)),
    );
  }
  const cwd = o.cwd ?? user.home;
  if (!cwd.startsWith("/")) errors.push(`CWD must be an absolute path: ${cwd}`);
  else if (!_isDirectory(cwd)) errors.push(`CWD is not an existing directory: ${cwd}`);
  const id = ctx.lastId + 1;
  const [stdout, stderr] = (["stdout", "stderr"] as const).map((kind) => {
    const place = {
      id,
      name: o.name ?? "job",
      user: accountOf(user.uid).name,
      cwd,
      kind,
      isDirectory: _isDirectory,
    };
    // An array's tasks inherit its output names as patterns (src/arrays.ts).
    const given = o.array === undefined ? o[kind] : taskOutputPattern(o[kind], place);
    const out = outputPath(given, place);
    if (out.error !== undefined) errors.push(out.error);
    return out.path;
  }) as [string, string];
  if (errors.length > 0) return error(errors.join("; "));

  const now = Date.now();
  const count = o.array === undefined ? 0 : taskCount(o.array);
  const entry = {
    id,
    procs,
    mem,
    deps,
    hold: o.hold,
    owner: user.uid,
    priority: o.priority ?? 0,
    gpus,
    queue,
  };
  const added = o.array === undefined ? scheduler.add(entry, ctx.endedState) : scheduler.addArray(
    { ...entry, first: id + 1, count, max: o.array.max },
    ctx.endedState,
  );
  ctx.lastId = id + count;
  const job: JobRecord = {
    id,
    name: o.name ?? "job",
    state: added.state,
    procs,
    mem,
    deps,
    cwd,
    stdout,
    stderr,
    env: Object.fromEntries(o.env),
    uid: user.uid,
    gid: user.gid,
    timeout: o.timeout ?? null,
    submitted: now,
    started: null,
    ended: added.state === "A" ? now : null,
    exitCode: null,
    reason: added.state === "A" ? abortReason(added.cause, added.causeState) : null,
    pid: null,
    stopping: null,
    handle: null,
    ...(o.args.length > 0 ? { args: o.args } : {}),
    ...(o.priority ? { priority: o.priority } : {}),
    queue,
    ...(o.slurmOpts === undefined ? {} : { slurmOpts: o.slurmOpts }),
  };
  if (o.array === undefined) {
    store.insert(job, req.script);
    if (o.retries) store.setRetries(id, o.retries, o.retryDelay ?? null);
    if (o.notify !== undefined) store.setNotify(id, o.notify);
    if (o.mail !== undefined) store.setMail(id, o.mail);
    if (job.state === "A") jobs.notify(id); // aborted at once: it ended now
  } else {
    const tasks = { first: id + 1, ranges: o.array.ranges, state: job.state, reason: job.reason };
    if (job.state !== "A") job.state = "H";
    store.insertArray({ ...job, array: formatArraySpec(o.array) }, req.script, tasks);
    if (o.notify !== undefined) store.setNotify(id, o.notify);
    if (o.mail !== undefined) store.setMail(id, o.mail);
  }
  if (gpus > 0) store.setGpus(id, id + count, gpus);
  return ok(String(id));
}

/** A dependency on an array's task made one on that task's job; an unknown task is an error. */
function _depOnTask(
  ctx: DaemonContext,
  dep: Dependency & { task?: number },
  errors: string[],
): Dependency {
  if (dep.task === undefined) return dep;
  const id = resolveJob(ctx.store, dep);
  if (id === 0) errors.push(`Unknown array task ${dep.id}_${dep.task}`);
  return { id: id || dep.id, kind: dep.kind };
}

/** Why `jobs` new jobs (tasks) of `uid` with `procs` each are over the per-user limits (sjq.user.*), if it is. */
function _userLimits(ctx: DaemonContext, uid: number, procs: number, jobs: number): string[] {
  const { userMaxprocs, userMaxjobs } = ctx.config;
  const over: string[] = [];
  if (userMaxprocs !== null && procs > userMaxprocs) {
    over.push(`PROCS ${procs} is more than sjq.user.maxprocs (${userMaxprocs})`);
  }
  if (userMaxjobs !== null && ctx.scheduler.activeOf(uid) + jobs > userMaxjobs) {
    over.push(
      `uid ${uid} may have at most ${userMaxjobs} jobs waiting or running (sjq.user.maxjobs)`,
    );
  }
  return over;
}

/** Deduplicated dependencies; unknown ids and conflicting kinds are added to `errors`. */
function _checkDeps(
  ctx: DaemonContext,
  deps: readonly Dependency[],
  errors: string[],
): Dependency[] {
  const byId = new Map<number, Dependency>();
  for (const dep of deps) {
    const seen = byId.get(dep.id);
    if (seen !== undefined && seen.kind !== dep.kind) {
      errors.push(`Job ${dep.id} is named as both ${seen.kind} and ${dep.kind} dependency`);
    } else if (ctx.scheduler.get(dep.id) === undefined && ctx.endedState(dep.id) === undefined) {
      errors.push(
        `Unknown job ${dep.id} in ${dep.kind === "afterok" ? "DEPENDS" : dep.kind.toUpperCase()}`,
      );
    }
    byId.set(dep.id, dep);
  }
  return [...byId.values()];
}

/**
 * Paths looked up in this turn of the event loop, and whether each is a
 * directory: requests that arrived together (a pipelined batch, one tick)
 * share one `stat` of each path (their CWD, their output directories).
 */
const _directories = new Map<string, boolean>();

function _isDirectory(path: string): boolean {
  let known = _directories.get(path);
  if (known !== undefined) return known;
  if (_directories.size === 0) queueMicrotask(() => _directories.clear());
  known = isDirectory(path);
  _directories.set(path, known);
  return known;
}
