/**
 * `rproc crash FIRMWARE --platform P ...`: boot on the simulated platform,
 * make the simulated processor crash (the sim driver's behaviour model calls
 * rproc_report_crash, as a watchdog IRQ would), and show the crash work,
 * coredump and recovery; write the dump with -o.
 */
import { existsSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { hex, isRprocError } from "../../errors.js";
import { Platform } from "../../platform/platform.js";
import { Rproc } from "../../core/rproc.js";
import { createSimDriver } from "../../drivers/sim/driver.js";
import { rprocCrashFlush, rprocCrashStatus } from "../../core/crash.js";
import { coredumpStore, recoveryStore } from "../../core/recovery.js";
import { dumpBytes, writeDumpFile } from "../../core/coredump-store.js";
import { readCoreFile } from "../../formats/core-file-reader.js";
import { RprocCrashType, RprocState, crashTypeString, stateString } from "../../core/state.js";
import type { RprocEvent } from "../../core/events.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIO } from "../io.js";

export const summary = "boot, inject a crash, show coredump and recovery";

const USAGE = `usage: rproc crash FIRMWARE --platform NAME|FILE [--processor NAME] [--type mmufault|watchdog|fatal-error]
                   [--recovery enabled|disabled] [--coredump enabled|inline|disabled] [-o core.elf] [--json] [--trace]

  --type       crash type the simulated processor reports (default watchdog)
  --recovery   sysfs recovery word before the crash (default enabled)
  --coredump   sysfs coredump word before the crash (default enabled; inline: the dump is read, then recovery goes on)
  -o FILE      write the coredump (ELF core) to FILE
Exit status: 0 the sequence ended as configured (running after recovery, crashed without it, a dump when asked),
1 otherwise, 2 usage error.
`;

const TYPES: Record<string, RprocCrashType> = { mmufault: RprocCrashType.MMUFAULT, watchdog: RprocCrashType.WATCHDOG, "fatal-error": RprocCrashType.FATAL_ERROR };

function formatEvent(e: RprocEvent): string {
  const args = e.args && Object.keys(e.args).length ? " " + JSON.stringify(e.args) : "";
  return `${String(e.seq).padStart(4)} ${e.phase.padEnd(5)} ${e.step}${e.errno ? " " + e.errno : ""}${args}${e.message ? ": " + e.message : ""}`;
}

/** The steps worth showing without --trace: the crash, its work, dump and recovery milestones. */
const MILESTONES = new Set(["rproc_report_crash", "rproc_crash_handler_work", "rproc_trigger_recovery", "rproc_stop", "rproc_coredump", "rproc_coredump_using_sections", "request_firmware", "rproc_start", "running"]);

export async function run(argv: string[], io: CliIO): Promise<number> {
  let values: { platform?: string; processor?: string; type?: string; recovery?: string; coredump?: string; output?: string; json?: boolean; trace?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        platform: { type: "string" },
        processor: { type: "string" },
        type: { type: "string" },
        recovery: { type: "string" },
        coredump: { type: "string" },
        output: { type: "string", short: "o" },
        json: { type: "boolean" },
        trace: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    io.stderr(`rproc crash: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  const usage = (msg: string): number => {
    io.stderr(`rproc crash: ${msg}\n${USAGE}`);
    return EXIT_USAGE;
  };
  if (positionals.length !== 1) return usage(positionals.length ? "one FIRMWARE only" : "missing FIRMWARE");
  if (!values.platform) return usage("missing --platform");
  const type = TYPES[values.type ?? "watchdog"];
  if (type === undefined) return usage(`--type ${values.type}: one of mmufault, watchdog, fatal-error`);
  const recovery = values.recovery ?? "enabled";
  if (recovery !== "enabled" && recovery !== "disabled") return usage(`--recovery ${recovery}: enabled or disabled`);
  const coredump = values.coredump ?? "enabled";
  if (!["enabled", "inline", "disabled"].includes(coredump)) return usage(`--coredump ${coredump}: enabled, inline or disabled`);

  let platform: Platform;
  let rproc: Rproc;
  const driver = createSimDriver();
  try {
    platform = Platform.load(values.platform.includes("/") || values.platform.endsWith(".json") ? resolve(io.cwd, values.platform) : values.platform);
    const proc = platform.processor(values.processor);
    // A firmware given as a path is requested by name from its folder, so recovery finds it again there.
    const fwArg = positionals[0]!;
    const asPath = resolve(io.cwd, fwArg);
    const isPath = existsSync(asPath);
    rproc = new Rproc({
      name: proc.name,
      platform,
      processor: { ...proc, driver: "sim", initiallyRunning: false },
      ops: driver,
      firmware: isPath ? basename(asPath) : fwArg,
      searchPath: isPath ? [dirname(asPath)] : [...(platform.dir ? [platform.dir] : []), io.cwd, "/lib/firmware"],
      cwd: io.cwd,
    });
  } catch (e) {
    if (isRprocError(e)) return usage(`${e.code}: ${e.message}`);
    throw e;
  }
  const events: RprocEvent[] = [];
  const unsubscribe = rproc.events.on((e) => {
    events.push(e);
    if (values.trace && !values.json) io.stdout(formatEvent(e) + "\n");
  });
  let failure: { code: string; message: string; step?: string } | undefined;
  let written: { path: string; bytes: number } | undefined;
  try {
    await rproc.boot();
    await recoveryStore(rproc, recovery);
    coredumpStore(rproc, coredump);
    const from = events.length;
    driver.sim.crash(type);
    const before = rproc.lastDump;
    const flushed = rprocCrashFlush(rproc);
    // An inline dump blocks recovery until it is read: read it as userspace would, then recovery goes on.
    if (coredump === "inline") {
      let done = false;
      void flushed.then(() => (done = true));
      while (!done && rproc.lastDump === before) await new Promise((r) => setImmediate(r));
      const d = rproc.lastDump;
      if (d && d !== before && d.reader && !d.reader.freedBy) d.bytes = d.reader.readAll();
    }
    await flushed;
    if (!values.trace && !values.json) {
      for (const e of events.slice(from)) if (MILESTONES.has(e.step) && e.phase !== "end") io.stdout(formatEvent(e) + "\n");
    }
    const dump = rproc.lastDump;
    if (dump && values.output) written = { path: resolve(io.cwd, values.output), bytes: writeDumpFile(dump, resolve(io.cwd, values.output)) };
  } catch (e) {
    if (!isRprocError(e)) throw e;
    failure = { code: e.code, message: e.message, ...(e.step ? { step: e.step } : {}) };
  } finally {
    unsubscribe();
  }
  const dump = rproc.lastDump;
  const core = dump && (dump.bytes || !dump.reader?.freedBy) ? readCoreFile(dumpBytes(dump)) : undefined;
  const expectState = recovery === "enabled" ? RprocState.RUNNING : RprocState.CRASHED;
  // The dump is taken by boot recovery: with recovery disabled the kernel writes none.
  const wantDump = coredump !== "disabled" && recovery === "enabled";
  const ok = !failure && rproc.state === expectState && (!wantDump || dump !== undefined);
  const recoveryError = rprocCrashStatus(rproc).lastRecoveryError;
  const report = {
    platform: platform.desc.name,
    processor: rproc.processor.name,
    firmware: rproc.firmware,
    crash: { type: crashTypeString(type), crashCnt: rproc.crashCnt },
    recovery,
    coredump,
    state: stateString(rproc.state),
    expectedState: stateString(expectState),
    dump: dump
      ? { mode: dump.mode, variant: dump.variant, size: dump.size, class: core?.class, machine: core?.machine, entry: core?.entry, segments: dump.segments, written: written ?? null }
      : null,
    diagnostics: rproc.diagnostics.filter((d) => d.code.startsWith("coredump")),
    error: failure ?? (recoveryError ? recoveryError.toJSON() : null),
    ok,
  };
  if (values.json) io.stdout(JSON.stringify(report, null, 2) + "\n");
  else {
    const lines = [`crash: ${report.crash.type} in ${rproc.name} (crash #${rproc.crashCnt}), recovery ${recovery}, coredump ${coredump}`];
    if (dump) {
      lines.push(`coredump: ${dump.mode}, ${dump.size} bytes, ${dump.segments.length} segment(s)`);
      for (const s of dump.segments) lines.push(`  da ${hex(s.da)} size ${hex(s.size)}${s.name ? " " + s.name : ""}`);
      if (written) lines.push(`written to ${written.path}`);
    } else if (wantDump) lines.push("coredump: none");
    for (const d of report.diagnostics) lines.push(`${d.severity}: ${d.message}`);
    if (report.error) lines.push(`error: ${report.error.code}: ${report.error.message}`);
    lines.push(`state: ${report.state} (expected ${report.expectedState})`);
    io.stdout(lines.join("\n") + "\n");
  }
  if (rproc.state === RprocState.RUNNING) await rproc.shutdown().catch(() => undefined);
  return ok ? EXIT_OK : EXIT_FAILURE;
}
