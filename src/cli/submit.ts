/**
 * `sjq submit`: sends a script to the daemon and prints the job id.
 *
 * @module
 */

import { type Client, encodeSubmit, envNameProblem, UnsendableError } from "../client.ts";
import { parseDuration } from "../duration.ts";
import { parseSize } from "../size.ts";
import { connectDaemon } from "./autostart.ts";
import {
  AUTOSTART_FLAGS,
  AUTOSTART_FLAGS_HELP,
  type Command,
  flagNames,
  type Flags,
  out,
  parseFlags,
  shellQuote,
  UsageError,
} from "./common.ts";
import { encodeBase64 } from "../base64.ts";
import type { SbatchDirectives } from "./sbatch_directives.ts";
import { lazyImport } from "./lazy.ts";

const HELP = `sjq submit: submit a job

Usage: sjq submit [options] SCRIPT [ARG...]    a script file, run with these arguments
       sjq submit [options] -                  the script from stdin (also: piped stdin, no SCRIPT)
       sjq submit [options] -- CMD ARG...      one command, quoted safely into a script
       sjq submit [options] --wrap 'shell text'

Prints the job id alone on stdout, so that id=$(sjq submit ...) works.
Options come before SCRIPT: everything after it is the script's arguments
(as with sbatch), and its #SJQ directives are read as usual.

Options:
  -p, --procs N          CPUs the job needs (default sjq.defaults.procs)
  -m, --mem SIZE         memory the job needs: 512M, 2G, 1.5G; a bare number is MiB, as in
                         Slurm (default sjq.defaults.mem)
  -G, --gpus N           GPUs the job needs (default 0): it gets N devices of sjq.gpus to
                         itself, named in CUDA_VISIBLE_DEVICES and SJQ_GPUS
  -d, --depends IDS      start after these jobs succeed (ids separated by ':' or ',')
      --after IDS        the same as --depends
      --afterany IDS     start after these jobs end, however they end
      --afternotok IDS   start after these jobs end, only if none of them succeeded
  -o, --stdout FILE      stdout file (default <cwd>/<id>.stdout; a directory: <dir>/<id>.stdout);
                         %j id, %x name, %a/%A array task/job, %u user, %% a %
  -e, --stderr FILE      stderr file (default <cwd>/<id>.stderr; the same patterns)
  -C, --cwd DIR          working directory (default: the current one)
  -n, --name NAME        job name (default: the script's file name, or the command)
      --hold             submit in user-hold (U); start it with 'sjq release'
  -t, --timeout TIME     kill the job when it runs longer (it ends in F): 90, 15m, 2h
  -a, --array SPEC       an array of tasks: 1-100, 0-99:10 (step), 1,5,7-9 (list);
                         %N after it runs at most N at once (1-1000%20). Prints the
                         array's id A; task T is A_T, with SJQ_ARRAY_TASK_ID=T
                         (and SLURM_ARRAY_TASK_ID); %A and %a in -o/-e name files
                         (default <cwd>/%A_%a.stdout)
      --priority N       ahead of jobs of lower priority (-1000 to 1000, default 0):
                         placed as if submitted N×1000 jobs earlier (docs/cli.md)
      --urgent           the highest priority, 1000
      --notify CMD       run CMD (with /bin/sh, in the job's directory) when the job
                         ends, with SJQ_JOB_ID, SJQ_JOB_NAME, SJQ_JOB_STATE (S, F…),
                         SJQ_JOB_EXIT_CODE and SJQ_JOB_REASON in its environment
      --mail ADDR        mail ADDR when the job ends (id, name, state and exit code in
                         the subject), through the daemon's local sendmail; refused
                         when there is none
  -q, --queue NAME       the named queue the job waits and runs in, with its own CPU
                         and memory limits ([sjq.queue.NAME] in the rc file; default
                         sjq.defaults.queue); with the Slurm backend, the partition
      --retries N        when the job fails (F), run it again by itself, up to N times
      --retry-delay D    wait this long before each retry: 30s, 5m (default 0)
      --env NAME         copy NAME from this environment (repeatable)
      --env NAME=VALUE   set NAME (repeatable)
      --no-env           do not send this shell's environment (only --env ones)
      --wrap TEXT        the script is this shell text
      --slurm-opt OPTS   sbatch options for the Slurm backend (sjq.backend=slurm),
                         e.g. --slurm-opt='--partition=gpu --qos=high' (repeatable;
                         added to sjq.slurm.options)
  -w, --wait             wait for the job to end; exit 0 if it succeeded, its exit
                         code if it failed with one, 1 otherwise
${AUTOSTART_FLAGS_HELP}

Directives: '#SJQ' lines at the top of the script (after the #! line, before
the first command) take the same job options; the command line wins over
them, and list options (--after, --env...) add up:

  #!/bin/sh
  #SJQ -p 4 --mem 8G --name align
  bwa mem ref.fa reads.fq > out.sam

'#SBATCH' lines are read too, below '#SJQ' ones: -c, -n, --mem, --mem-per-cpu,
-J, -o, -e (%j %x %A %a %u), -D, -t, -d (afterok, afterany, afternotok,
singleton), -H, -p (the queue), --export, -G/--gpus and --gres=gpu:N become
the job options above; other sbatch options
go to the Slurm backend only, with a warning (see docs/slurm.md).

Environment: the job gets this shell's environment (like Slurm's
--export=ALL), then the daemon's SJQ_JOB_ID, SJQ_PROCS... Use --no-env with
--env to send only what you name.

Examples:
  sjq submit -p 4 -m 8G align.sh
  for s in S01 S02; do sjq submit align.sh "$s"; done
  id=$(sjq submit --wrap 'sort big.txt > sorted.txt'); sjq submit --after "$id" report.sh
  sjq submit -n build -- make -j4 all
  sjq submit --array 1-20%4 -o 'logs/%A_%a.out' align.sh   # then: sjq status A, sjq kill A_7
  echo 'echo hello' | sjq submit -o /tmp/
  sjq submit --wait --no-env --env PATH -- ./nightly.sh || echo failed
`;

/** The options that describe a job: the command line's and the directives'. */
const JOB_OPTIONS = {
  procs: { type: "string", short: "p" },
  mem: { type: "string", short: "m" },
  gpus: { type: "string", short: "G" },
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
  array: { type: "string", short: "a" },
  retries: { type: "string" },
  priority: { type: "string" },
  urgent: { type: "boolean" },
  notify: { type: "string" },
  mail: { type: "string" },
  queue: { type: "string", short: "q" },
  "retry-delay": { type: "string" },
  env: { type: "string", multiple: true },
  "no-env": { type: "boolean" },
  "slurm-opt": { type: "string", multiple: true },
} as const satisfies Flags;

const OPTIONS = {
  ...AUTOSTART_FLAGS,
  ...JOB_OPTIONS,
  wrap: { type: "string" },
  wait: { type: "boolean", short: "w" },
} as const;

/** Job option values as parsed, from the command line or a directive. */
type JobValues = ReturnType<typeof parseFlags<typeof JOB_OPTIONS>>["values"];

/** `sjq submit`. */
export const submitCommand: Command = {
  name: "submit",
  summary: "submit a job; print its id",
  help: HELP,
  flags: flagNames(OPTIONS),
  async run(args) {
    const { flags, command, scriptArgs } = splitCommandLine(args);
    const { values, positionals } = parseFlags(flags, OPTIONS);
    if (values.help) return out(HELP), 0;
    const { script, name, source } = await readScript(positionals, command, values.wrap);
    const sbatch = await sbatchDirectives(script, source);
    const job = mergeValues([sbatch.values, ...await directiveValues(script, source), values]);
    const options = submitOptions(job, name);
    for (const arg of scriptArgs) options.push(["ARG", encodeBase64(arg)]);
    for (const word of [...sbatch.slurmOptions, ...await slurmOpts(job["slurm-opt"] ?? [])]) {
      options.push(["SLURMOPT", word]);
    }
    const env = jobEnv(job["no-env"] === true, job.env ?? []);
    // Built before connecting: a value that cannot be sent must not start a daemon.
    let request = submitRequest(script, options, env);
    using client = await connectDaemon(values);
    if (sbatch.singleton && await addSingleton(client, options)) {
      request = submitRequest(script, options, env);
    }
    await client.send(request);
    const reply = await client.reply(false, "SUBMIT");
    if (!reply.ok) throw new Error(inCliWords(reply.text));
    out(`${reply.text}\n`);
    const id = Number(reply.text);
    if (options.some(([key]) => /^(DEPENDS|AFTER)/.test(key))) {
      await warnIfAborted(client, id);
    }
    if (!values.wait) return 0;
    const { explainEnds, waitForJobs } = await lazyImport<typeof import("./wait.ts")>(
      "./wait.ts",
      import.meta.url,
    );
    const ended = (await waitForJobs([id], values, null))!.get(id)!;
    if ("state" in ended && ended.state === "S") return 0;
    for (const line of await explainEnds([[id, ended]], values)) console.error(line);
    return "state" in ended && ended.state === "F" && ended.exitCode ? ended.exitCode : 1;
  },
};

/**
 * Splits a command line into submit's own flags (the script's name
 * included), the command after `--`, and the arguments after the script:
 * option parsing stops at the first word that is not a flag or a flag's
 * value, as sbatch's does.
 */
function splitCommandLine(
  args: string[],
): { flags: string[]; command: string[] | null; scriptArgs: string[] } {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(OPTIONS)) {
    if (o.type !== "string") continue;
    takesValue.add(`--${name}`);
    if ("short" in o) takesValue.add(`-${o.short}`);
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      return { flags: args.slice(0, i), command: args.slice(i + 1), scriptArgs: [] };
    }
    if (arg === "-" || !arg.startsWith("-")) {
      return { flags: args.slice(0, i + 1), command: null, scriptArgs: args.slice(i + 1) };
    }
    if (valueFollows(arg, takesValue)) i++;
  }
  return { flags: args, command: null, scriptArgs: [] };
}

/** Whether the flag `arg` takes the next word as its value (`--mem 2G`, `-p 4`, `-wp 4`; not `-p4`). */
function valueFollows(arg: string, takesValue: Set<string>): boolean {
  if (arg.startsWith("--")) return !arg.includes("=") && takesValue.has(arg);
  for (let j = 1; j < arg.length; j++) {
    if (takesValue.has(`-${arg[j]}`)) return j === arg.length - 1;
  }
  return false;
}

/** The flag that sets each SUBMIT option, for error messages. */
const FLAG_OF: Record<string, string> = {
  CWD: "--cwd (or the current directory)",
  NAME: "--name",
  PROCS: "--procs",
  MEM: "--mem",
  DEPENDS: "--depends",
  AFTERANY: "--afterany",
  AFTERNOTOK: "--afternotok",
  STDOUT: "--stdout",
  STDERR: "--stderr",
  TIMEOUT: "--timeout",
  ENV: "--env",
};

/** A SUBMIT refusal in the command line's words: `MEM 32G is more…` → `--mem 32G is more…`. */
function inCliWords(text: string): string {
  return text.split("; ").map((part) => {
    const m = /^(Bad )?([A-Z]+)\b/.exec(part);
    const flag = m && m[2] !== "CWD" ? FLAG_OF[m[2]!] : undefined;
    return flag === undefined ? part : part.replace(m![2]!, flag);
  }).join("; ");
}

/** The SUBMIT request's bytes; a value it cannot carry as typed is a usage error. */
function submitRequest(
  script: Uint8Array,
  options: [string, string][],
  env: Record<string, string>,
): Uint8Array {
  try {
    return encodeSubmit({ script, options, env });
  } catch (e) {
    if (!(e instanceof UnsendableError)) throw e;
    const what = e.key === "ENV" ? "--env name" : FLAG_OF[e.key] ?? e.key;
    throw new UsageError(`${what} ${JSON.stringify(e.value)}: ${e.why}`);
  }
}

/** The job option values of each `#SJQ` directive of the script. */
async function directiveValues(script: Uint8Array, source: string): Promise<JobValues[]> {
  if (!mentions(script, "#SJQ")) return [];
  const { parseDirectives } = await directivesModule();
  let directives;
  try {
    directives = parseDirectives(script);
  } catch (e) {
    throw new UsageError(`${source}: bad #SJQ directive: ${(e as Error).message}`);
  }
  return directives.map(({ line, words }) => {
    try {
      const { values, positionals } = parseFlags(words, JOB_OPTIONS);
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      return values;
    } catch (e) {
      const hint = e instanceof UsageError ? e.hint : undefined;
      throw new UsageError(`${source}:${line}: bad #SJQ directive: ${(e as Error).message}`, hint);
    }
  });
}

/** The `#SBATCH` lines of the script; their warnings go to stderr. */
async function sbatchDirectives(script: Uint8Array, source: string): Promise<SbatchDirectives> {
  if (!mentions(script, "#SBATCH")) {
    return { values: {}, singleton: false, slurmOptions: [], warnings: [] };
  }
  const { parseSbatchDirectives } = await lazyImport<typeof import("./sbatch_directives.ts")>(
    "./sbatch_directives.ts",
    import.meta.url,
  );
  try {
    const sbatch = parseSbatchDirectives(script, source);
    for (const w of sbatch.warnings) console.error(`warning: ${w}`);
    return sbatch;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The words of `--slurm-opt` values. */
async function slurmOpts(values: string[]): Promise<string[]> {
  if (values.length === 0) return [];
  const { splitWords } = await directivesModule();
  try {
    return values.flatMap(splitWords);
  } catch (e) {
    throw new UsageError(`--slurm-opt: ${(e as Error).message}`);
  }
}

/**
 * The directive parser, loaded only for a script that has directives (or
 * `--slurm-opt`): most submits need neither, and each module a client loads
 * costs its start-up.
 */
function directivesModule() {
  return lazyImport<typeof import("./directives.ts")>("./directives.ts", import.meta.url);
}

/**
 * Whether the script's bytes hold `word` (ASCII) anywhere: a script without
 * `#SJQ` or `#SBATCH` has no such directive, wherever they are looked for.
 */
function mentions(script: Uint8Array, word: string): boolean {
  const first = word.charCodeAt(0);
  for (let i = script.indexOf(first); i >= 0; i = script.indexOf(first, i + 1)) {
    let j = 1;
    while (j < word.length && script[i + j] === word.charCodeAt(j)) j++;
    if (j === word.length) return true;
  }
  return false;
}

/**
 * `#SBATCH --dependency=singleton`: the job waits for the end of every job of
 * its name that has not ended yet (as in Slurm: one at a time).
 */
async function addSingleton(client: Client, options: [string, string][]): Promise<boolean> {
  const name = options.find(([k]) => k === "NAME")![1];
  const reply = await client.request("STATUS", true);
  if (!reply.ok) throw new Error(reply.text);
  const ids = new TextDecoder().decode(reply.payload).split("\r\n")
    .map((row) => row.split("\t"))
    .filter(([, n, state]) =>
      n === name && (state === "Q" || state === "H" || state === "U" || state === "R")
    )
    .map(([id]) => id!);
  if (ids.length > 0) options.push(["AFTERANY", ids.join(":")]);
  return ids.length > 0;
}

/** Later values win; list options add up. */
function mergeValues(layers: JobValues[]): JobValues {
  const merged: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const key of Object.keys(JOB_OPTIONS) as (keyof JobValues)[]) {
      const value = layer[key];
      if (value === undefined) continue;
      merged[key] = Array.isArray(value)
        ? [...(merged[key] as string[] | undefined ?? []), ...value]
        : value;
    }
  }
  return merged as JobValues;
}

/** The SUBMIT options of a job; `name` is the default job name. */
function submitOptions(job: JobValues, name: string): [string, string][] {
  let cwd = Deno.cwd();
  if (job.cwd !== undefined) {
    try {
      cwd = Deno.realPathSync(job.cwd);
    } catch (e) {
      throw new Error(`--cwd ${job.cwd}: ${(e as Error).message}`);
    }
  }
  // A default name comes from a file name or a command, which may hold any character.
  const defaultName = name.replace(/[\t\n\r\u2028\u2029]/g, " ");
  const options: [string, string][] = [["CWD", cwd], ["NAME", job.name ?? defaultName]];
  if (job.procs !== undefined) options.push(["PROCS", job.procs]);
  if (job.mem !== undefined) options.push(["MEM", checkMem(job.mem)]);
  // No GPUS line for none: an original daemon knows no GPUS.
  if (job.gpus !== undefined && checkGpus(job.gpus) > 0) options.push(["GPUS", job.gpus.trim()]);
  const deps = [["depends", "DEPENDS"], ["after", "DEPENDS"], ["afterany", "AFTERANY"], [
    "afternotok",
    "AFTERNOTOK",
  ]] as const;
  for (const [flag, key] of deps) {
    for (const ids of job[flag] ?? []) options.push([key, ids.replaceAll(",", ":")]);
  }
  if (job.stdout !== undefined) options.push(["STDOUT", job.stdout]);
  if (job.stderr !== undefined) options.push(["STDERR", job.stderr]);
  if (job.hold) options.push(["HOLD", ""]);
  if (job.timeout !== undefined) options.push(["TIMEOUT", checkTimeout(job.timeout)]);
  if (job.array !== undefined) options.push(["ARRAY", job.array]);
  if (job.retries !== undefined) options.push(["RETRIES", job.retries]);
  if (job.notify !== undefined) options.push(["NOTIFY", job.notify]);
  if (job.mail !== undefined) options.push(["MAIL", job.mail]);
  if (job.queue !== undefined) options.push(["QUEUE", job.queue]);
  if (job.urgent) options.push(["PRIORITY", "1000"]);
  else if (job.priority !== undefined) options.push(["PRIORITY", job.priority]);
  if (job["retry-delay"] !== undefined) {
    options.push(["RETRYDELAY", String(parseRetryDelay(job["retry-delay"]))]);
  }
  return options;
}

/** A `--mem` value as typed, once it is known to be a size above 0. */
function checkMem(given: string): string {
  // A size without a unit is MiB, as Slurm reads --mem; the protocol's MEM is bytes.
  const text = /^\s*\d+(\.\d+)?\s*$/.test(given) ? `${given.trim()}M` : given;
  let bytes: number;
  try {
    bytes = parseSize(text.trim());
  } catch (e) {
    throw new UsageError(`bad --mem "${given}": ${(e as Error).message}`);
  }
  if (bytes === 0) throw new UsageError(`bad --mem "${given}": a job needs more than 0 bytes`);
  return text;
}

/** A `--gpus` value: a whole number. */
function checkGpus(given: string): number {
  if (!/^\s*\d{1,6}\s*$/.test(given)) {
    throw new UsageError(`bad --gpus "${given}": expected a whole number of GPUs`);
  }
  return Number(given);
}

/** `--timeout` in seconds for TIMEOUT: `90`, `15m`, `2h`, `1h30m`. */
function checkTimeout(given: string): string {
  let seconds: number;
  try {
    seconds = parseDuration(given);
  } catch (e) {
    throw new UsageError(`bad --timeout "${given}": ${(e as Error).message}`, "e.g. 90, 15m, 2h");
  }
  if (!(seconds > 0)) throw new UsageError(`bad --timeout "${given}": it must be above 0`);
  return String(seconds);
}

/**
 * The environment sent with a job: this shell's (unless `noEnv`), refined by
 * `--env` flags. Inherited variables whose names the protocol cannot carry
 * (`;` in the name, a line break) are left out; a named one is an error.
 */
function jobEnv(noEnv: boolean, flags: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  if (!noEnv) {
    for (const [k, v] of Object.entries(Deno.env.toObject())) {
      if (envNameProblem(k) === null) env[k] = v;
    }
  }
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    const name = eq < 0 ? flag : flag.slice(0, eq);
    if (name === "") throw new UsageError(`--env ${flag}: no variable name`);
    const value = eq < 0 ? Deno.env.get(name) : flag.slice(eq + 1);
    if (value === undefined) {
      throw new UsageError(`--env ${flag}: no such variable in this environment`);
    }
    env[name] = value;
  }
  return env;
}

/** The script to submit, a default name for it, and where it came from, from whichever form was used. */
async function readScript(
  positionals: string[],
  command: string[] | null,
  wrap: string | undefined,
): Promise<{ script: Uint8Array; name: string; source: string }> {
  const forms =
    [positionals.length > 0, command !== null, wrap !== undefined].filter(Boolean).length;
  if (forms > 1) throw new UsageError("give one of SCRIPT, -- CMD ARG... and --wrap");
  const enc = new TextEncoder();
  if (command !== null) {
    if (command.length === 0) throw new UsageError("no command after --");
    const text = `#!/bin/sh\nexec ${command.map(shellQuote).join(" ")}\n`;
    return { script: enc.encode(text), name: basename(command[0]!), source: "the command" };
  }
  if (wrap !== undefined) {
    return { script: enc.encode(`#!/bin/sh\n${wrap}\n`), name: "wrap", source: "--wrap" };
  }
  const path = positionals[0];
  if (path === undefined && Deno.stdin.isTerminal()) {
    throw new UsageError(
      "no script given",
      "give a file, '-' for stdin, -- CMD ARG..., or --wrap TEXT",
    );
  }
  if (path === undefined || path === "-") {
    const script = await readStdin();
    if (script.length === 0) throw new UsageError("the script on stdin is empty");
    return { script: textScript(script, "the script on stdin"), name: "stdin", source: "stdin" };
  }
  let script: Uint8Array;
  try {
    script = await Deno.readFile(path);
  } catch (e) {
    throw new Error(`cannot read script ${path}: ${fileProblem(e)}`);
  }
  return { script: textScript(script, path), name: basename(path), source: path };
}

/** All of stdin (read directly: `Response` would load its script on first use, ~3 ms). */
async function readStdin(): Promise<Uint8Array> {
  let buf = new Uint8Array(64 * 1024);
  let length = 0;
  for (;;) {
    if (length === buf.length) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    const n = await Deno.stdin.read(buf.subarray(length));
    if (n === null) return buf.subarray(0, length);
    length += n;
  }
}

/** A script read from a file or stdin, refused when it is binary: it holds a NUL byte. */
function textScript(script: Uint8Array, source: string): Uint8Array {
  if (script.includes(0)) {
    throw new UsageError(
      `${source} is a binary file (it holds NUL bytes), not a script`,
      "to run a program: sjq submit [options] -- PROGRAM ARG...",
    );
  }
  return script;
}

function basename(path: string): string {
  return path.replace(/\/+$/, "").split("/").pop() || path;
}

/** `--retry-delay` in seconds (a duration: 30, 30s, 5m). */
function parseRetryDelay(text: string): number {
  try {
    return parseDuration(text);
  } catch (e) {
    throw new UsageError(`--retry-delay: ${(e as Error).message}`);
  }
}

/** Warns when a job was aborted as it was submitted: a dependency had already ended the wrong way. */
async function warnIfAborted(client: Client, id: number): Promise<void> {
  const { fetchJobs, reasonContext } = await lazyImport<typeof import("./job_query.ts")>(
    "./job_query.ts",
    import.meta.url,
  );
  const { jobReason } = await lazyImport<typeof import("./reasons.ts")>(
    "./reasons.ts",
    import.meta.url,
  );
  const [job] = await fetchJobs(client, [id]);
  if (job?.state !== "A") return;
  const reason = jobReason(job, await reasonContext(client, [job], false));
  console.error(`warning: job ${id} is aborted already: ${reason ?? job.reason}`);
}

/** A file error in a few words, without the os error's code and syscall. */
function fileProblem(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "it is a directory";
  return (e as Error).message.replace(/ \(os error \d+\).*$/, "");
}
