/**
 * `rproc mount DIR --platform P [--processor N]... [--firmware-dir DIR]`:
 * serves the simulated processors as a board's file tree (sysfs, debugfs,
 * devcoredump, /dev/remoteprocN) through FUSE, in the foreground, printing
 * every write and its answer; unmounts on SIGINT/SIGTERM.
 */
import { resolve } from "node:path";
import { isRprocError } from "../../errors.js";
import { Platform } from "../../platform/platform.js";
import { createRproc } from "../../drivers/registry.js";
import { DEFAULT_FIRMWARE_DIR } from "../../core/firmware.js";
import { stateString } from "../../core/state.js";
import type { Rproc } from "../../core/rproc.js";
import { BoardTree } from "../../interfaces/tree.js";
import { mountTree } from "../../mount/mount.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../io.js";
import { defineCommand, UsageError } from "../command.js";
import { platformArg } from "../platform-arg.js";

export const command = defineCommand({
  name: "mount",
  synopsis: "DIR --platform NAME|FILE [--processor NAME]... [--firmware-dir DIR] [--json]",
  description:
    "Serves the simulated processors as a board's file tree (sysfs, debugfs, devcoredump, /dev/remoteprocN) through FUSE.\n" +
    "DIR: an existing empty directory; the tree appears as DIR/sys/..., DIR/dev/.... --json: one JSON line per event.\n" +
    "Stays in the foreground; Ctrl-C (SIGINT) or SIGTERM unmounts. Needs root and /dev/fuse.",
  positionals: { min: 1, max: 1, missing: "one DIR expected", extra: "one DIR expected" },
  options: {
    platform: { type: "string", value: "NAME|FILE", help: "bundled platform name or platform JSON file" },
    processor: { type: "string", multiple: true, value: "NAME", help: "serve this processor (repeatable; default: all of the platform's)" },
    "firmware-dir": { type: "string", value: "DIR", help: "where firmware names are looked up (the board's /lib/firmware; default: the platform's folder, /lib/firmware)" },
  },
  exitStatus: "0 unmounted cleanly, 1 mount failed, 2 usage error.",
  async run({ values, positionals }, io) {
    if (!values.platform) throw new UsageError("missing --platform");
    const platformName = values.platform;
  const json = values.json === true;
  const say = (text: string, obj: Record<string, unknown>) => (json ? io.stdout(JSON.stringify(obj) + "\n") : io.stdout(text + "\n"));
  const fail = (e: unknown, code: number): number => {
    const msg = isRprocError(e) ? `${e.code}: ${e.message}` : String(e);
    if (json) io.stdout(JSON.stringify({ error: { code: isRprocError(e) ? e.code : "EIO", message: isRprocError(e) ? e.message : String(e) } }) + "\n");
    io.stderr(`rproc mount: ${msg}\n`);
    return code;
  };
  let rprocs: Rproc[];
  try {
    const platform = Platform.load(platformArg(platformName, io.cwd));
    const names = values.processor.length ? values.processor : platform.desc.processors.map((p) => p.name);
    const fwDir = values["firmware-dir"] ? resolve(io.cwd, values["firmware-dir"]) : undefined;
    const searchPath = fwDir ? [fwDir] : [...(platform.dir ? [platform.dir] : []), DEFAULT_FIRMWARE_DIR];
    rprocs = names.map((n) => createRproc(platform, n, { searchPath, cwd: io.cwd }));
  } catch (e) {
    return { exit: fail(e, EXIT_USAGE) };
  }
  const tree = new BoardTree(rprocs);
  tree.devcd.onChange = (what, name, r) => say(`devcoredump: ${what} ${name} (${r.devName})`, { event: "devcoredump", what, name, rproc: r.devName });
  for (const r of rprocs)
    r.events.on((e) => {
      if (e.phase === "end" && ["rproc_boot", "rproc_shutdown", "rproc_detach", "rproc_trigger_recovery", "rproc_crash_handler_work"].includes(e.step))
        say(`${r.devName}: ${e.step} done, state ${stateString(r.state)}, power ${r.power}`, { event: e.step, rproc: r.devName, state: stateString(r.state), power: r.power });
    });
  let mounted;
  try {
    mounted = mountTree(resolve(io.cwd, positionals[0]!), tree.root, {
      log: (e) => say(`${e.op} ${e.path}${e.data ? " " + e.data : ""} → ${e.errno} (${e.ms.toFixed(1)} ms)`, { event: e.op, ...e }),
      onStale: () => say(`a stale mount left by a killed rproc mount was detached`, { event: "stale-mount-cleared" }),
    });
  } catch (e) {
    tree.close();
    return { exit: fail(e, EXIT_FAILURE) };
  }
  say(`serving ${rprocs.map((r) => `${r.devName} (${r.name}, firmware ${r.firmware})`).join(", ")} at ${mounted.dir}; Ctrl-C to unmount`, {
    event: "mounted",
    dir: mounted.dir,
    processors: rprocs.map((r) => ({ dev: r.devName, name: r.name, firmware: r.firmware })),
  });
  const stop = new Promise<string>((res) => {
    process.once("SIGINT", () => res("SIGINT"));
    process.once("SIGTERM", () => res("SIGTERM"));
  });
  const why = await Promise.race([stop, mounted.closed]);
  await mounted.unmount();
  tree.close();
  say(`unmounted ${mounted.dir} (${why})`, { event: "unmounted", dir: mounted.dir, reason: why });
  // A reader blocked in the kernel past the grace period must not keep the process: exit now.
  setImmediate(() => process.exit(process.exitCode ?? 0)).unref();
  return { exit: EXIT_OK };
  },
});
