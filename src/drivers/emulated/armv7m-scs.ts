/**
 * The ARMv7-M System Control Space (0xE000E000-0xE000EFFF) as firmware sees
 * it: NVIC, SCB, SysTick, the MPU and FPU control registers. Unicorn has no
 * NVIC (QEMU's armv7m_nvic device is not part of it), so this is the state
 * the exception model (armv7m.ts) takes exceptions from.
 *
 * Follows the ARMv7-M Architecture Reference Manual (DDI 0403E):
 * B3.2 System Control Block, B3.3 SysTick, B3.4 NVIC, B3.5 MPU; the FPU
 * registers of B3.2.20-B3.2.22. Time is executed instructions: SysTick counts
 * the processor clock (one instruction a cycle), whichever CLKSOURCE says.
 */
import type { MmioDevice } from "./peripherals.js";

export const SCS_BASE = 0xe000e000;
/** Exception numbers (ARMv7-M B1.5.2). */
export const EXC = { NMI: 2, HardFault: 3, MemManage: 4, BusFault: 5, UsageFault: 6, SVCall: 11, PendSV: 14, SysTick: 15 } as const;
/** Interrupt lines modelled (the architecture allows 496; every part rproc models has fewer than 240). */
export const NUM_IRQS = 240;
const NUM_EXC = 16 + NUM_IRQS;

/** CPUID per core kind (Technical Reference Manuals: M4 r0p1, M7 r1p2, M33 r0p3). */
const CPUID: Record<string, number> = { "cortex-m4": 0x410fc241, "cortex-m7": 0x411fc272, "cortex-m33": 0x410fd213 };

export class ArmV7mScs implements MmioDevice {
  readonly name = "armv7m-scs";
  readonly da = SCS_BASE;
  readonly size = 0x1000;
  readonly enabled = new Uint8Array(NUM_EXC);
  readonly pending = new Uint8Array(NUM_EXC);
  readonly active = new Uint8Array(NUM_EXC);
  /** Priority byte of each exception (4-15 from SHPR1-3, 16+ from NVIC_IPR). Implemented bits: the top 4, as on STM32 and i.MX parts. */
  readonly priority = new Uint8Array(NUM_EXC);
  vtor = 0;
  prigroup = 0;
  ccr = 0x200; // STKALIGN
  scr = 0;
  cpacr = 0;
  cfsr = 0;
  hfsr = 0;
  mmfar = 0;
  bfar = 0;
  fpccr = 0xc0000000; // ASPEN | LSPEN
  fpcar = 0;
  fpdscr = 0;
  /** A reset request through AIRCR.SYSRESETREQ (the driver reports it). */
  resetRequested = false;
  /** Something became pending while the core ran: end the slice so it is taken promptly. */
  onPend: () => void = () => undefined;
  /** The CPU's IPSR (ICSR.VECTACTIVE), supplied by the exception model. */
  ipsr: () => number = () => 0;
  readonly systick = new SysTick(() => this.setPending(EXC.SysTick));
  private readonly mpu = new Map<number, number>();
  private readonly cpuid: number;
  private readonly prioMask = 0xf0;

  constructor(core: string) {
    this.cpuid = CPUID[core] ?? CPUID["cortex-m4"];
    this.enabled.fill(1, 0, 16); // system exceptions are always enabled (faults: see SHCSR)
  }

  /** A peripheral raises interrupt line `irq` (NVIC_ISPR semantics). */
  raise(irq: number): void {
    if (irq >= 0 && irq < NUM_IRQS) this.setPending(16 + irq);
  }

  setPending(exc: number): void {
    if (!this.pending[exc]) {
      this.pending[exc] = 1;
      this.onPend();
    }
  }

  /** Priority of exception `exc` (fixed for reset, NMI, HardFault). */
  priorityOf(exc: number): number {
    if (exc === EXC.NMI) return -2;
    if (exc === EXC.HardFault) return -1;
    return this.priority[exc];
  }

  /** The group priority (AIRCR.PRIGROUP splits off subpriority bits). */
  groupPriority(p: number): number {
    if (p < 0) return p;
    return p & ~((2 << this.prigroup) - 1) & 0xff;
  }

  /** The pending exception with the highest priority (lowest value, then lowest number), or 0. */
  highestPending(): number {
    let best = 0;
    let bestPrio = 1000;
    for (let e = 2; e < NUM_EXC; e++) {
      if (!this.pending[e] || !this.enabled[e]) continue;
      const p = this.groupPriority(this.priorityOf(e));
      if (p < bestPrio) {
        best = e;
        bestPrio = p;
      }
    }
    return best;
  }

  /** Execution priority from the active exceptions alone (PRIMASK/BASEPRI are the CPU's, added by the caller). */
  activePriority(): number {
    let p = 256;
    for (let e = 2; e < NUM_EXC; e++) if (this.active[e]) p = Math.min(p, this.groupPriority(this.priorityOf(e)));
    return p;
  }

  private activeCount(): number {
    let n = 0;
    for (let e = 2; e < NUM_EXC; e++) n += this.active[e];
    return n;
  }

  read(offset: number, size: number): number {
    const aligned = offset & ~3;
    const word = this.readWord(aligned);
    return size >= 4 ? word >>> 0 : (word >>> ((offset & 3) * 8)) & (size === 1 ? 0xff : 0xffff);
  }

  write(offset: number, size: number, value: number): void {
    // Byte-wide registers (IPR, SHPR) are written per byte; words are split into bytes for them.
    if ((offset >= 0x400 && offset < 0x400 + NUM_IRQS) || (offset >= 0xd18 && offset < 0xd24)) {
      for (let i = 0; i < size; i++) this.writePriorityByte(offset + i, (value >>> (8 * i)) & 0xff);
      return;
    }
    if (size < 4) value = this.mergeSubword(offset, size, value);
    this.writeWord(offset & ~3, value >>> 0);
  }

  private mergeSubword(offset: number, size: number, value: number): number {
    const shift = (offset & 3) * 8;
    const mask = (size === 1 ? 0xff : 0xffff) << shift;
    const old = this.readWord(offset & ~3);
    return ((old & ~mask) | ((value << shift) & mask)) >>> 0;
  }

  private writePriorityByte(offset: number, v: number): void {
    const exc = offset >= 0xd18 ? 4 + (offset - 0xd18) : 16 + (offset - 0x400);
    this.priority[exc] = v & this.prioMask;
  }

  private bits(arr: Uint8Array, base: number, offset: number): number {
    let w = 0;
    const first = 16 + ((offset - base) >> 2) * 32;
    for (let i = 0; i < 32 && first + i < NUM_EXC; i++) if (arr[first + i]) w |= 1 << i;
    return w >>> 0;
  }

  private setBits(arr: Uint8Array, base: number, offset: number, value: number, to: 0 | 1): void {
    const first = 16 + ((offset - base) >> 2) * 32;
    for (let i = 0; i < 32 && first + i < NUM_EXC; i++) {
      if (!(value & (1 << i))) continue;
      if (to && arr === this.pending) this.setPending(first + i);
      else arr[first + i] = to;
    }
  }

  private readWord(off: number): number {
    if (off >= 0x100 && off < 0x140) return this.bits(this.enabled, 0x100, off);
    if (off >= 0x180 && off < 0x1c0) return this.bits(this.enabled, 0x180, off);
    if (off >= 0x200 && off < 0x240) return this.bits(this.pending, 0x200, off);
    if (off >= 0x280 && off < 0x2c0) return this.bits(this.pending, 0x280, off);
    if (off >= 0x300 && off < 0x340) return this.bits(this.active, 0x300, off);
    if (off >= 0x400 && off < 0x400 + NUM_IRQS) return this.priorityWord(16 + (off - 0x400));
    if (off >= 0xd18 && off < 0xd24) return this.priorityWord(4 + (off - 0xd18));
    if (off >= 0xd90 && off < 0xdc0) return off === 0xd90 ? 8 << 8 : (this.mpu.get(off) ?? 0);
    switch (off) {
      case 0x004: // ICTR: INTLINESNUM = lines / 32 - 1
        return NUM_IRQS / 32 - 1;
      case 0x010:
      case 0x014:
      case 0x018:
      case 0x01c:
        return this.systick.read(off);
      case 0xd00:
        return this.cpuid;
      case 0xd04:
        return this.icsr();
      case 0xd08:
        return this.vtor;
      case 0xd0c:
        return (0xfa050000 | (this.prigroup << 8)) >>> 0;
      case 0xd10:
        return this.scr;
      case 0xd14:
        return this.ccr;
      case 0xd24:
        return this.shcsr();
      case 0xd28:
        return this.cfsr;
      case 0xd2c:
        return this.hfsr;
      case 0xd34:
        return this.mmfar;
      case 0xd38:
        return this.bfar;
      case 0xd88:
        return this.cpacr;
      case 0xf34:
        return this.fpccr;
      case 0xf38:
        return this.fpcar;
      case 0xf3c:
        return this.fpdscr;
      case 0xf40: // MVFR0-2: single-precision FPv4-SP (Cortex-M4 TRM 7.2)
        return 0x10110021;
      case 0xf44:
        return 0x11000011;
      default:
        return 0;
    }
  }

  private priorityWord(exc: number): number {
    let w = 0;
    for (let i = 0; i < 4; i++) if (exc + i < NUM_EXC) w |= this.priority[exc + i] << (8 * i);
    return w >>> 0;
  }

  private icsr(): number {
    const hp = this.highestPending();
    let v = (hp & 0x1ff) << 12;
    if (hp >= 16) v |= 1 << 22; // ISRPENDING
    if (this.pending[EXC.PendSV]) v |= 1 << 28;
    if (this.pending[EXC.SysTick]) v |= 1 << 26;
    if (this.pending[EXC.NMI]) v |= 1 << 31;
    if (this.activeCount() <= 1) v |= 1 << 11; // RETTOBASE
    return (v | (this.ipsr() & 0x1ff)) >>> 0;
  }

  private shcsr(): number {
    let v = 0;
    if (this.active[EXC.MemManage]) v |= 1;
    if (this.active[EXC.BusFault]) v |= 2;
    if (this.active[EXC.UsageFault]) v |= 8;
    if (this.active[EXC.SVCall]) v |= 1 << 7;
    if (this.active[EXC.PendSV]) v |= 1 << 10;
    if (this.active[EXC.SysTick]) v |= 1 << 11;
    if (this.enabled[EXC.MemManage]) v |= 1 << 16;
    if (this.enabled[EXC.BusFault]) v |= 1 << 17;
    if (this.enabled[EXC.UsageFault]) v |= 1 << 18;
    return v;
  }

  private writeWord(off: number, v: number): void {
    if (off >= 0x100 && off < 0x140) return this.setBits(this.enabled, 0x100, off, v, 1);
    if (off >= 0x180 && off < 0x1c0) return this.setBits(this.enabled, 0x180, off, v, 0);
    if (off >= 0x200 && off < 0x240) return this.setBits(this.pending, 0x200, off, v, 1);
    if (off >= 0x280 && off < 0x2c0) return this.setBits(this.pending, 0x280, off, v, 0);
    if (off >= 0xd94 && off < 0xdc0) {
      // RBAR with VALID (bit 4) selects the region it names, as RNR would.
      if ((off === 0xd9c || off === 0xda4 || off === 0xdac || off === 0xdb4) && v & 0x10) this.mpu.set(0xd98, v & 0xf);
      this.mpu.set(off, v);
      return;
    }
    switch (off) {
      case 0x010:
      case 0x014:
      case 0x018:
        return this.systick.write(off, v);
      case 0xd04:
        return this.writeIcsr(v);
      case 0xd08:
        this.vtor = v & 0xffffff80;
        return;
      case 0xd0c:
        if (v >>> 16 !== 0x05fa) return; // VECTKEY
        this.prigroup = (v >> 8) & 7;
        if (v & 4) this.resetRequested = true;
        return;
      case 0xd10:
        this.scr = v & 0x16;
        return;
      case 0xd14:
        this.ccr = (v & 0x31b) | 0x200;
        return;
      case 0xd24:
        this.enabled[EXC.MemManage] = v & (1 << 16) ? 1 : 0;
        this.enabled[EXC.BusFault] = v & (1 << 17) ? 1 : 0;
        this.enabled[EXC.UsageFault] = v & (1 << 18) ? 1 : 0;
        return;
      case 0xd28: // write 1 to clear
        this.cfsr &= ~v;
        return;
      case 0xd2c:
        this.hfsr &= ~v;
        return;
      case 0xd34:
        this.mmfar = v;
        return;
      case 0xd38:
        this.bfar = v;
        return;
      case 0xd88:
        this.cpacr = v;
        return;
      case 0xf00: // STIR
        return this.raise(v & 0x1ff);
      case 0xf34:
        this.fpccr = v;
        return;
      case 0xf38:
        this.fpcar = v;
        return;
      case 0xf3c:
        this.fpdscr = v;
        return;
    }
  }

  private writeIcsr(v: number): void {
    if (v & (1 << 31)) this.setPending(EXC.NMI);
    if (v & (1 << 28)) this.setPending(EXC.PendSV);
    if (v & (1 << 27)) this.pending[EXC.PendSV] = 0;
    if (v & (1 << 26)) this.setPending(EXC.SysTick);
    if (v & (1 << 25)) this.pending[EXC.SysTick] = 0;
  }
}

/** SysTick (B3.3): a 24-bit down-counter reloaded from RVR, clocked here by executed instructions. */
export class SysTick {
  csr = 0;
  rvr = 0;
  /** Instructions until the counter next reaches 0 (valid while enabled). */
  private remaining = 0;
  private cvr = 0;

  constructor(private readonly fire: () => void) {}

  get enabled(): boolean {
    return (this.csr & 1) !== 0;
  }

  read(off: number): number {
    switch (off) {
      case 0x010: {
        const v = this.csr;
        this.csr &= ~(1 << 16); // COUNTFLAG clears on read
        return v | 4; // CLKSOURCE: processor clock
      }
      case 0x014:
        return this.rvr;
      case 0x018:
        return this.enabled ? Math.max(0, Math.min(this.remaining, 0xffffff)) : this.cvr;
      default:
        return 0x40000000; // CALIB: NOREF clear, SKEW set, TENMS unknown
    }
  }

  write(off: number, v: number): void {
    if (off === 0x010) {
      const was = this.enabled;
      this.csr = (this.csr & (1 << 16)) | (v & 7);
      if (!was && this.enabled) this.remaining = this.cvr === 0 ? this.rvr + 1 : this.cvr;
      if (was && !this.enabled) this.cvr = Math.min(this.remaining, 0xffffff);
    } else if (off === 0x014) {
      this.rvr = v & 0xffffff;
    } else {
      // Any write clears the current value and COUNTFLAG; the next count reloads.
      this.cvr = 0;
      this.csr &= ~(1 << 16);
      if (this.enabled) this.remaining = this.rvr + 1;
    }
  }

  /** Instructions until the next wrap (Infinity when stopped or nothing reloads). */
  nextEventIn(): number {
    return this.enabled && this.rvr > 0 ? Math.max(1, this.remaining) : Infinity;
  }

  advance(insns: number): void {
    if (!this.enabled || this.rvr === 0) return;
    this.remaining -= insns;
    if (this.remaining > 0) return;
    const period = this.rvr + 1;
    this.remaining = period - ((-this.remaining) % period);
    this.csr |= 1 << 16;
    if (this.csr & 2) this.fire();
  }
}
