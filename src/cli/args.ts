/**
 * Command-line flag parsing with the behaviour and messages of `node:util`
 * `parseArgs` in strict mode, without loading `node:util`: importing any
 * `node:` module costs every client command milliseconds of start-up.
 *
 * @module
 */

/** One flag: a string that takes a value or a boolean switch, maybe repeatable, maybe with a one-letter form. */
export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
}

/** Flag definitions by long name, as `node:util` parseArgs takes them. */
export type Flags = Record<string, FlagSpec>;

type _Value<S extends FlagSpec> = S extends { type: "string" }
  ? S extends { multiple: true } ? string[] : string
  : S extends { multiple: true } ? boolean[]
  : boolean;

/** The values parsed for `F`: a flag that was not given is absent. */
export type FlagValues<F extends Flags> = { [K in keyof F]?: _Value<F[K]> };

/** What {@linkcode parseArgs} returns. */
export interface ParsedArgs<F extends Flags> {
  values: FlagValues<F>;
  positionals: string[];
}

interface _Token {
  name: string;
  rawName: string;
  value: string | undefined;
  inline: boolean;
}

/**
 * Parses `args` by `options` as `parseArgs({ args, options, allowPositionals,
 * strict: true })` of `node:util` does: `--name value`, `--name=value`, `-n
 * value`, `-nvalue`, grouped switches `-wh`, `--` ending the flags; a repeated
 * flag keeps its last value unless it is `multiple`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseArgs } from "./args.ts";
 *
 * const options = { procs: { type: "string", short: "p" }, wait: { type: "boolean", short: "w" } } as const;
 * const { values, positionals } = parseArgs(["-wp4", "job.sh"], options);
 * assert.deepEqual({ ...values }, { wait: true, procs: "4" });
 * assert.deepEqual(positionals, ["job.sh"]);
 * assert.throws(() => parseArgs(["--proc", "4"], options), /^TypeError: Unknown option '--proc'/);
 * ```
 *
 * @throws {TypeError} With node's message for an unknown flag, a missing or
 * unexpected value, a value that looks like a flag, or a positional argument
 * where none is allowed.
 */
export function parseArgs<F extends Flags>(
  args: readonly string[],
  options: F,
  allowPositionals = true,
): ParsedArgs<F> {
  const values: Record<string, unknown> = Object.create(null);
  const positionals: string[] = [];
  const type = (name: string) => Object.hasOwn(options, name) ? options[name]!.type : undefined;
  const longFor = (short: string) =>
    Object.keys(options).find((name) => options[name]!.short === short) ?? short;
  const tokens: (_Token | { positional: string })[] = [];
  const rest = [...args];
  while (rest.length > 0) {
    const arg = rest.shift()!;
    if (arg === "--") {
      tokens.push(...rest.map((positional) => ({ positional })));
      break;
    }
    if (arg.length === 2 && arg[0] === "-" && arg[1] !== "-") {
      const name = longFor(arg[1]!);
      const takes = type(name) === "string" && rest.length > 0;
      tokens.push({ name, rawName: arg, value: takes ? rest.shift() : undefined, inline: false });
    } else if (arg.length > 2 && arg[0] === "-" && arg[1] !== "-") {
      const name = longFor(arg[1]!);
      if (type(name) === "string") {
        tokens.push({ name, rawName: arg.slice(0, 2), value: arg.slice(2), inline: true });
        continue;
      }
      const expanded: string[] = [];
      for (let i = 1; i < arg.length; i++) {
        if (type(longFor(arg[i]!)) !== "string" || i === arg.length - 1) {
          expanded.push(`-${arg[i]}`);
        } else {
          expanded.push(`-${arg.slice(i)}`);
          break;
        }
      }
      rest.unshift(...expanded);
    } else if (arg.length > 2 && arg.startsWith("--")) {
      const eq = arg.indexOf("=", 3);
      if (eq < 0) {
        const name = arg.slice(2);
        const takes = type(name) === "string" && rest.length > 0;
        tokens.push({ name, rawName: arg, value: takes ? rest.shift() : undefined, inline: false });
      } else {
        const name = arg.slice(2, eq);
        tokens.push({ name, rawName: `--${name}`, value: arg.slice(eq + 1), inline: true });
      }
    } else {
      tokens.push({ positional: arg });
    }
  }
  for (const token of tokens) {
    if ("positional" in token) {
      if (!allowPositionals) {
        throw new TypeError(
          `Unexpected argument '${token.positional}'. This command does not take positional arguments`,
        );
      }
      positionals.push(token.positional);
      continue;
    }
    _check(options, token, allowPositionals);
    if (token.name === "__proto__") continue;
    const value = token.value ?? true;
    if (options[token.name]!.multiple) {
      ((values[token.name] ??= []) as unknown[]).push(value);
    } else {
      values[token.name] = value;
    }
  }
  return { values: values as FlagValues<F>, positionals };
}

function _check(options: Flags, token: _Token, allowPositionals: boolean): void {
  if (!Object.hasOwn(options, token.name)) {
    const tail = allowPositionals
      ? `. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- ${
        JSON.stringify(token.rawName)
      }`
      : "";
    throw new TypeError(`Unknown option '${token.rawName}'${tail}`);
  }
  const spec = options[token.name]!;
  const both = `${spec.short ? `-${spec.short}, ` : ""}--${token.name}`;
  if (spec.type === "string" && token.value === undefined) {
    throw new TypeError(`Option '${both} <value>' argument missing`);
  }
  if (spec.type === "boolean" && token.value !== undefined) {
    throw new TypeError(`Option '${both}' does not take an argument`);
  }
  const value = token.value;
  if (!token.inline && value !== undefined && value.length > 1 && value[0] === "-") {
    const example = token.rawName.startsWith("--")
      ? `'--${token.name}=-XYZ'`
      : `'--${token.name}=-XYZ' or '${token.rawName}-XYZ'`;
    throw new TypeError(
      `Option '${token.rawName}' argument is ambiguous.\nDid you forget to specify the option argument for '${token.rawName}'?\nTo specify an option argument starting with a dash use ${example}.`,
    );
  }
}
