/**
 * `rproc board list|status|start|stop|firmware|trace|coredump [--root DIR] [--json]`:
 * drives a board's /sys/class/remoteproc (or a tree served by `rproc mount`)
 * through src/board/sysfs-board.ts.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { isRprocError } from "../../errors.js";
import { SysfsBoard, type BoardRproc } from "../../board/sysfs-board.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIO } from "../io.js";

export const summary = "drive a board's /sys/class/remoteproc (or a tree served by rproc mount)";

const USAGE = `usage: rproc board list [--root DIR] [--json]
       rproc board status|start|stop|trace PROC [--root DIR] [--json]
       rproc board firmware PROC FILE [--firmware-dir DIR | --via-path] [--root DIR] [--json]
       rproc board coredump PROC -o FILE [--keep] [--root DIR] [--json]

  PROC            remoteprocN or a processor name (as in its name file)
  --root DIR      where sys/ and dev/ are (default /; a directory served by \`rproc mount\`)
  --firmware-dir  where firmware is copied (default ROOT/lib/firmware), under a unique name
  --via-path      set firmware_class.path to the file's folder instead of copying (global on a board)
  -o FILE         coredump: where the devcoredump data is written; it is freed afterwards unless --keep
Exit status: 0 ok, 1 the board refused (the kernel's errno is printed), 2 usage error.
`;

const ARGS: Record<string, number> = { list: 0, status: 1, start: 1, stop: 1, trace: 1, firmware: 2, coredump: 1 };

function line(r: BoardRproc): string {
  return `${r.dev.padEnd(12)} ${r.name.padEnd(12)} ${r.state.padEnd(9)} firmware ${r.firmware}${r.recovery ? `  recovery ${r.recovery}` : ""}${r.coredump ? `  coredump ${r.coredump}` : ""}${r.devcoredump ? `  dump ${r.devcoredump}` : ""}`;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  let values: { root?: string; json?: boolean; help?: boolean; "firmware-dir"?: string; "via-path"?: boolean; output?: string; keep?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        root: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        "firmware-dir": { type: "string" },
        "via-path": { type: "boolean" },
        output: { type: "string", short: "o" },
        keep: { type: "boolean" },
      },
    }));
  } catch (e) {
    io.stderr(`rproc board: ${(e as Error).message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  const [cmd, ...args] = positionals;
  if (cmd === undefined || !(cmd in ARGS) || args.length !== ARGS[cmd] || (cmd === "coredump" && !values.output)) {
    io.stderr(`rproc board: ${cmd === undefined ? "missing subcommand" : !(cmd in ARGS) ? `unknown subcommand '${cmd}'` : "wrong arguments"}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const board = new SysfsBoard(resolve(io.cwd, values.root ?? "/"));
  const out = (obj: unknown, text: string) => io.stdout(values.json ? JSON.stringify(obj, null, 2) + "\n" : text + "\n");
  try {
    if (cmd === "list") {
      const all = await board.list();
      out({ root: board.root, processors: all }, all.length ? all.map(line).join("\n") : `no remote processors under ${board.root}`);
      return EXIT_OK;
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
          return EXIT_FAILURE;
        }
        writeFileSync(resolve(io.cwd, values.output!), data);
        out({ dev, bytes: data.length, output: values.output, freed: !values.keep }, `${dev}: ${data.length} bytes written to ${values.output}${values.keep ? "" : " (dump freed)"}`);
        break;
      }
    }
    return EXIT_OK;
  } catch (e) {
    if (!isRprocError(e)) throw e;
    if (values.json) io.stdout(JSON.stringify({ error: { code: e.code, step: e.step ?? null, message: e.message } }, null, 2) + "\n");
    io.stderr(`rproc board: ${e.code}: ${e.message}\n`);
    return EXIT_FAILURE;
  }
}
