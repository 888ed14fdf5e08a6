#!/usr/bin/env node
/**
 * `rproc` entry point: dispatches to one module per command under ./commands.
 * Each command module exports `run(argv, io)` and `summary`; modules load lazily.
 */
import type { CliIO, CommandRun } from "./io.js";
import { EXIT_USAGE } from "./io.js";

const COMMANDS: Record<string, string> = {
  inspect: "read a firmware file (ELF, signed image, core dump) and check it",
  platforms: "list the bundled platforms",
  board: "drive a board's /sys/class/remoteproc (or a tree served by rproc mount)",
  boot: "boot firmware on a simulated platform (dry run), report, shut down",
  crash: "boot, inject a crash, show coredump and recovery",
  rpmsg: "boot, talk to the firmware over rpmsg (channels, messages both ways), shut down",
  mount: "serve simulated processors as a board's sysfs/debugfs/dev tree (FUSE)",
  "run-as-board": "run a host command with a tree served by rproc mount as its /sys and /dev",
  sign: "sign ELF images into an OP-TEE remoteproc signed image",
  verify: "verify an OP-TEE remoteproc signed image against a public key",
  serve: "serve a live web view of one processor (127.0.0.1 only)",
};

function usage(): string {
  const lines = ["usage: rproc <command> [options]", "", "commands:"];
  for (const [name, text] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${text}`);
  lines.push("", "Run `rproc <command> --help` for a command's options.");
  return lines.join("\n") + "\n";
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? io.stderr : io.stdout)(usage());
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (!(name in COMMANDS)) {
    io.stderr(`rproc: unknown command '${name}'\n` + usage());
    return EXIT_USAGE;
  }
  const modulePath = `./commands/${name}.js`;
  const mod = (await import(modulePath)) as { run: CommandRun };
  return mod.run(rest, io);
}

export function processIO(): CliIO {
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
