#!/usr/bin/env node
/**
 * `rproc` entry point: looks the command up in registry.ts, loads its module
 * (only that one) and runs it through the one command shape (command.ts).
 */
import type { CliIO } from "./io.js";
import { EXIT_USAGE } from "./io.js";
import { runCommand } from "./command.js";
import { COMMANDS } from "./registry.js";

function usage(): string {
  const lines = ["usage: rproc <command> [options]", "", "commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push("", "Run `rproc <command> --help` for a command's options.");
  return lines.join("\n") + "\n";
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? io.stderr : io.stdout)(usage());
    return name === undefined ? EXIT_USAGE : 0;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (entry === undefined) {
    io.stderr(`rproc: unknown command '${name}'\n` + usage());
    return EXIT_USAGE;
  }
  const { command } = await entry.load();
  return runCommand(command, rest, io);
}

/**
 * The real process's streams. A reader that goes away (`rproc inspect --json
 * big.elf | head`) ends the process quietly: EPIPE is not rproc's failure.
 */
export function processIO(): CliIO {
  for (const s of [process.stdout, process.stderr])
    s.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw e;
    });
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    isTTY: Boolean(process.stdout.isTTY),
    cwd: process.cwd(),
    env: process.env,
  };
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly || process.argv[1]?.endsWith("/rproc")) {
  main(process.argv.slice(2), processIO()).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`rproc: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
