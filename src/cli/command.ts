/**
 * The one shape of an `rproc` command: a declaration (name, options table,
 * positionals, exit statuses) and a `run` that calls the library and returns
 * what to print. From the declaration this module derives the usage text,
 * `--help`, usage errors (exit 2) and the `--json` switch, so every command
 * behaves the same at its edges. A command is added with one file under
 * commands/ and one line in registry.ts (docs/architecture.md).
 */
import { isRprocError } from "../errors.js";
import type { CliIO } from "./io.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./io.js";

export interface OptionSpec {
  type: "string" | "boolean";
  /** One-letter alias, e.g. "o" for -o. */
  short?: string;
  /** Repeatable: the values are collected into an array. */
  multiple?: boolean;
  /** Values taken per occurrence (default 1); above 1 the option is repeatable and yields string[][]. */
  arity?: number;
  /** Placeholder shown in the usage text (default FILE-like: the option name upper-cased). */
  value?: string;
  help: string;
}

export type OptionsTable = Record<string, OptionSpec>;

/** The parsed value of one option: booleans default to false, repeatables to []. */
export type OptionValue<S extends OptionSpec> = S extends { type: "boolean" }
  ? boolean
  : S extends { arity: number }
    ? string[][]
    : S extends { multiple: true }
      ? string[]
      : string | undefined;

export interface Parsed<O extends OptionsTable> {
  values: { [K in keyof O]: OptionValue<O[K]> } & { json: boolean };
  positionals: string[];
  /** The arguments as given, for a command whose options' relative order matters (rpmsg's --send/--send-hex). */
  argv: string[];
}

/** What a command hands back: the framework prints `json` under --json, else `stdout`; `stderr` always. */
export interface Outcome {
  exit: number;
  json?: unknown;
  stdout?: string;
  stderr?: string;
}

export interface Command<O extends OptionsTable = OptionsTable> {
  name: string;
  /** What follows `rproc NAME` in the usage line(s), e.g. "FIRMWARE --platform NAME|FILE [options]". */
  synopsis: string | string[];
  /** A paragraph under the usage line. */
  description?: string;
  positionals: { min: number; max: number; missing: string; extra: string };
  options: O;
  /** One line per exit status, after "Exit status:". */
  exitStatus: string;
  run(args: Parsed<O>, io: CliIO): Promise<Outcome>;
}

/** A usage error raised inside `run` (bad option value, conflicting options): exit 2 with the usage text. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Declares a command; the const type parameter keeps the options table's literal types for `Parsed`. */
export function defineCommand<const O extends OptionsTable>(c: Command<O>): Command<O> {
  return c;
}

const BUILTIN: OptionsTable = {
  json: { type: "boolean", help: "print one JSON object on stdout" },
  help: { type: "boolean", short: "h", help: "show this help" },
};

function optionLabel(name: string, s: OptionSpec): string {
  const flag = (s.short ? `-${s.short}, ` : "") + `--${name}`;
  if (s.type === "boolean") return flag;
  const v = s.value ?? name.toUpperCase().replace(/-/g, "_");
  return `${flag} ${v}`;
}

export function usageText(c: Command): string {
  const syn = Array.isArray(c.synopsis) ? c.synopsis : [c.synopsis];
  const lines = syn.map((s, i) => `${i === 0 ? "usage:" : "      "} rproc ${c.name} ${s}`);
  if (c.description) lines.push("", c.description);
  const all = { ...c.options, ...BUILTIN };
  const labels = Object.entries(all).map(([n, s]) => [optionLabel(n, s), s.help] as const);
  const width = Math.min(28, Math.max(...labels.map(([l]) => l.length)) + 2);
  lines.push("", "options:");
  for (const [label, help] of labels) {
    const [first, ...rest] = help.split("\n");
    lines.push(label.length >= width ? `  ${label}\n  ${"".padEnd(width)}${first}` : `  ${label.padEnd(width)}${first}`);
    for (const r of rest) lines.push(`  ${"".padEnd(width)}${r}`);
  }
  lines.push("", `Exit status: ${c.exitStatus}`);
  return lines.join("\n") + "\n";
}

/** Parses argv against the table: long (--x, --x=v), short (-o v), `--` ends options. Throws UsageError. */
export function parseCommandArgs<O extends OptionsTable>(c: Command<O>, argv: string[]): Parsed<O> & { help: boolean } {
  const table: OptionsTable = { ...c.options, ...BUILTIN };
  const shorts = new Map(Object.entries(table).flatMap(([n, s]) => (s.short ? [[s.short, n] as const] : [])));
  const values: Record<string, unknown> = {};
  for (const [n, s] of Object.entries(table))
    values[n] = s.type === "boolean" ? false : s.multiple || (s.arity ?? 1) > 1 ? [] : undefined;
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) inline = arg.slice(eq + 1);
      if (!(name in table)) throw new UsageError(`unknown option '--${name}'`);
    } else {
      name = arg.length === 2 ? shorts.get(arg[1]!) : undefined;
      if (name === undefined) throw new UsageError(`unknown option '${arg}'`);
    }
    const spec = table[name]!;
    if (spec.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`option '--${name}' takes no value`);
      values[name] = true;
      continue;
    }
    const arity = spec.arity ?? 1;
    const got = inline !== undefined ? [inline, ...argv.slice(i + 1, i + arity)] : argv.slice(i + 1, i + 1 + arity);
    i += inline !== undefined ? arity - 1 : arity;
    if (got.length < arity) throw new UsageError(`option '${arg}' needs ${arity === 1 ? "a value" : `${arity} values`}`);
    if (arity > 1) (values[name] as string[][]).push(got);
    else if (spec.multiple) (values[name] as string[]).push(got[0]!);
    else values[name] = got[0];
  }
  const help = values.help === true;
  if (!help) {
    const { min, max } = c.positionals;
    if (positionals.length < min) throw new UsageError(c.positionals.missing);
    if (positionals.length > max) throw new UsageError(c.positionals.extra);
  }
  return { values: values as Parsed<O>["values"], positionals, argv, help };
}

function print(io: CliIO, o: Outcome, json: boolean): void {
  if (json && o.json !== undefined) io.stdout(JSON.stringify(o.json, null, 2) + "\n");
  else if (!json && o.stdout) io.stdout(o.stdout);
  if (o.stderr) io.stderr(o.stderr);
}

/**
 * Runs a command: parse, --help, usage errors (exit 2), run, print. An
 * RprocError that escapes `run` is the operation failing (exit 1, the typed
 * error printed, or `{ "error": ... }` under --json); anything else is a bug
 * and reaches main's last-resort handler.
 */
export async function runCommand<O extends OptionsTable>(c: Command<O>, argv: string[], io: CliIO): Promise<number> {
  const usageFail = (msg: string): number => {
    io.stderr(`rproc ${c.name}: ${msg}\n${usageText(c as unknown as Command)}`);
    return EXIT_USAGE;
  };
  let parsed: Parsed<O> & { help: boolean };
  try {
    parsed = parseCommandArgs(c, argv);
  } catch (e) {
    if (e instanceof UsageError) return usageFail(e.message);
    throw e;
  }
  if (parsed.help) {
    io.stdout(usageText(c as unknown as Command));
    return EXIT_OK;
  }
  const json = parsed.values.json;
  try {
    const o = await c.run(parsed, io);
    print(io, o, json);
    return o.exit;
  } catch (e) {
    if (e instanceof UsageError) return usageFail(e.message);
    if (!isRprocError(e)) throw e;
    print(io, { exit: EXIT_FAILURE, json: { error: e.toJSON() }, stderr: json ? undefined : `rproc ${c.name}: ${e.message}\n` }, json);
    return EXIT_FAILURE;
  }
}
