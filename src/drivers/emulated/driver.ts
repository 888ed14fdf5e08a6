/**
 * The emulated-core driver: RprocOps whose start runs the user's firmware,
 * unmodified, on a Unicorn CPU with the platform's memory map.
 *
 * It is layered on the platform behaviour of another driver (`base`: how the
 * platform registers carveouts, translates addresses, declares coredump
 * segments — the same as for the simulated driver) and replaces only what a
 * real CPU does: start, stop, kick and panic. Unicorn is loaded at the first
 * start, so platforms without emulated processors never need it.
 *
 * A fault of the core (unmapped access, undefined instruction, fault handler
 * entered, watchdog expiry) becomes rproc_report_crash with the kernel's
 * crash type; the registers at the fault go to the next coredump as an
 * NT_PRSTATUS note.
 */
import { hex, hexValues } from "../../errors.js";
import { diag } from "../../diagnostics.js";
import type { CoreRegisters } from "../../formats/core-file-prstatus.js";
import type { DriverOps } from "../../core/ops.js";
import type { Rproc } from "../../core/rproc.js";
import { RprocCrashType } from "../../core/state.js";
import { rprocReportCrash } from "../../core/crash.js";
import { rprocCoredumpSetElfInfo, rprocCoredumpSetRegisters } from "../../core/coredump.js";
import { loadUnicorn } from "./unicorn.js";
import { EmulatedMachine, type CoreFault, type FaultKind } from "./machine.js";
import { defaultScheduler, type SliceScheduler, type SliceTask } from "./scheduler.js";
import { EM_AARCH64 } from "./core-kind.js";
import { SliceBudget } from "./slice-budget.js";
import { ConsoleBuffer } from "./soc.js";
import { UnmodelledLog } from "./unmodelled-log.js";

export interface EmulatedDriverOptions {
  /** Most instructions per slice (default 1,000,000). */
  sliceInsns?: number;
  /** Host time a slice aims at, in ms (default 4): the budget follows the core's measured speed, so the event loop is never held longer than about this per core. */
  sliceMs?: number;
  /** Platform time: instructions per millisecond, for watchdog timeouts (default 100,000, a 100 MHz core at one instruction per cycle). */
  insnsPerMs?: number;
  scheduler?: SliceScheduler;
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_SLICE_INSNS = 1_000_000;
export const DEFAULT_SLICE_MS = 4;
export const DEFAULT_INSNS_PER_MS = 100_000;

interface CoreState {
  machine: EmulatedMachine | undefined;
  task: SliceTask | undefined;
  lastFault: CoreFault | undefined;
  /** What the firmware wrote to its console UART, across restarts. */
  console: ConsoleBuffer;
  /** Unmodelled peripheral accesses, per processor across restarts (recovery reloads must not repeat them). */
  unmodelled: UnmodelledLog;
  /** Faults since the first start: a fault right after each recovery is a crash loop. */
  faults: number;
  firstFault: CoreFault | undefined;
}

const cores = new WeakMap<Rproc, CoreState>();

function stateOf(rproc: Rproc): CoreState {
  let s = cores.get(rproc);
  if (!s) {
    s = { machine: undefined, task: undefined, lastFault: undefined, console: new ConsoleBuffer(), unmodelled: new UnmodelledLog(), faults: 0, firstFault: undefined };
    cores.set(rproc, s);
  }
  return s;
}

/** The registers of the last crash of an emulated processor (the coredump module gets them too). */
export function lastCrashRegisters(rproc: Rproc): CoreRegisters | undefined {
  return cores.get(rproc)?.lastFault?.registers;
}

/** The last fault of an emulated processor: kind, PC, faulting address, registers. */
export function lastCrash(rproc: Rproc): CoreFault | undefined {
  return cores.get(rproc)?.lastFault;
}

/** What an emulated processor's firmware wrote to its console UART (empty when it has none or wrote nothing). */
export function consoleOutput(rproc: Rproc): string {
  return cores.get(rproc)?.console.value ?? "";
}

/** Faults of an emulated processor since it was first started: count and the first one (a crash loop shows as many). */
export function crashHistory(rproc: Rproc): { count: number; first: CoreFault | undefined } {
  const s = cores.get(rproc);
  return { count: s?.faults ?? 0, first: s?.firstFault };
}

/** The running core of a processor, for tests and benchmarks (undefined when stopped). */
export function emulatedMachine(rproc: Rproc): EmulatedMachine | undefined {
  return cores.get(rproc)?.machine;
}

export function crashTypeOf(kind: FaultKind): RprocCrashType {
  if (kind === "mmufault") return RprocCrashType.MMUFAULT;
  if (kind === "watchdog") return RprocCrashType.WATCHDOG;
  return RprocCrashType.FATAL_ERROR;
}

/** Emulated-core ops over a platform driver's ops. */
export function emulatedOps(base: DriverOps, options: EmulatedDriverOptions = {}): DriverOps {
  const sliceInsns = options.sliceInsns ?? DEFAULT_SLICE_INSNS;
  const sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS;
  const insnsPerMs = options.insnsPerMs ?? DEFAULT_INSNS_PER_MS;
  const scheduler = options.scheduler ?? defaultScheduler;
  new SliceBudget(sliceInsns, sliceMs); // validates both options now, not at the first start

  const halt = (s: CoreState): void => {
    if (s.task) scheduler.remove(s.task);
    s.task = undefined;
    s.machine?.close();
    s.machine = undefined;
  };

  const onFault = (rproc: Rproc, s: CoreState, fault: CoreFault): void => {
    s.lastFault = fault;
    s.faults++;
    s.firstFault ??= fault;
    halt(s);
    rprocCoredumpSetRegisters(rproc, fault.registers);
    rproc.emit("emulated_fault", "info", {
      kind: fault.kind,
      pc: hex(fault.pc),
      ...(fault.address !== undefined ? { address: hex(fault.address), access: fault.access } : {}),
      ...(fault.unmodelled ? { unmodelled: true } : {}),
      ...(fault.intno !== undefined ? { intno: fault.intno } : {}),
      registers: hexValues(fault.registers.regs),
      ...(fault.status ? { status: hexValues(fault.status) } : {}),
      count: s.faults,
      message: fault.message,
    });
    rprocReportCrash(rproc, crashTypeOf(fault.kind));
  };

  const launch = (rproc: Rproc, bootaddr: number): void => {
    const lib = loadUnicorn(options.env);
    const s = stateOf(rproc);
    halt(s);
    const machine = new EmulatedMachine(lib, {
      platform: rproc.platform,
      processor: rproc.processor,
      bootaddr,
      insnsPerMs,
      onFirmwareKick: (vqid, channel) => {
        rproc.emit("mailbox_rx", "info", { channel, ...(vqid !== undefined ? { vqid } : {}) });
        if (vqid !== undefined) rproc.vqInterrupt(vqid);
        // imx_rproc: any message means "look at every vring".
        else if (rproc.processor.mailbox?.kind === "imx-mu") for (const id of rproc.notifyIds.keys()) rproc.vqInterrupt(id);
      },
      onUnmodelled: (da, access, value) => {
        const first = s.unmodelled.note(da, access);
        if (first === "new") {
          const message = `unmodelled peripheral ${access} at ${hex(da)}${access === "write" ? ` (value ${hex(value)})` : ""}: ${access === "read" ? "reads as 0" : "ignored"}`;
          rproc.emit("emulated_unmodelled_mmio", "info", { da: hex(da), access, message });
          rproc.diagnostics.push(diag("warning", "emulated-unmodelled-mmio", `processor.${rproc.processor.name}`, message));
        } else if (first === "summary") {
          rproc.diagnostics.push(s.unmodelled.summary(`processor.${rproc.processor.name}`));
        }
      },
      onConsole: (text) => {
        s.console.append(text);
        rproc.emit("emulated_console", "info", { text });
      },
    });
    if (rproc.elfClass === 0) {
      rprocCoredumpSetElfInfo(rproc, machine.info.elfMachine === EM_AARCH64 ? 64 : 32, machine.info.elfMachine);
    }
    s.machine = machine;
    rproc.emit("emulated_start", "info", { core: machine.info.kind, bootaddr: hex(bootaddr), sliceInsns, sliceMs, unicorn: lib.version });
    const budget = new SliceBudget(sliceInsns, sliceMs);
    const task: SliceTask = {
      runSlice: () => {
        if (s.machine !== machine) return false;
        const insns = budget.insns;
        const t0 = performance.now();
        const fault = machine.runSlice(insns);
        budget.update(insns, performance.now() - t0);
        if (!fault) return true;
        onFault(rproc, s, fault);
        return false;
      },
      // The emulator itself failed (not the firmware): the core is gone, which the host sees as a fatal error.
      onError: (e) => {
        halt(s);
        rproc.emit("emulated_fault", "fail", { kind: "emulator" }, e);
        rprocReportCrash(rproc, RprocCrashType.FATAL_ERROR);
      },
    };
    s.task = task;
    scheduler.add(task);
  };

  return {
    ...base,

    start(rproc: Rproc): void {
      launch(rproc, rproc.bootaddr);
    },

    /**
     * The earlier boot stage started the core (the base driver's early boot
     * loaded the image): it runs from its entry, unless it still runs from
     * an attach before a detach.
     */
    async attach(rproc: Rproc): Promise<void> {
      await base.attach?.(rproc);
      if (stateOf(rproc).machine) return;
      const early = base.earlyBootAddr?.(rproc);
      launch(rproc, early ?? rproc.bootaddr);
    },

    /** The remote keeps running after a detach; only the host lets go. */
    async detach(rproc: Rproc): Promise<void> {
      await base.detach?.(rproc);
    },

    stop(rproc: Rproc): void {
      const s = stateOf(rproc);
      const ran = s.machine?.instructions;
      halt(s);
      rproc.emit("emulated_stop", "info", ran !== undefined ? { instructions: ran } : { instructions: 0, alreadyHalted: true });
    },

    kick(rproc: Rproc, vqid: number): void {
      stateOf(rproc).machine?.kick(vqid);
    },

    // A halted emulated core needs no time to flush caches before the host panics.
    panic(): number {
      return 0;
    },
  };
}
