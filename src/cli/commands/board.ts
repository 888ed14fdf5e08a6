/**
 * `rproc board list|status|start|stop|firmware|trace|coredump [--root DIR] [--json]`:
 * drives a board's /sys/class/remoteproc (or a tree served by `rproc mount`)
 * through src/board/sysfs-board.ts.
 */
import { writeFileAtomic } from "../../io/output.js";
import { resolve } from "node:path";
import { isRprocError } from "../../errors.js";
import { SysfsBoard, type BoardRproc } from "../../board/sysfs-board.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../io.js";
import { defineCommand, UsageError } from "../command.js";

const ARGS: Record<string, number> = { list: 0, status: 1, start: 1, stop: 1, trace: 1, firmware: 2, coredump: 1 };

function line(r: BoardRproc): string {
  return `${r.dev.padEnd(12)} ${r.name.padEnd(12)} ${r.state.padEnd(9)} firmware ${r.firmware}${r.recovery ? `  recovery ${r.recovery}` : ""}${r.coredump ? `  coredump ${r.coredump}` : ""}${r.devcoredump ? `  dump ${r.devcoredump}` : ""}`;
}

export const command = defineCommand({
  name: "board",
  synopsis: [
    "list [--root DIR] [--json]",
    "status|start|stop|trace PROC [--root DIR] [--json]",
    "firmware PROC FILE [--firmware-dir DIR | --via-path] [--root DIR] [--json]",
    "coredump PROC -o FILE [--keep] [--root DIR] [--json]",
  ],
  description: "Drives a board's /sys/class/remoteproc (or a tree served by `rproc mount`). PROC: remoteprocN or a processor name.",
  positionals: { min: 1, max: 3, missing: "missing subcommand", extra: "wrong arguments" },
  options: {
    root: { type: "string", value: "DIR", help: "where sys/ and dev/ are (default /; a directory served by `rproc mount`)" },
    "firmware-dir": { type: "string", value: "DIR", help: "where firmware is copied (default ROOT/lib/firmware), under a unique name" },
    "via-path": { type: "boolean", help: "set firmware_class.path to the file's folder instead of copying (global on a board)" },
    output: { type: "string", short: "o", value: "FILE", help: "coredump: where the devcoredump data is written; it is freed afterwards unless --keep" },
    keep: { type: "boolean", help: "coredump: do not free the dump" },
  },
  exitStatus: "0 ok, 1 the board refused (the kernel's errno is printed), 2 usage error.",
  async run({ values, positionals }, io) {
    const [cmd, ...args] = positionals;
    if (cmd === undefined || !(cmd in ARGS) || args.length !== ARGS[cmd] || (cmd === "coredump" && !values.output))
      throw new UsageError(cmd === undefined ? "missing subcommand" : !(cmd in ARGS) ? `unknown subcommand '${cmd}'` : "wrong arguments");
  const board = new SysfsBoard(resolve(io.cwd, values.root ?? "/"));
  const out = (obj: unknown, text: string) => io.stdout(values.json ? JSON.stringify(obj, null, 2) + "\n" : text + "\n");
  try {
    if (cmd === "list") {
      const all = await board.list();
      out({ root: board.root, processors: all }, all.length ? all.map(line).join("\n") : `no remote processors under ${board.root}`);
      return { exit: EXIT_OK };
    }
    const dev = await board.resolve(args[0]!);
    switch (cmd) {
      case "status": {
        const r = await board.status(dev);
        out(r, line(r));
        break;
      }
      case "start":
      case "stop": {
        await (cmd === "start" ? board.start(dev) : board.stop(dev));
        const state = await board.state(dev);
        out({ dev, state, quirks: board.quirks }, `${dev}: ${state}`);
        break;
      }
      case "trace": {
        const text = await board.trace(dev);
        if (values.json) out({ dev, trace: text }, "");
        else io.stdout(text);
        break;
      }
      case "firmware": {
        const name = await board.placeFirmware(dev, resolve(io.cwd, args[1]!), {
          ...(values["firmware-dir"] ? { firmwareDir: resolve(io.cwd, values["firmware-dir"]) } : {}),
          ...(values["via-path"] ? { viaPath: true } : {}),
        });
        out({ dev, firmware: name }, `${dev}: firmware ${name}`);
        break;
      }
      case "coredump": {
        const data = await board.takeCoredump(dev, { free: !values.keep });
        if (!data) {
          out({ dev, error: { code: "ENODATA", message: "no devcoredump for this processor" } }, `${dev}: no devcoredump`);
          return { exit: EXIT_FAILURE };
        }
        writeFileAtomic(resolve(io.cwd, values.output!), data, { what: "dump" });
        out({ dev, bytes: data.length, output: values.output, freed: !values.keep }, `${dev}: ${data.length} bytes written to ${values.output}${values.keep ? "" : " (dump freed)"}`);
        break;
      }
    }
    return { exit: EXIT_OK };
  } catch (e) {
    if (!isRprocError(e)) throw e;
    if (values.json) io.stdout(JSON.stringify({ error: { code: e.code, step: e.step ?? null, message: e.message } }, null, 2) + "\n");
    io.stderr(`rproc board: ${e.code}: ${e.message}\n`);
    return { exit: EXIT_FAILURE };
  }
  },
});
