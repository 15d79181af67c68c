/**
 * How sjq runs itself again (for `daemon --detach` and auto-start), the same
 * way whether it is a compiled binary or `deno run main.ts`.
 *
 * @module
 */

/** The program and leading arguments that run this sjq. */
export function selfCommand(): [string, ...string[]] {
  if (Deno.build.standalone) return [Deno.execPath()];
  return [Deno.execPath(), "run", "-A", "--quiet", new URL(Deno.mainModule).pathname];
}
