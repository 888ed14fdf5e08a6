/**
 * crashReport(): the flow behind `rproc crash`, beside bootReport(): create
 * the processor, boot it, set the sysfs recovery and coredump words, make it
 * crash (the sim driver's behaviour model calls rproc_report_crash as a
 * watchdog IRQ would; on an emulated core the firmware faults by itself),
 * read an inline dump as userspace does when devcoredump announces it, let
 * the crash work and recovery finish, and report what happened. The CLI only
 * renders what this returns.
 */
import type { Diagnostic } from "../diagnostics.js";
import { hex, hexValues, isRprocError, RprocError } from "../errors.js";
import { readCoreFile } from "../formats/core-file-reader.js";
import type { CoreClass } from "../formats/core-file.js";
import { Platform } from "../platform/platform.js";
import { rprocCrashFlush, rprocCrashStatus } from "../core/crash.js";
import { coredumpStore, recoveryStore } from "../core/recovery.js";
import { dumpBytes } from "../core/coredump-store.js";
import { openRproc } from "../drivers/registry.js";
import { firmwareArg, firmwareCandidates, requestFirmware } from "../core/firmware.js";
import type { RprocEvent } from "../core/events.js";
import type { Rproc } from "../core/rproc.js";
import { RprocCrashType, RprocState, crashTypeString, stateString } from "../core/state.js";
import type { SimDriverOps } from "../drivers/sim/driver.js";
import { decodeFaultStatus } from "../drivers/emulated/fault-status.js";
import { crashHistory } from "../drivers/emulated/driver.js";
import { COMMAND_WORD, commandWordAddress, injectFixtureFault, lastCrash, waitForCrash, type FixtureFault } from "../drivers/emulated/index.js";
import { refuseOutput, writeFileAtomic } from "../io/output.js";
import { dirname, basename } from "node:path";

export type CrashTypeName = "mmufault" | "watchdog" | "fatal-error";
const TYPES: Record<CrashTypeName, RprocCrashType> = { mmufault: RprocCrashType.MMUFAULT, watchdog: RprocCrashType.WATCHDOG, "fatal-error": RprocCrashType.FATAL_ERROR };

export interface CrashReportOptions {
  /** Bundled platform name or path to a platform JSON file, or a loaded Platform. */
  platform: string | Platform;
  processor?: string;
  /** A path (a file that exists relative to cwd) or a firmware name looked up on the search path. */
  firmware: string;
  cwd?: string;
  /** Crash type the simulated processor reports (default watchdog); not with the emulated driver. */
  type?: CrashTypeName;
  recovery?: "enabled" | "disabled";
  coredump?: "enabled" | "inline" | "disabled";
  /** Default: the processor's driver when it is "emulated", else "sim". */
  driver?: "sim" | "emulated";
  /** Emulated: ask the firmware to crash through its command word; without it, wait for its own crash. */
  fault?: FixtureFault;
  /** Emulated: how long to wait for the crash (default 10000). */
  waitMs?: number;
  /** Write the dump (ELF core) here, atomically; refused when it names the firmware. */
  output?: string;
  /** Every lifecycle event as it happens. */
  onEvent?: (e: RprocEvent) => void;
  /** Wraps a long wait (progress on a terminal). */
  progress?: <T>(label: string, work: Promise<T>) => Promise<T>;
}

export interface CrashReport {
  platform: string;
  processor: string;
  firmware: string;
  driver: "sim" | "emulated";
  crash: { type: string; crashCnt: number; injected: boolean };
  fault: null | {
    kind: string;
    pc: string;
    address: string | null;
    access: string | null;
    message: string;
    registers: Record<string, string>;
    /** Fault status registers (Cortex-M CFSR/HFSR/MMFAR/BFAR, R5 DFSR/DFAR/IFSR/IFAR) and the names of their set bits. */
    status: Record<string, string> | null;
    statusDecoded: string[];
  };
  /** The emulated firmware faulted again after its recovery: count of faults since the start and the first one. */
  crashLoop: null | { count: number; first: { kind: string; pc: string; message: string; registers: Record<string, string> } };
  recovery: string;
  coredump: string;
  state: string;
  expectedState: string;
  dump: null | {
    mode: string;
    variant: string;
    size: number;
    class: CoreClass | undefined;
    machine: number | undefined;
    entry: number | undefined;
    segments: { da: number; size: number; name?: string }[];
    prstatus: Record<string, string> | null;
    written: { path: string; bytes: number } | null;
  };
  noDump: string | null;
  diagnostics: Diagnostic[];
  error: null | { code: string; message: string; step?: string };
  ok: boolean;
}

/** The report, plus the events and where the crash began (for a renderer's milestones). */
export interface CrashRun {
  report: CrashReport;
  events: RprocEvent[];
  crashFrom: number;
  /** The write of `output` failed (the error is in report.error). */
  writeFailed: boolean;
  /** The boot succeeded (a report without a crash then means the firmware did not crash in time). */
  booted: boolean;
}

/** Firmware given as a path is requested by name from its folder, so recovery finds it again there. */
function firmwareSetup(firmware: string, cwd: string): { firmware: string; searchPath?: string[] } {
  const arg = firmwareArg(firmware, cwd);
  return arg === firmware && !arg.startsWith("/") ? { firmware } : { firmware: basename(arg), searchPath: [dirname(arg)] };
}

/**
 * Creates the processor. Throws (before anything runs) for what the caller
 * asked wrongly: a platform or processor that does not load, a fault on the
 * simulated driver, a type on the emulated one, a firmware without the
 * fixture's command word.
 */
async function setup(opts: CrashReportOptions, cwd: string): Promise<{ rproc: Rproc; emulated: boolean; commandDa?: number }> {
  const platform = typeof opts.platform === "string" ? Platform.load(opts.platform) : opts.platform;
  const proc = platform.processor(opts.processor);
  const emulated = (opts.driver ?? (proc.driver === "emulated" ? "emulated" : "sim")) === "emulated";
  if (!emulated && opts.fault !== undefined)
    throw new RprocError("EINVAL", `--fault ${opts.fault} makes the firmware itself crash: it needs --driver emulated`, { field: "fault" });
  if (emulated && opts.type !== undefined) throw new RprocError("EINVAL", "--type: on an emulated core the firmware's own crash decides the type (use --fault)", { field: "type" });
  const fw = firmwareSetup(opts.firmware, cwd);
  const rproc = await openRproc(platform, proc.name, {
    driver: emulated ? "emulated" : "sim",
    firmware: fw.firmware,
    searchPath: fw.searchPath ?? [...(platform.dir ? [platform.dir] : []), cwd, "/lib/firmware"],
    cwd,
  });
  if (opts.fault === undefined) return { rproc, emulated };
  // A firmware that cannot be found fails the boot (exit 1); one without the command word cannot be asked to crash.
  let image: Uint8Array | undefined;
  try {
    image = requestFirmware(rproc.firmware, rproc.searchPath, cwd).data;
  } catch (e) {
    if (!isRprocError(e)) throw e;
  }
  const commandDa = image && commandWordAddress(image);
  if (image && commandDa === undefined)
    throw new RprocError(
      "EINVAL",
      `--fault ${opts.fault}: ${opts.firmware} has no command word ${COMMAND_WORD} (the fixture firmware's command interface, docs/emulated-driver.md), ` +
        "so it cannot be made to crash on request; omit --fault to wait for a crash of its own",
      { field: "fault" },
    );
  return { rproc, emulated, ...(commandDa !== undefined ? { commandDa } : {}) };
}

export async function crashReport(opts: CrashReportOptions): Promise<CrashRun> {
  const cwd = opts.cwd ?? process.cwd();
  const coredump = opts.coredump ?? "enabled";
  const type = TYPES[opts.type ?? "watchdog"];
  const waitMs = opts.waitMs ?? 10_000;
  const progress = opts.progress ?? (<T>(_: string, w: Promise<T>) => w);
  const { rproc, emulated, commandDa } = await setup(opts, cwd);
  // Default: the driver's own (its probe ran: ti_k3_r5 disables recovery).
  const recovery = opts.recovery ?? (rproc.recoveryDisabled ? "disabled" : "enabled");
  // The dump must not land on the firmware it was taken from (nor on any other input): refused before the boot.
  if (opts.output !== undefined) refuseOutput(opts.output, { what: "dump", inputs: firmwareCandidates(rproc.firmware, rproc.searchPath, cwd) });
  const events: RprocEvent[] = [];
  const unsubscribe = rproc.events.on((e) => {
    events.push(e);
    opts.onEvent?.(e);
    // devcoredump announced an inline dump: read it, as userspace does on the uevent; recovery then goes on.
    if (e.phase === "info" && coredump === "inline" && typeof e.args?.dump === "number")
      queueMicrotask(() => {
        const d = rproc.lastDump;
        if (d?.reader && !d.reader.freedBy) d.bytes = d.reader.readAll();
      });
  });
  let failure: CrashReport["error"] = null;
  let written: { path: string; bytes: number } | undefined;
  let writeFailed = false;
  // A boot that fails never crashes, and an emulated firmware may not crash within waitMs: neither reads as a crash.
  let booted = false;
  let injected = false;
  let crashFrom = 0;
  try {
    await rproc.boot();
    booted = true;
    await recoveryStore(rproc, recovery);
    coredumpStore(rproc, coredump);
    crashFrom = events.length;
    if (!emulated) (rproc.ops as SimDriverOps).sim.crash(type);
    else if (opts.fault !== undefined && commandDa !== undefined)
      await progress(`${rproc.name}: ${opts.fault} requested, waiting for the firmware to crash`, injectFixtureFault(rproc, commandDa, opts.fault, waitMs));
    else if (rprocCrashStatus(rproc).reports === 0) await progress(`${rproc.name}: running, waiting for the firmware to crash (up to ${waitMs} ms)`, waitForCrash(rproc, waitMs));
    injected = true;
    await rprocCrashFlush(rproc);
    // A firmware that faults again right after its recovery is a crash loop: watch the recovered core a little.
    if (emulated && rproc.state === RprocState.RUNNING) await settleAfterRecovery(rproc, Math.min(waitMs, CRASH_LOOP_WATCH_MS));
    const dump = rproc.lastDump;
    if (dump && opts.output !== undefined) {
      try {
        written = { path: opts.output, bytes: writeFileAtomic(opts.output, dumpBytes(dump), { what: "dump" }) };
      } catch (e) {
        writeFailed = true;
        throw e;
      }
    }
  } catch (e) {
    if (!isRprocError(e)) throw e;
    failure = { code: e.code, message: e.message, ...(e.step ? { step: e.step } : {}) };
  } finally {
    // If something failed before an inline dump was read, release it so recovery is not left waiting on devcoredump's timeout.
    for (const d of rproc.dumps) if (d.reader && !d.reader.freedBy) d.reader.finish();
    await rprocCrashFlush(rproc);
    unsubscribe();
  }
  const report = buildReport(rproc, { emulated, type, recovery, coredump, failure, written, booted, injected, wantFile: opts.output !== undefined });
  if (rproc.state === RprocState.RUNNING) await rproc.shutdown().catch(() => undefined);
  return { report, events, crashFrom, writeFailed, booted };
}

interface Outcome {
  emulated: boolean;
  type: RprocCrashType;
  recovery: string;
  coredump: string;
  failure: CrashReport["error"];
  written: { path: string; bytes: number } | undefined;
  booted: boolean;
  injected: boolean;
  wantFile: boolean;
}

function noDumpReason(rproc: Rproc, o: Outcome, hasDump: boolean): string | null {
  if (hasDump || o.coredump === "disabled") return null;
  // A driver that registers no segments (TI K3 R5F: coredumpSegments "none") gets none, faithfully.
  if (rproc.processor.coredumpSegments === "none")
    return `${rproc.name}'s driver registers no coredump segments (platform coredumpSegments "none": the kernel driver, e.g. ti_k3_r5_remoteproc, registers none), so rproc_coredump takes no dump`;
  // The dump is taken by boot recovery: with recovery disabled the kernel writes none.
  if (o.recovery === "disabled") return "recovery is disabled: the dump is taken by recovery, so there is none";
  // rproc_coredump checks the segments first, then the ELF class (imx_rproc never sets it).
  if (rproc.elfClass === 0)
    return `${rproc.name}'s driver never sets the coredump ELF class (rproc_coredump_set_elf_info; imx_rproc does not call it), so rproc_coredump stops at "Elf class is not set" and takes no dump`;
  return null;
}

/** How long `rproc crash` watches a recovered emulated core for a crash loop. */
const CRASH_LOOP_WATCH_MS = 300;

async function settleAfterRecovery(rproc: Rproc, ms: number): Promise<void> {
  const before = rproc.crashCnt;
  const end = Date.now() + ms;
  while (Date.now() < end && rproc.crashCnt === before) await new Promise((r) => setTimeout(r, 5));
  await rprocCrashFlush(rproc);
}

function buildReport(rproc: Rproc, o: Outcome): CrashReport {
  const dump = rproc.lastDump;
  const core = dump && (dump.bytes || !dump.reader?.freedBy) ? readCoreFile(dumpBytes(dump)) : undefined;
  const expectState = o.recovery === "enabled" ? RprocState.RUNNING : RprocState.CRASHED;
  const wantDump = o.coredump !== "disabled" && o.recovery === "enabled" && rproc.processor.coredumpSegments !== "none" && rproc.elfClass !== 0;
  // Asked for a file and there is none to write: fail, whatever the reason.
  const history = o.emulated ? crashHistory(rproc) : undefined;
  const crashLoop = history !== undefined && history.count >= 2 ? history : undefined;
  const ok = !crashLoop && !o.failure && rproc.state === expectState && (!wantDump || dump !== undefined) && !(o.wantFile && !o.written);
  const emuFault = o.emulated ? lastCrash(rproc) : undefined;
  const status = rprocCrashStatus(rproc);
  const reportedType = o.emulated ? (status.lastType ?? o.type) : o.type;
  const recoveryError = status.lastRecoveryError;
  return {
    platform: rproc.platform.desc.name,
    processor: rproc.processor.name,
    firmware: rproc.firmware,
    driver: o.emulated ? "emulated" : "sim",
    crash: { type: crashTypeString(reportedType), crashCnt: rproc.crashCnt, injected: o.injected },
    fault: emuFault
      ? {
          kind: emuFault.kind,
          pc: hex(emuFault.pc),
          address: emuFault.address !== undefined ? hex(emuFault.address) : null,
          access: emuFault.access ?? null,
          message: emuFault.message,
          registers: hexValues(emuFault.registers.regs),
          status: emuFault.status ? hexValues(emuFault.status) : null,
          statusDecoded: emuFault.status ? decodeFaultStatus(emuFault.status) : [],
        }
      : null,
    crashLoop: crashLoop?.first
      ? { count: crashLoop.count, first: { kind: crashLoop.first.kind, pc: hex(crashLoop.first.pc), message: crashLoop.first.message, registers: hexValues(crashLoop.first.registers.regs) } }
      : null,
    recovery: o.recovery,
    coredump: o.coredump,
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
          written: o.written ?? null,
        }
      : null,
    noDump: noDumpReason(rproc, o, dump !== undefined),
    diagnostics: rproc.diagnostics.filter((d) => d.code.startsWith("coredump")),
    error: o.failure ?? (recoveryError ? recoveryError.toJSON() : null),
    ok,
  };
}
