/**
 * What the daemon's parts share: the configuration, the durable state
 * (store) and the live state (scheduler), the executor, and the means to
 * act once the open tick is committed (src/group_commit.ts). The request
 * handlers and the running-job bookkeeping are given this, never the
 * daemon itself.
 *
 * @module
 */

import type { Config } from "./config.ts";
import type { Executor } from "./executor.ts";
import type { FinalState } from "./job.ts";
import type { Logger } from "./log.ts";
import type { Reply } from "./reply.ts";
import type { Scheduler } from "./scheduler.ts";
import type { Store } from "./store.ts";
import type { Waiters } from "./waiters.ts";

/** The daemon as its request handlers and running-job bookkeeping see it. */
export interface DaemonContext {
  readonly config: Config;
  readonly log: Logger;
  readonly store: Store;
  readonly scheduler: Scheduler;
  readonly executor: Executor;
  /** Pending WAITs, answered once a job's end is committed. */
  readonly waiters: Waiters<Reply>;
  /** The daemon's own user and group. */
  readonly uid: number;
  readonly gid: number;
  /** Whether the daemon has begun to stop (it starts and accepts nothing new). */
  readonly stopping: () => boolean;
  /** The highest job id handed out (a rolled-back tick takes its ids back). */
  lastId: number;
  /** Runs `fn` once the open tick is committed. */
  afterCommit(fn: () => void): void;
  /** Runs `fn` in a tick of its own (nothing once the daemon has finished). */
  event(fn: () => void): void;
  /** The final state of a job no longer in the scheduler, also of a forgotten one. */
  readonly endedState: (id: number) => FinalState | undefined;
}
