/**
 * `rproc crash FIRMWARE --platform P ...`: boot on the simulated platform,
 * make the simulated processor crash (the sim driver's behaviour model calls
 * rproc_report_crash, as a watchdog IRQ would), and show the crash work,
 * coredump and recovery; write the dump with -o.
 */
import { existsSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { hex, hexValues, isRprocError } from "../../errors.js";
import { Platform } from "../../platform/platform.js";
import { Rproc } from "../../core/rproc.js";
import { createSimDriver } from "../../drivers/sim/driver.js";
import { rprocCrashFlush, rprocCrashStatus } from "../../core/crash.js";
import { coredumpStore, recoveryStore } from "../../core/recovery.js";
import { dumpBytes, writeDumpFile } from "../../core/coredump-store.js";
import { readCoreFile } from "../../formats/core-file-reader.js";
import { RprocCrashType, RprocState, crashTypeString, stateString } from "../../core/state.js";
import type { RprocEvent } from "../../core/events.js";
import { DEFAULT_FIRMWARE_DIR, requestFirmware } from "../../core/firmware.js";
import { COMMAND_WORD, FIXTURE_FAULTS, commandWordAddress, createEmulatedDriver, injectFixtureFault, isFixtureFault, lastCrash, waitForCrash } from "../../drivers/emulated/index.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIO } from "../io.js";
import { formatEvent } from "../render-event.js";
import { withProgress } from "../progress.js";
import { platformArg } from "../platform-arg.js";

export const summary = "boot, inject a crash, show coredump and recovery";

const USAGE = `usage: rproc crash FIRMWARE --platform NAME|FILE [--processor NAME] [--type mmufault|watchdog|fatal-error]
                   [--recovery enabled|disabled] [--coredump enabled|inline|disabled] [-o core.elf] [--json] [--trace]
                   [--driver sim|emulated] [--fault mmufault|undef|watchdog] [--wait-ms N]

  --type       crash type the simulated processor reports (default watchdog)
  --recovery   sysfs recovery word before the crash (default: the driver's, enabled except ti_k3_r5)
  --coredump   sysfs coredump word before the crash (default enabled; inline: the dump is read, then recovery goes on)
  -o FILE      write the coredump (ELF core) to FILE
  --driver     sim (default): the simulated processor reports the crash; emulated: the firmware runs on an
               emulated core and crashes by itself (default when the platform names the emulated driver)
  --fault      emulated: make the firmware crash through its command word ${COMMAND_WORD} (the fixture firmware's
               command interface, docs/emulated-driver.md); without it, wait for a crash of the firmware's own
  --wait-ms    emulated: how long to wait for the crash (default 10000)
Exit status: 0 the sequence ended as configured (running after recovery, crashed without it, a dump when asked),
1 otherwise, 2 usage error.
`;

const TYPES: Record<string, RprocCrashType> = { mmufault: RprocCrashType.MMUFAULT, watchdog: RprocCrashType.WATCHDOG, "fatal-error": RprocCrashType.FATAL_ERROR };

/** The steps worth showing without --trace: the crash, its work, dump and recovery milestones. */
const MILESTONES = new Set(["inject_fault", "rproc_report_crash", "rproc_crash_handler_work", "rproc_trigger_recovery", "rproc_boot_recovery", "rproc_attach_recovery", "rproc_stop", "rproc_coredump", "rproc_coredump_using_sections", "request_firmware", "rproc_start", "running"]);

export async function run(argv: string[], io: CliIO): Promise<number> {
  let values: { platform?: string; processor?: string; type?: string; recovery?: string; coredump?: string; output?: string; json?: boolean; trace?: boolean; help?: boolean; driver?: string; fault?: string; "wait-ms"?: string };
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
        driver: { type: "string" },
        fault: { type: "string" },
        "wait-ms": { type: "string" },
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
  const recoveryArg = values.recovery;
  if (recoveryArg !== undefined && recoveryArg !== "enabled" && recoveryArg !== "disabled") return usage(`--recovery ${recoveryArg}: enabled or disabled`);
  const coredump = values.coredump ?? "enabled";
  if (!["enabled", "inline", "disabled"].includes(coredump)) return usage(`--coredump ${coredump}: enabled, inline or disabled`);
  if (values.driver !== undefined && values.driver !== "sim" && values.driver !== "emulated") return usage(`--driver ${values.driver}: sim or emulated`);
  const fault = values.fault;
  if (fault !== undefined && !isFixtureFault(fault)) return usage(`--fault ${fault}: one of ${Object.keys(FIXTURE_FAULTS).join(", ")}`);
  const waitMs = values["wait-ms"] === undefined ? 10_000 : Number(values["wait-ms"]);
  if (!Number.isSafeInteger(waitMs) || waitMs <= 0) return usage(`--wait-ms ${values["wait-ms"]}: not a positive integer`);
  let emulated = false;
  let commandDa: number | undefined;

  let platform: Platform;
  let rproc: Rproc;
  const driver = createSimDriver();
  try {
    platform = Platform.load(platformArg(values.platform, io.cwd));
    const proc = platform.processor(values.processor);
    emulated = (values.driver ?? (proc.driver === "emulated" ? "emulated" : "sim")) === "emulated";
    if (!emulated && fault !== undefined) return usage(`--fault ${fault} makes the firmware itself crash: it needs --driver emulated`);
    if (emulated && values.type !== undefined) return usage("--type: on an emulated core the firmware's own crash decides the type (use --fault)");
    // A firmware given as a path is requested by name from its folder, so recovery finds it again there.
    const fwArg = positionals[0]!;
    const asPath = resolve(io.cwd, fwArg);
    const isPath = existsSync(asPath);
    const ops = emulated ? createEmulatedDriver() : driver;
    rproc = new Rproc({
      name: proc.name,
      platform,
      processor: { ...proc, driver: emulated ? "emulated" : "sim", initiallyRunning: false },
      ops,
      firmware: isPath ? basename(asPath) : fwArg,
      searchPath: isPath ? [dirname(asPath)] : [...(platform.dir ? [platform.dir] : []), io.cwd, DEFAULT_FIRMWARE_DIR],
      cwd: io.cwd,
    });
    // The driver's probe: its defaults (ti_k3_r5 disables recovery, so the default --recovery follows it).
    ops.probe?.(rproc);
    if (fault !== undefined) {
      // A firmware that cannot be found fails the boot below (exit 1); one without the command word cannot be asked to crash.
      let image: Uint8Array | undefined;
      try {
        image = requestFirmware(rproc.firmware, rproc.searchPath, io.cwd).data;
      } catch (e) {
        if (!isRprocError(e)) throw e;
      }
      if (image) {
        commandDa = commandWordAddress(image);
        if (commandDa === undefined) {
          return usage(
            `--fault ${fault}: ${fwArg} has no command word ${COMMAND_WORD} (the fixture firmware's command interface, docs/emulated-driver.md), ` +
              "so it cannot be made to crash on request; omit --fault to wait for a crash of its own",
          );
        }
      }
    }
  } catch (e) {
    if (isRprocError(e)) return usage(`${e.code}: ${e.message}`);
    throw e;
  }
  const recovery = recoveryArg ?? (rproc.recoveryDisabled ? "disabled" : "enabled");
  const events: RprocEvent[] = [];
  const unsubscribe = rproc.events.on((e) => {
    events.push(e);
    if (values.trace && !values.json) io.stdout(formatEvent(e) + "\n");
  });
  let failure: { code: string; message: string; step?: string } | undefined;
  let written: { path: string; bytes: number } | undefined;
  let writeFailed = false;
  // Whether a crash happened: a boot that fails never gets that far, and an emulated firmware may
  // not crash within --wait-ms; in both cases the report must not read as a crash.
  let booted = false;
  let injected = false;
  try {
    await rproc.boot();
    booted = true;
    await recoveryStore(rproc, recovery);
    coredumpStore(rproc, coredump);
    const from = events.length;
    if (!emulated) driver.sim.crash(type);
    else if (fault !== undefined && commandDa !== undefined) await withProgress(io, !values.json, `${rproc.name}: ${fault} requested, waiting for the firmware to crash`, injectFixtureFault(rproc, commandDa, fault, waitMs));
    else if (rprocCrashStatus(rproc).reports === 0) await withProgress(io, !values.json, `${rproc.name}: running, waiting for the firmware to crash (up to ${waitMs} ms)`, waitForCrash(rproc, waitMs));
    injected = true;
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
    if (dump && values.output) {
      try {
        written = { path: resolve(io.cwd, values.output), bytes: writeDumpFile(dump, resolve(io.cwd, values.output)) };
      } catch (e) {
        writeFailed = true;
        throw e;
      }
    }
  } catch (e) {
    if (!isRprocError(e)) throw e;
    failure = { code: e.code, message: e.message, ...(e.step ? { step: e.step } : {}) };
  } finally {
    // An inline dump is always read above; if something failed first, release it explicitly so
    // recovery is not left waiting on devcoredump's timeout, and let the crash work finish.
    for (const d of rproc.dumps) if (d.reader && !d.reader.freedBy) d.reader.finish();
    await rprocCrashFlush(rproc);
    unsubscribe();
  }
  const dump = rproc.lastDump;
  const core = dump && (dump.bytes || !dump.reader?.freedBy) ? readCoreFile(dumpBytes(dump)) : undefined;
  const expectState = recovery === "enabled" ? RprocState.RUNNING : RprocState.CRASHED;
  // The dump is taken by boot recovery: with recovery disabled the kernel writes none.
  // A driver that registers no segments (TI K3 R5F: coredumpSegments "none") gets none either, faithfully.
  const noSegments = rproc.processor.coredumpSegments === "none";
  // rproc_coredump checks the segments first, then the ELF class (imx_rproc never sets it).
  const noElfClass = !noSegments && rproc.elfClass === 0;
  const wantDump = coredump !== "disabled" && recovery === "enabled" && !noSegments && !noElfClass;
  const noDump =
    dump || coredump === "disabled"
      ? null
      : noSegments
        ? `${rproc.name}'s driver registers no coredump segments (platform coredumpSegments "none": the kernel driver, e.g. ti_k3_r5_remoteproc, registers none), so rproc_coredump takes no dump`
        : recovery === "disabled"
          ? "recovery is disabled: the dump is taken by recovery, so there is none"
          : noElfClass
            ? `${rproc.name}'s driver never sets the coredump ELF class (rproc_coredump_set_elf_info; imx_rproc does not call it), so rproc_coredump stops at "Elf class is not set" and takes no dump`
            : null;
  // Asked for a file and there is none to write: say so and fail, whatever the reason.
  const ok = !failure && rproc.state === expectState && (!wantDump || dump !== undefined) && !(values.output && !written);
  const emuFault = emulated ? lastCrash(rproc) : undefined;
  const reportedType = emulated ? (rprocCrashStatus(rproc).lastType ?? type) : type;
  const recoveryError = rprocCrashStatus(rproc).lastRecoveryError;
  const report = {
    platform: platform.desc.name,
    processor: rproc.processor.name,
    firmware: rproc.firmware,
    driver: emulated ? "emulated" : "sim",
    crash: { type: crashTypeString(reportedType), crashCnt: rproc.crashCnt, injected },
    fault: emuFault
      ? {
          kind: emuFault.kind,
          pc: hex(emuFault.pc),
          address: emuFault.address !== undefined ? hex(emuFault.address) : null,
          access: emuFault.access ?? null,
          message: emuFault.message,
          registers: hexValues(emuFault.registers.regs),
        }
      : null,
    recovery,
    coredump,
    state: stateString(rproc.state),
    expectedState: stateString(expectState),
    dump: dump
      ? {
          mode: dump.mode,
          variant: dump.variant,
          size: dump.size,
          class: core?.class,
          machine: core?.machine,
          entry: core?.entry,
          segments: dump.segments,
          prstatus: core?.registers ? hexValues(core.registers.regs) : null,
          written: written ?? null,
        }
      : null,
    noDump,
    diagnostics: rproc.diagnostics.filter((d) => d.code.startsWith("coredump")),
    error: failure ?? (recoveryError ? recoveryError.toJSON() : null),
    ok,
  };
  if (values.json) io.stdout(JSON.stringify(report, null, 2) + "\n");
  else {
    const lines = injected
      ? [`crash: ${report.crash.type} in ${rproc.name} (crash #${rproc.crashCnt}), recovery ${recovery}, coredump ${coredump}`]
      : booted
        ? [`no crash: the processor did not crash within ${waitMs} ms`]
        : [`no crash injected: the boot failed${failure?.step ? ` at ${failure.step}` : ""}`];
    if (emuFault) {
      lines.push(`fault: ${emuFault.kind} at pc ${hex(emuFault.pc)}${emuFault.address !== undefined ? `, ${emuFault.access ?? "access"} of ${hex(emuFault.address)}` : ""}: ${emuFault.message}`);
      const regs = Object.entries(emuFault.registers.regs).map(([k, v]) => `${k.padStart(6)} ${hex(v).padEnd(10)}`);
      for (let i = 0; i < regs.length; i += 4) lines.push("  " + regs.slice(i, i + 4).join(" ").trimEnd());
    }
    if (dump) {
      lines.push(`coredump: ${dump.mode}, ${dump.size} bytes, ${dump.segments.length} segment(s)${core?.registers ? `, registers in an NT_PRSTATUS note (pc ${hex(core.registers.regs.r15 ?? core.registers.regs.pc ?? 0)})` : ""}`);
      for (const s of dump.segments) lines.push(`  da ${hex(s.da)} size ${hex(s.size)}${s.name ? " " + s.name : ""}`);
      if (written) lines.push(`written to ${written.path}`);
    } else if (noDump) lines.push(`coredump: none: ${noDump}`);
    else if (wantDump && injected) lines.push("coredump: none");
    if (values.output && !written) lines.push(`nothing written to ${values.output}: ${writeFailed ? "the write failed (error below)" : "there is no dump"}`);
    for (const d of report.diagnostics) lines.push(`${d.severity}: ${d.message}`);
    if (report.error) lines.push(`error: ${report.error.code}: ${report.error.message}`);
    lines.push(`state: ${report.state} (expected ${report.expectedState})`);
    io.stdout(lines.join("\n") + "\n");
  }
  if (rproc.state === RprocState.RUNNING) await rproc.shutdown().catch(() => undefined);
  return ok ? EXIT_OK : EXIT_FAILURE;
}
