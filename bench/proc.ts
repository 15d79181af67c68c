/**
 * Running commands from the benchmark: to completion with their output, and
 * shell snippets whose variables come from the environment so that nothing
 * needs quoting.
 *
 * @module
 */

/** Output of a finished command. */
export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where and how a command runs. */
export interface RunOptions {
  /** Extra environment, added to the benchmark's own. */
  env?: Record<string, string>;
  cwd?: string;
  /** Return a non-zero exit instead of throwing. */
  allowFail?: boolean;
}

/**
 * Runs `cmd` with `args` to completion and returns its output; throws when it
 * exits non-zero, unless `allowFail`.
 */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<Output> {
  const out = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  }).output();
  const dec = new TextDecoder();
  const res = { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  if (res.code !== 0 && !opts.allowFail) {
    throw new Error(`Command "${cmd} ${args.join(" ")}" exited ${res.code}: ${res.stderr.trim()}`);
  }
  return res;
}

/** Runs `sh -c script`; values go in through `opts.env` and are used as `"$NAME"`. */
export function sh(script: string, opts: RunOptions = {}): Promise<Output> {
  return run("sh", ["-c", script], opts);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Calls `done` every `intervalMs` until it returns true and returns the time
 * (`performance.now()`) at which that call finished: a poll charges the
 * system under test with up to one interval plus one query.
 */
export async function pollUntil(
  done: () => Promise<boolean>,
  intervalMs: number,
  what: string,
  timeoutMs = 600_000,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await done()) return performance.now();
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * `promise`, or a rejection with `message` once `ms` milliseconds have passed
 * (never when `ms` is not finite). What the promise does after that is of no
 * interest: its own failure is swallowed.
 */
export function deadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  if (!Number.isFinite(ms)) return promise;
  promise.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Removes `name` and the value after it from `args`; returns the value, or undefined. */
export function takeFlag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  return args.splice(i, 2)[1];
}
