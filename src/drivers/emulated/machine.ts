/**
 * One emulated remote core: a Unicorn CPU whose address space is the
 * processor's device-address view of the platform.
 *
 * Memory is shared, not copied: each 4 KiB page of platform memory the core
 * touches is mapped with uc_mem_map_ptr onto the SparseMemory page itself,
 * lazily, from the unmapped-access hook (map, then let the access retry). So
 * the host reads what the firmware wrote (trace, vdev status, vrings) and the
 * firmware reads what the host wrote, and untouched memory stays sparse. The
 * host-side firewall lock is not consulted: it guards the host, not the core.
 *
 * An access that no translation, modelled device or peripheral covers is a
 * fault (the MMU fault the kernel reports for an IOMMU/MPU violation).
 */
import { RprocError, hex } from "../../errors.js";
import type { Platform } from "../../platform/platform.js";
import type { ProcessorDesc } from "../../platform/types.js";
import type { CoreRegisters } from "../../formats/core-file-prstatus.js";
import * as C from "./unicorn-constants.js";
import { UcEngine, type UnicornLib } from "./unicorn.js";
import { coreKindInfo, currentPc, reset, resumeAddress, snapshotRegisters, type CoreKindInfo } from "./core-kind.js";
import { createMailbox, Watchdog, type FirmwareKick, type Mailbox, type MmioDevice } from "./peripherals.js";
import { PlainModel, type CoreFaultKind, type CoreModel } from "./core-model.js";
import { MProfileModel } from "./mprofile-model.js";
import { R5Model } from "./r5-model.js";
import { socTable, type SocDevice } from "./soc.js";
import "./soc-tables.js";

const PAGE = 4096;
/** Cortex-M private peripheral bus (SCB, NVIC, SysTick): firmware configures it; unmodelled, reads as zero. */
const PPB = { da: 0xe0000000, size: 0x100000 };

export type FaultKind = "mmufault" | "undefined-instruction" | "exception" | "fault-handler" | "watchdog";

/** Linux signal numbers recorded as pr_cursig, so gdb says why the "program" stopped. */
const SIGNAL: Record<FaultKind, number> = {
  mmufault: 11, // SIGSEGV
  "undefined-instruction": 4, // SIGILL
  exception: 5, // SIGTRAP (bkpt, unexpected exception)
  "fault-handler": 6, // SIGABRT: the firmware's own fault handler was entered
  watchdog: 14, // SIGALRM
};

/**
 * QEMU's EXCP_* numbers (target/arm/cpu.h), which Unicorn passes to the
 * interrupt hook, for the ones that end up as a crash. A data abort here is
 * the CPU's own (alignment, or the firmware's MMU/MPU): an access outside
 * the processor's view never gets that far, Unicorn reports it as unmapped.
 */
const EXCEPTION_NAMES: Record<number, string> = {
  1: "undefined instruction",
  3: "prefetch abort",
  4: "data abort",
  7: "breakpoint",
  9: "kernel trap",
  11: "HVC",
  12: "hypervisor trap",
  13: "SMC",
  16: "semihosting call",
  17: "coprocessor not present",
  18: "invalid state",
  19: "stack limit violation",
  21: "lazy state preservation error",
  22: "unaligned access",
};

export interface CoreFault {
  kind: FaultKind;
  /** PC of the faulting instruction (Thumb bit clear). */
  pc: number;
  /** Faulting data/fetch address, for MMU faults. */
  address?: number;
  access?: "read" | "write" | "fetch";
  /** The MMU fault is an access to a peripheral nothing models, on a platform whose `unmodelledMmio` is "fault". */
  unmodelled?: boolean;
  /** Unicorn exception number (EXCP_*) for exceptions. */
  intno?: number;
  ucError?: number;
  message: string;
  registers: CoreRegisters;
  /** Fault status registers as the core's fault handler would read them (Cortex-M CFSR/HFSR/MMFAR/BFAR, R5 DFSR/DFAR/IFSR/IFAR). */
  status?: Record<string, number>;
}

export interface MachineOptions {
  platform: Platform;
  processor: ProcessorDesc;
  bootaddr: number;
  /** Instructions per millisecond of platform time (watchdog timeouts are in ms). */
  insnsPerMs: number;
  onFirmwareKick: FirmwareKick;
  /** Unmodelled peripheral access, reported once per address. */
  onUnmodelled: (da: number, access: "read" | "write", value: number) => void;
  /** Text the firmware wrote to its console UART. */
  onConsole?: (text: string) => void;
}

interface PendingFault {
  kind: FaultKind;
  address?: number;
  access?: "read" | "write" | "fetch";
  unmodelled?: boolean;
  intno?: number;
  pc?: number;
}

export class EmulatedMachine {
  readonly info: CoreKindInfo;
  readonly mailbox: Mailbox | undefined;
  readonly watchdog: Watchdog | undefined;
  /** Instructions executed (slice budgets, as Unicorn counts them). */
  instructions = 0;
  /** Pages mapped zero-copy so far. */
  mappedPages = 0;
  private readonly engine: UcEngine;
  private resumeAt: number;
  private pending: PendingFault | undefined;
  private readonly reported = new Set<number>();
  /** The core kind's interrupt/exception/system-register model. */
  readonly model: CoreModel;
  /** The SoC's peripheral models (soc-*.ts) this core sees. */
  readonly devices: SocDevice[];
  private readonly word = new Uint8Array(4);
  private readonly wordView = new DataView(this.word.buffer);

  constructor(
    lib: UnicornLib,
    private readonly opts: MachineOptions,
  ) {
    const { processor } = opts;
    this.info = coreKindInfo(processor.core, processor.name);
    checkTranslations(processor);
    if (processor.mailbox) {
      const m = processor.mailbox;
      this.mailbox = createMailbox(m.kind, m.pa, m.size, m.channels, opts.onFirmwareKick, (line) => this.model.raise(line));
    }
    const w = processor.watchdog;
    if (w?.pa !== undefined) this.watchdog = new Watchdog(w.pa, w.size ?? 0x400, Math.round(w.timeoutMs * opts.insnsPerMs));
    this.engine = UcEngine.open(lib, this.info.arch, this.info.mode, this.info.cpuModel);
    this.devices =
      socTable(opts.platform.desc.name)?.devices(
        { raise: (line) => this.model.raise(line), console: (text) => opts.onConsole?.(text), insnsPerMs: opts.insnsPerMs },
        this.info.kind,
      ) ?? [];
    const mem = { read32: (a: number) => this.guestRead32(a), write32: (a: number, v: number) => this.guestWrite32(a, v) };
    this.model = this.info.mProfile
      ? new MProfileModel(this.engine, mem, this.info.kind, this.devices)
      : this.info.kind === "cortex-r5"
        ? new R5Model(this.engine, mem, this.devices, r5Mpidr(processor.name))
        : new PlainModel(this.devices);
    try {
      if (this.mailbox) this.mapDevice(this.mailbox);
      this.mapSoc();
      if (this.watchdog) this.engine.mapPtr(this.watchdog.pageDa, this.watchdog.page, C.UC_PROT_READ | C.UC_PROT_WRITE);
      this.engine.hookMemInvalid(C.UC_HOOK_MEM_UNMAPPED, (type, address) => this.onUnmapped(type, address));
      this.engine.hookIntr((intno) => this.onException(intno));
      this.resumeAt = reset(this.info, this.engine, opts.bootaddr, (da) => this.readU32(da));
      this.installFaultHandlerHook();
    } catch (e) {
      this.engine.close();
      throw e;
    }
  }

  /**
   * Runs up to `budget` instructions. Returns the fault that ended the slice,
   * if any; the core is then halted for good (a crashed core is restarted by
   * recovery with a fresh machine).
   */
  runSlice(budget: number): CoreFault | undefined {
    if (this.engine.closed) throw new RprocError("ENODEV", `${this.opts.processor.name}: emulated core is stopped`);
    this.pending = undefined;
    const plan = this.model.plan(this.resumeAt, budget);
    this.instructions += plan.skipped;
    if (plan.budget === 0) {
      if (this.watchdog?.endSlice(this.instructions)) return this.fault({ kind: "watchdog" }, C.UC_ERR_OK);
      return undefined;
    }
    const err = this.engine.emuStart(plan.resumeAt, plan.budget);
    this.instructions += plan.budget;
    if (err === C.UC_ERR_OK && this.pending === undefined) {
      this.resumeAt = resumeAddress(this.info, this.engine);
      if (this.model.takeDeviceStop?.()) this.resumeAt = this.pastStore(this.resumeAt);
      this.model.finish(plan.budget, currentPc(this.info, this.engine));
      if (this.watchdog?.endSlice(this.instructions)) return this.fault({ kind: "watchdog" }, err);
      return undefined;
    }
    return this.fault(this.pending ?? classify(err), err);
  }

  /** The address after the (completed) store Unicorn stopped on: Thumb 16/32-bit by its first halfword, ARM 4. */
  private pastStore(resume: number): number {
    const pc = resume & ~1;
    if (!(resume & 1)) return pc + 4;
    if (!this.engine.memRead(pc, this.word.subarray(0, 2))) return resume;
    const hw = this.word[0] | (this.word[1] << 8);
    return (pc + ((hw & 0xf800) >= 0xe800 ? 4 : 2)) | 1;
  }

  /** The core waits for an interrupt that only the host can cause (WFI, no timer running). */
  get idle(): boolean {
    return this.model.idle;
  }

  /** ops.kick: the host signals vring `vqid` through the mailbox. */
  kick(vqid: number): void {
    this.mailbox?.hostKick(vqid);
  }

  registers(signal = 0): CoreRegisters {
    return snapshotRegisters(this.info, this.engine, signal);
  }

  get stopped(): boolean {
    return this.engine.closed;
  }

  close(): void {
    this.engine.close();
  }

  private fault(p: PendingFault, err: number): CoreFault {
    const why: CoreFaultKind | undefined =
      p.kind === "mmufault" ? (p.access ?? "read") : p.kind === "undefined-instruction" ? "undefined" : undefined;
    if (why) this.model.recordFault(why, p.address);
    const status = this.model.faultStatus();
    const registers = snapshotRegisters(this.info, this.engine, SIGNAL[p.kind]);
    const pc = p.pc ?? currentPc(this.info, this.engine);
    if (p.pc !== undefined) registers.regs[this.info.kind === "cortex-a53" ? "pc" : "r15"] = p.pc;
    const what =
      p.kind === "mmufault"
        ? p.unmodelled
          ? `${p.access ?? "access"} of unmodelled peripheral address ${hex(p.address ?? 0)} (platform unmodelledMmio: fault)`
          : `${p.access ?? "access"} of unmapped address ${hex(p.address ?? 0)}`
        : p.kind === "undefined-instruction"
          ? "undefined instruction"
          : p.kind === "watchdog"
            ? `watchdog not refreshed for more than ${this.watchdog?.timeoutInsns ?? 0} instructions`
            : p.kind === "fault-handler"
              ? "fault handler entered"
              : `${EXCEPTION_NAMES[p.intno ?? -1] ?? "CPU exception"} (exception ${p.intno ?? "?"})`;
    return {
      kind: p.kind,
      pc,
      address: p.address,
      access: p.access,
      ...(p.unmodelled ? { unmodelled: true } : {}),
      intno: p.intno,
      ucError: err === C.UC_ERR_OK ? undefined : err,
      message: `${this.info.kind} ${this.opts.processor.name}: ${what} at pc ${hex(pc)}`,
      registers,
      ...(Object.keys(status).length ? { status } : {}),
    };
  }

  private readU32(da: number): number | undefined {
    const pa = this.opts.platform.daToPa(this.opts.processor, da, 4);
    if (pa === undefined) return undefined;
    const b = this.opts.platform.memory.read(pa, 4);
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }

  /** Guest memory for exception stacking: maps the page on first use, as a CPU access would. */
  private guestRead32(da: number): number | undefined {
    if (!this.engine.memRead(da, this.word) && !(this.mapOnDemand(da) && this.engine.memRead(da, this.word))) return undefined;
    return this.wordView.getUint32(0, true);
  }

  private guestWrite32(da: number, v: number): boolean {
    this.wordView.setUint32(0, v >>> 0, true);
    return this.engine.memWrite(da, this.word) || (this.mapOnDemand(da) && this.engine.memWrite(da, this.word));
  }

  private mapOnDemand(da: number): boolean {
    const page = da - (da % PAGE);
    const { platform, processor } = this.opts;
    const pa = platform.daToPa(processor, page, PAGE);
    if (pa === undefined || platform.regionAt(pa, PAGE)?.kind === "mmio") return false;
    this.mapMemoryPage(page, pa);
    return true;
  }

  private mapMemoryPage(page: number, pa: number): void {
    const bytes = this.opts.platform.memory.page(pa, true)!;
    this.engine.mapPtr(page, bytes, C.UC_PROT_ALL);
    this.mappedPages++;
    this.model.onPageMapped?.(page, bytes);
  }

  /** Maps the core's own devices and the SoC's, except where the platform's mailbox/watchdog or memory already is. */
  private mapSoc(): void {
    const taken: [number, number][] = [];
    const claim = (da: number, size: number) => taken.push([da - (da % PAGE), Math.ceil((da % PAGE + size) / PAGE) * PAGE]);
    if (this.mailbox) claim(this.mailbox.da, this.mailbox.size);
    if (this.watchdog) claim(this.watchdog.pageDa, PAGE);
    for (const dev of [...this.model.mmio, ...this.devices]) {
      const base = dev.da - (dev.da % PAGE);
      const size = Math.ceil((dev.da % PAGE + dev.size) / PAGE) * PAGE;
      if (taken.some(([b, s]) => base < b + s && b < base + size)) continue;
      const pa = this.opts.platform.daToPa(this.opts.processor, base, PAGE);
      if (pa !== undefined && this.opts.platform.regionAt(pa, PAGE)?.kind !== "mmio") continue;
      claim(dev.da, dev.size);
      this.mapDevice(dev);
    }
  }

  private mapDevice(dev: MmioDevice): void {
    const base = dev.da - (dev.da % PAGE);
    const size = Math.ceil((dev.da + dev.size - base) / PAGE) * PAGE;
    const delta = dev.da - base;
    this.engine.mmioMap(
      base,
      size,
      (off, sz) => this.guard(() => (off >= delta && off - delta < dev.size ? dev.read(off - delta, sz) : 0), 0),
      (off, sz, v) => this.guard(() => (off >= delta && off - delta < dev.size ? dev.write(off - delta, sz, v) : undefined), undefined),
    );
  }

  /** Device models run inside uc_emu_start: an exception must not unwind through C. */
  private guard<T>(f: () => T, fallback: T): T {
    try {
      return f();
    } catch {
      this.pending = { kind: "exception" };
      this.engine.emuStop();
      return fallback;
    }
  }

  private onUnmapped(type: number, address: number): boolean {
    const page = address - (address % PAGE);
    const { platform, processor } = this.opts;
    const pa = platform.daToPa(processor, page, PAGE);
    if (pa !== undefined && platform.regionAt(pa, PAGE)?.kind !== "mmio") {
      this.mapMemoryPage(page, pa);
      return true;
    }
    const access = type === C.UC_MEM_WRITE_UNMAPPED ? "write" : type === C.UC_MEM_FETCH_UNMAPPED ? "fetch" : "read";
    if (pa !== undefined || this.isPeripheral(page)) {
      // A strict platform: the firmware touched hardware the platform file does not model — fault, as the bus would.
      if (processor.unmodelledMmio === "fault") {
        this.pending = { kind: "mmufault", address, access, unmodelled: true };
        return false;
      }
      this.mapUnmodelled(page);
      return true;
    }
    this.pending = { kind: "mmufault", address, access };
    return false;
  }

  private isPeripheral(da: number): boolean {
    const { platform, processor } = this.opts;
    if (this.info.mProfile && da >= PPB.da && da < PPB.da + PPB.size) return true;
    for (const [base, size] of socTable(platform.desc.name)?.windows ?? []) if (da + PAGE > base && da < base + size) return true;
    for (const p of processor.peripherals ?? []) {
      const base = p.da ?? p.pa;
      if (da + PAGE > base && da < base + p.size) return true;
    }
    // Peripherals the platform lists as MMIO regions are seen at the same address by the remote core.
    return platform.desc.regions.some((r) => r.kind === "mmio" && da + PAGE > r.pa && da < r.pa + r.size);
  }

  private mapUnmodelled(page: number): void {
    const note = (da: number, access: "read" | "write", value: number) => {
      if (this.reported.has(da)) return;
      this.reported.add(da);
      this.opts.onUnmodelled(da, access, value);
    };
    this.engine.mmioMap(
      page,
      PAGE,
      (off) => {
        note(page + off, "read", 0);
        return 0;
      },
      (off, _sz, v) => note(page + off, "write", v),
    );
  }

  private onException(intno: number): void {
    if (this.model.onIntr(intno)) return;
    // Let the CPU take the exceptions firmware uses on purpose (SVC, interrupts, M-profile exception return).
    if ([2, 5, 6, 8, 14, 15].includes(intno)) return;
    // Unicorn calls the hook before the CPU takes the exception: the PC is still the faulting instruction's.
    this.pending = { kind: intno === 1 ? "undefined-instruction" : "exception", intno };
    this.engine.emuStop();
  }

  /** Cortex-M: entering the HardFault handler (vector 3) means the firmware gave up: a fatal error. */
  private installFaultHandlerHook(): void {
    if (!this.info.mProfile) return;
    const handler = this.readU32(12);
    if (handler === undefined || handler === 0) return;
    const at = (handler & ~1) >>> 0;
    this.engine.hookCode(at, at, () => {
      this.pending = { kind: "fault-handler", pc: at };
      this.engine.emuStop();
    });
  }
}

function classify(err: number): PendingFault {
  switch (err) {
    case C.UC_ERR_READ_UNMAPPED:
    case C.UC_ERR_READ_PROT:
      return { kind: "mmufault", access: "read" };
    case C.UC_ERR_WRITE_UNMAPPED:
    case C.UC_ERR_WRITE_PROT:
      return { kind: "mmufault", access: "write" };
    case C.UC_ERR_FETCH_UNMAPPED:
    case C.UC_ERR_FETCH_PROT:
      return { kind: "mmufault", access: "fetch" };
    case C.UC_ERR_INSN_INVALID:
      return { kind: "undefined-instruction" };
    default:
      return { kind: "exception" };
  }
}

/** MPIDR of an R5F named r5f<cluster>_<core> (Aff1 = cluster, Aff0 = core), as TI's SDK reads its core id. */
function r5Mpidr(name: string): number {
  const m = /(\d+)_(\d+)$/.exec(name);
  return (0x80000000 | (m ? (Number(m[1]) << 8) | Number(m[2]) : 0)) >>> 0;
}

/** Pages are shared zero-copy, so a translation must map whole pages onto whole pages. */
function checkTranslations(proc: ProcessorDesc): void {
  proc.translations.forEach((t, i) => {
    for (const [v, f] of [
      [t.da, "da"],
      [t.pa, "pa"],
      [t.size, "size"],
    ] as const) {
      if (v % PAGE !== 0) {
        throw new RprocError("EINVAL", `processor ${proc.name}: translation ${i} ${f} ${hex(v)} is not 4 KiB aligned; the emulated core maps memory by page`, {
          field: `processors.${proc.name}.translations[${i}].${f}`,
          value: v,
          limit: PAGE,
        });
      }
    }
  });
}
