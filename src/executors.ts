/**
 * The executors a daemon can run its jobs with, by `sjq.backend` name. A new
 * backend is one file beside src/executor.ts and one entry here.
 *
 * @module
 */

import type { Executor, ExecutorContext, ExecutorFactory } from "./executor.ts";
import { LocalExecutor } from "./local_executor.ts";
import { SlurmExecutor, slurmSettings } from "./slurm_executor.ts";

/** Every backend, by the name `sjq.backend` selects it with. */
export const EXECUTORS: ReadonlyMap<string, ExecutorFactory> = new Map<string, ExecutorFactory>([
  ["local", (context) =>
    new LocalExecutor(context, {
      contain: context.config?.contain ?? true,
      enforceMemory: context.config?.enforce === "memory",
    })],
  ["slurm", (context) => new SlurmExecutor(context, slurmSettings(context.config))],
]);

/** Makes the executor `name`; throws a RangeError naming the known ones for any other. */
export function makeExecutor(name: string, context: ExecutorContext): Executor {
  const factory = EXECUTORS.get(name);
  if (factory === undefined) {
    throw new RangeError(
      `Unknown sjq.backend "${name}": known backends are ${[...EXECUTORS.keys()].join(", ")}`,
    );
  }
  return factory(context);
}
