/**
 * The Cortex-R5F system model over Unicorn's R5F CPU:
 *
 * - CP15: QEMU's R5F reports no cache geometry (CTR/CCSIDR/CLIDR read 0)
 *   and undefines the R5's implementation-defined c15 operations, which TI's
 *   MCU+ SDK start-up uses (CacheP_init asserts the line size it reads). So
 *   every MRC/MCR p15 of c0 (identification), c7 (cache maintenance: no-ops),
 *   c9 (PMU: the cycle counter counts instructions), c15 and ACTLR is
 *   emulated here with the Cortex-R5 TRM (DDI 0460D, 4.3) values; the code
 *   is left as it is — a code hook on each such instruction, found when its
 *   page is first mapped, does the access and skips it. SCTLR, CPACR and the
 *   MPU (c6) stay Unicorn's, SCTLR writes are observed (V, VE, TE steer
 *   exception entry).
 * - IRQ entry from the TI VIM (ti-vim.ts), with SCTLR.VE taking the vector
 *   from the VIM as the VIC port does, and SVC entry (Unicorn reports SVC
 *   without vectoring): ARMv7-AR ARM (DDI 0406C) B1.8.3 exception entry.
 *   Exception return (SUBS PC, LR / RFE / LDM ^) is Unicorn's own.
 * - WFI waits for the next interrupt; time skips to the next timer event.
 */
import * as C from "./unicorn-constants.js";
import type { UcEngine } from "./unicorn.js";
import type { GuestMemory } from "./armv7m.js";
import { advanceAll, nextEvent, type SocDevice } from "./soc.js";
import { TiVim } from "./ti-vim.js";
import type { CoreFaultKind, CoreModel, SlicePlan } from "./core-model.js";

/** R5FSS VIM, seen by each core at the same address (AM64x TRM 9.3, memory map "R5FSS0_CORE0_VIM"). */
export const R5_VIM_BASE = 0x2fff0000;
const MODE_IRQ = 0x12;
const MODE_SVC = 0x13;
const CPSR_I = 0x80;
const CPSR_A = 0x100;
const CPSR_T = 0x20;
const MASKED_SLICE = 1;
/** Cortex-R5 TRM 4.3: CTR (32-byte lines), CLIDR (L1 I+D), CCSIDR of the 32 KiB 4-way caches. */
const CTR = 0x8003c003;
const CLIDR = 0x09000003;
const CCSIDR_32K = 0xf01fe019;
const MPUIR_16 = 0x1000;
const TCMTR = 0x00010001;

export class R5Model implements CoreModel {
  readonly vim = new TiVim(R5_VIM_BASE);
  private running = false;
  private deviceStop = false;
  waiting = false;
  private maskedRun = 0;
  private sctlr = 0x00c50078;
  private readonly cp = new Map<string, number>();
  private readonly hooked = new Set<number>();
  private readonly insn = new Uint8Array(4);
  /** Instructions run so far (the PMU cycle counter). */
  private time = 0;
  private faults: Record<string, number> = {};

  constructor(
    private readonly e: UcEngine,
    _mem: GuestMemory,
    private readonly devices: SocDevice[],
    private readonly mpidr = 0x80000000,
  ) {
    this.vim.onPend = () => {
      if (!this.running) return;
      this.deviceStop = true;
      this.e.emuStop();
    };
  }

  get mmio(): SocDevice[] {
    return [this.vim];
  }

  get idle(): boolean {
    return this.waiting && this.vim.pendingIrq() < 0 && this.nextEventIn() === Infinity;
  }

  raise(line: number): void {
    this.vim.raise(line);
  }

  onIntr(intno: number): boolean {
    if (intno !== 2) return false;
    // SVC: the PC already points past the instruction, which is the return address.
    this.enter(MODE_SVC, this.e.regRead32(C.UC_ARM_REG_PC), 0, 0x08);
    return true;
  }

  /** A page of code/data was mapped: hook the CP15 accesses in it that Unicorn gets wrong. */
  onPageMapped(da: number, bytes: Uint8Array): void {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let off = 0; off + 4 <= bytes.length; off += 2) {
      const arm = off % 4 === 0 ? v.getUint32(off, true) : 0;
      const thumb = ((v.getUint16(off, true) << 16) | v.getUint16(off + 2, true)) >>> 0;
      if (intercepted(arm) || isSctlrWrite(arm) || intercepted(thumb) || isSctlrWrite(thumb)) this.hook(da + off);
    }
  }

  private hook(addr: number): void {
    if (this.hooked.has(addr)) return;
    this.hooked.add(addr);
    this.e.hookCode(addr, addr, () => this.onCp15(addr));
  }

  private onCp15(addr: number): void {
    const e = this.e;
    const thumb = (e.regRead32(C.UC_ARM_REG_CPSR) & CPSR_T) !== 0;
    if (!e.memRead(addr, this.insn)) return;
    const v = new DataView(this.insn.buffer);
    const insn = thumb ? ((v.getUint16(0, true) << 16) | v.getUint16(2, true)) >>> 0 : v.getUint32(0, true);
    if (!intercepted(insn) && !isSctlrWrite(insn)) return;
    const opc1 = (insn >> 21) & 7;
    const read = (insn >> 20) & 1;
    const crn = (insn >> 16) & 15;
    const rt = (insn >> 12) & 15;
    const opc2 = (insn >> 5) & 7;
    const crm = insn & 15;
    if (isSctlrWrite(insn)) {
      this.sctlr = e.regRead32(C.armReg(rt));
      return; // Unicorn performs it (MPU enable, alignment)
    }
    const key = `${opc1}:${crn}:${crm}:${opc2}`;
    if (read) {
      if (rt !== 15) e.regWrite(C.armReg(rt), this.cp15Read(key) >>> 0);
    } else if (rt !== 15) {
      this.cp.set(key, e.regRead32(C.armReg(rt)));
    }
    e.regWrite(C.UC_ARM_REG_PC, (addr + 4) | (thumb ? 1 : 0));
  }

  private cp15Read(key: string): number {
    switch (key) {
      case "0:0:0:0":
        return 0x411fc153; // MIDR: Cortex-R5 r1p3
      case "0:0:0:1":
        return CTR;
      case "0:0:0:2":
        return TCMTR;
      case "0:0:0:4":
        return MPUIR_16;
      case "0:0:0:5":
        return this.mpidr;
      case "1:0:0:0":
        return CCSIDR_32K;
      case "1:0:0:1":
        return CLIDR;
      case "0:9:13:0": // PMCCNTR: the cycle counter counts instructions
        return this.time >>> 0;
      default:
        return this.cp.get(key) ?? 0;
    }
  }

  private vectorBase(): number {
    return this.sctlr & (1 << 13) ? 0xffff0000 : 0;
  }

  /** ARMv7-AR B1.8.3: bank into `mode`, SPSR = CPSR, LR = return + lrOffset, mask IRQ, jump. */
  private enter(mode: number, returnPc: number, lrOffset: number, vectorOffset: number, vector?: number): void {
    const e = this.e;
    this.waiting = false;
    const cpsr = e.regRead32(C.UC_ARM_REG_CPSR);
    const thumb = (this.sctlr & (1 << 30)) !== 0;
    const next = ((cpsr & ~0x1f & ~CPSR_T & ~0x0600fc00) | mode | CPSR_I | CPSR_A | (thumb ? CPSR_T : 0)) >>> 0;
    e.regWrite(C.UC_ARM_REG_CPSR, next);
    e.regWrite(C.UC_ARM_REG_SPSR, cpsr);
    e.regWrite(C.UC_ARM_REG_LR, ((returnPc & ~1) + lrOffset) >>> 0);
    const target = vector ?? this.vectorBase() + vectorOffset;
    e.regWrite(C.UC_ARM_REG_PC, (target & ~1) | (thumb || target & 1 ? 1 : 0));
  }

  private nextEventIn(): number {
    return nextEvent(this.devices);
  }

  plan(resumeAt: number, budget: number): SlicePlan {
    let skipped = 0;
    if (this.waiting && this.vim.pendingIrq() < 0) {
      const next = this.nextEventIn();
      if (next === Infinity) return { resumeAt, budget: 0, skipped: 0 };
      skipped = Math.min(next, budget);
      this.advance(skipped);
      if (this.vim.pendingIrq() < 0) return { resumeAt, budget: 0, skipped };
    }
    const irq = this.vim.pendingIrq();
    if (irq >= 0) this.waiting = false;
    if (irq >= 0 && !(this.e.regRead32(C.UC_ARM_REG_CPSR) & CPSR_I)) {
      const ve = (this.sctlr & (1 << 24)) !== 0;
      const ack = ve ? this.vim.acknowledge() : undefined;
      this.enter(MODE_IRQ, resumeAt, 4, 0x18, ack?.vector);
      const pc = this.e.regRead32(C.UC_ARM_REG_PC);
      resumeAt = this.e.regRead32(C.UC_ARM_REG_CPSR) & CPSR_T ? (pc | 1) >>> 0 : pc;
      this.maskedRun = 0;
    } else if (irq >= 0) {
      this.maskedRun = this.maskedRun ? Math.min(this.maskedRun * 2, budget) : MASKED_SLICE;
      budget = Math.min(budget, this.maskedRun);
    }
    budget = Math.max(1, Math.min(budget, this.nextEventIn()));
    this.running = true;
    return { resumeAt, budget, skipped };
  }

  private advance(insns: number): void {
    this.time += insns;
    advanceAll(this.devices, insns);
  }

  takeDeviceStop(): boolean {
    const t = this.deviceStop;
    this.deviceStop = false;
    return t;
  }

  finish(ran: number, pc: number): void {
    this.running = false;
    this.advance(ran);
    const thumb = (this.e.regRead32(C.UC_ARM_REG_CPSR) & CPSR_T) !== 0;
    if (thumb ? this.e.memRead(pc - 2, this.insn.subarray(0, 2)) : this.e.memRead(pc - 4, this.insn)) {
      const v = new DataView(this.insn.buffer);
      const wfi = thumb ? v.getUint16(0, true) === 0xbf30 : (v.getUint32(0, true) & 0x0fffffff) === 0x0320f003;
      if (wfi) this.waiting = true;
    }
  }

  recordFault(kind: CoreFaultKind, address?: number): void {
    // Short-descriptor FSR encodings (DDI 0406C B4.1.52): 0b01000 = synchronous external abort.
    if (kind === "fetch") this.faults = { ifsr: 0x8, ifar: address ?? 0 };
    else if (kind === "read" || kind === "write" || kind === "stack") {
      this.faults = { dfsr: 0x8 | (kind === "write" ? 1 << 11 : 0), dfar: address ?? 0 };
    }
  }

  faultStatus(): Record<string, number> {
    return { ...this.faults, sctlr: this.sctlr };
  }
}

/** MRC/MCR p15 that this model emulates: c0 identification, c7 cache maintenance, c9 PMU, c15, ACTLR. */
function intercepted(insn: number): boolean {
  if ((insn & 0x0f100f10) !== 0x0e100f10 && (insn & 0x0f100f10) !== 0x0e000f10) return false;
  if (insn >>> 28 !== 0xe) return false;
  const crn = (insn >> 16) & 15;
  const opc2 = (insn >> 5) & 7;
  const crm = insn & 15;
  return crn === 0 || crn === 7 || crn === 9 || crn === 15 || (crn === 1 && crm === 0 && opc2 === 1);
}

function isSctlrWrite(insn: number): boolean {
  return (insn & 0xffff0fff) === 0xee010f10;
}
