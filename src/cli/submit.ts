/**
 * `sjq submit`: sends a script to the daemon and prints the job id.
 *
 * @module
 */

import { type Submission } from "../client.ts";
import { CLIENT_FLAGS, CLIENT_FLAGS_HELP, type Command, connect, out, parseFlags, UsageError } from "./common.ts";

const HELP = `sjq submit: submit a job

Usage: sjq submit [options] SCRIPT     a script file
       sjq submit [options] -          the script from stdin (also: piped stdin, no SCRIPT)
       sjq submit [options] -- CMD ARG...   one command, quoted safely into a script
       sjq submit [options] --wrap 'shell text'

Prints the job id alone on stdout, so that id=$(sjq submit ...) works.

Options:
  -p, --procs N         CPUs the job needs (default sjq.defaults.procs)
  -m, --mem SIZE        memory the job needs: 512M, 2G, 1.5G (default sjq.defaults.mem)
  -d, --depends IDS     start after these jobs succeed (ids separated by ':' or ',')
      --after IDS       the same as --depends
      --afterany IDS    start after these jobs end, however they end
      --afternotok IDS  start only if these jobs end without success
  -o, --stdout FILE     stdout file (default <cwd>/<id>.stdout; a directory: <dir>/<id>.stdout)
  -e, --stderr FILE     stderr file (default <cwd>/<id>.stderr)
  -C, --cwd DIR         working directory (default: the current one)
  -n, --name NAME       job name (default: the script's file name, or the command)
      --hold            submit in user-hold (U); start it with 'sjq release'
  -t, --timeout SECONDS kill the job when it runs longer (it ends in F)
      --env NAME[=VALUE] copy NAME from this environment, or set it (repeatable)
      --no-env          do not send this shell's environment (only --env ones)
      --wrap TEXT       the script is this shell text
${CLIENT_FLAGS_HELP}

The job gets this shell's environment by default, like Slurm's --export=ALL.

Examples:
  sjq submit -p 4 -m 8G align.sh
  id=$(sjq submit --wrap 'sort big.txt > sorted.txt'); sjq submit -d "$id" report.sh
  sjq submit -n build -- make -j4 all
`;

const OPTIONS = {
  ...CLIENT_FLAGS,
  procs: { type: "string", short: "p" },
  mem: { type: "string", short: "m" },
  depends: { type: "string", short: "d", multiple: true },
  after: { type: "string", multiple: true },
  afterany: { type: "string", multiple: true },
  afternotok: { type: "string", multiple: true },
  stdout: { type: "string", short: "o" },
  stderr: { type: "string", short: "e" },
  cwd: { type: "string", short: "C" },
  name: { type: "string", short: "n" },
  hold: { type: "boolean" },
  timeout: { type: "string", short: "t" },
  env: { type: "string", multiple: true },
  "no-env": { type: "boolean" },
  wrap: { type: "string" },
} as const;

/** `sjq submit`. */
export const submitCommand: Command = {
  name: "submit",
  summary: "submit a job; print its id",
  help: HELP,
  async run(args) {
    const dash = args.indexOf("--");
    const command = dash >= 0 ? args.slice(dash + 1) : null;
    const { values, positionals } = parseFlags(dash >= 0 ? args.slice(0, dash) : args, OPTIONS);
    if (values.help) return out(HELP), 0;
    const { script, name } = await readScript(positionals, command, values.wrap);
    const options: [string, string][] = [];
    const cwd = values.cwd === undefined ? Deno.cwd() : Deno.realPathSync(values.cwd);
    options.push(["CWD", cwd], ["NAME", values.name ?? name]);
    if (values.procs !== undefined) options.push(["PROCS", values.procs]);
    if (values.mem !== undefined) options.push(["MEM", values.mem]);
    for (const [flag, key] of [["depends", "DEPENDS"], ["after", "DEPENDS"], ["afterany", "AFTERANY"], ["afternotok", "AFTERNOTOK"]] as const) {
      for (const ids of values[flag] ?? []) options.push([key, ids.replaceAll(",", ":")]);
    }
    if (values.stdout !== undefined) options.push(["STDOUT", values.stdout]);
    if (values.stderr !== undefined) options.push(["STDERR", values.stderr]);
    if (values.hold) options.push(["HOLD", ""]);
    if (values.timeout !== undefined) options.push(["TIMEOUT", values.timeout]);
    const submission: Submission = { script, options, env: jobEnv(values["no-env"] === true, values.env ?? []) };
    using client = await connect(values);
    await client.sendSubmit(submission);
    const reply = await client.reply();
    if (!reply.ok) throw new Error(reply.text);
    out(`${reply.text}\n`);
    return 0;
  },
};

/** The environment sent with a job: this shell's (unless `noEnv`), refined by `--env` flags. */
export function jobEnv(noEnv: boolean, flags: string[]): Record<string, string> {
  const env: Record<string, string> = noEnv ? {} : Deno.env.toObject();
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    if (eq > 0) env[flag.slice(0, eq)] = flag.slice(eq + 1);
    else {
      const value = Deno.env.get(flag);
      if (value === undefined) throw new UsageError(`--env ${flag}: no such variable in this environment`);
      env[flag] = value;
    }
  }
  return env;
}

/** The script to submit and a default name for it, from whichever form was used. */
async function readScript(
  positionals: string[],
  command: string[] | null,
  wrap: string | undefined,
): Promise<{ script: Uint8Array; name: string }> {
  const forms = [positionals.length > 0, command !== null, wrap !== undefined].filter(Boolean).length;
  if (forms > 1) throw new UsageError("give one of SCRIPT, -- CMD ARG... and --wrap");
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  const enc = new TextEncoder();
  if (command !== null) {
    if (command.length === 0) throw new UsageError("no command after --");
    const text = `#!/bin/sh\nexec ${command.map(shellQuote).join(" ")}\n`;
    return { script: enc.encode(text), name: basename(command[0]!) };
  }
  if (wrap !== undefined) return { script: enc.encode(`#!/bin/sh\n${wrap}\n`), name: "wrap" };
  const path = positionals[0];
  if (path === undefined && Deno.stdin.isTerminal()) {
    throw new UsageError("no script given (a file, '-' for stdin, -- CMD, or --wrap)");
  }
  if (path === undefined || path === "-") {
    const script = new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
    if (script.length === 0) throw new UsageError("the script on stdin is empty");
    return { script, name: "stdin" };
  }
  try {
    return { script: await Deno.readFile(path), name: basename(path) };
  } catch (e) {
    throw new Error(`cannot read script ${path}: ${(e as Error).message}`);
  }
}

/** Quotes a word for /bin/sh so that it stays one word, whatever it holds. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

function basename(path: string): string {
  return path.replace(/\/+$/, "").split("/").pop() || path;
}
