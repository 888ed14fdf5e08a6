/**
 * TI VIM (Vectored Interrupt Manager) of a K3 R5F core, as TI's MCU+ SDK
 * drives it (HwiP_armv7r_vim): per-group RAW/STS/INTR_EN_SET/CLR/IRQSTS/
 * FIQSTS/INTMAP/INTTYPE at 0x400 + 0x20 * group, PRI_INT(n) at 0x1000 + 4n,
 * VEC_INT(n) at 0x2000 + 4n, ACTIRQ/IRQVEC to acknowledge and IRQVEC written
 * to end the interrupt. Follows the AM64x TRM, section 9.3 "Vectored
 * Interrupt Manager (VIM)" register descriptions. Priority 0 is the highest;
 * an active interrupt masks those of equal or lower priority until its end.
 */
import type { SocDevice } from "./soc.js";

const LINES = 512;
const VALID = 0x80000000;

export class TiVim implements SocDevice {
  readonly name = "ti-vim";
  readonly size = 0x4000;
  readonly reference = "AM64x TRM 9.3 Vectored Interrupt Manager (VIM)";
  private readonly raw = new Uint8Array(LINES);
  private readonly enabled = new Uint8Array(LINES);
  private readonly fiq = new Uint8Array(LINES);
  private readonly pulse = new Uint8Array(LINES);
  private readonly pri = new Uint8Array(LINES).fill(15);
  private readonly vec = new Uint32Array(LINES);
  /** Acknowledged, not yet ended (nested: highest priority last). */
  private readonly activeStack: number[] = [];
  private dedvec = 0;
  onPend: () => void = () => undefined;

  constructor(readonly da: number) {}

  raise(line: number): void {
    if (line < 0 || line >= LINES || this.raw[line]) return;
    this.raw[line] = 1;
    if (this.enabled[line] && !this.fiq[line]) this.onPend();
  }

  private activePriority(): number {
    const top = this.activeStack[this.activeStack.length - 1];
    return top === undefined ? 16 : this.pri[top];
  }

  /** Highest-priority pending IRQ that the active ones do not mask, or -1. */
  pendingIrq(): number {
    let best = -1;
    let bestPri = this.activePriority();
    for (let n = 0; n < LINES; n++) {
      if (this.raw[n] && this.enabled[n] && !this.fiq[n] && this.pri[n] < bestPri && !this.activeStack.includes(n)) {
        best = n;
        bestPri = this.pri[n];
      }
    }
    return best;
  }

  /** The CPU takes the IRQ (IRQVEC/ACTIRQ read, or the VIC port with SCTLR.VE): it becomes active. Returns its vector. */
  acknowledge(): { line: number; vector: number } | undefined {
    const n = this.pendingIrq();
    if (n < 0) return undefined;
    this.activeStack.push(n);
    if (this.pulse[n]) this.raw[n] = 0;
    return { line: n, vector: this.vec[n] };
  }

  private current(): number | undefined {
    return this.activeStack[this.activeStack.length - 1];
  }

  read(offset: number): number {
    if (offset >= 0x400 && offset < 0x400 + (LINES / 32) * 0x20) return this.readGroup((offset - 0x400) >> 5, offset & 0x1f);
    if (offset >= 0x1000 && offset < 0x1000 + 4 * LINES) return this.pri[(offset - 0x1000) >> 2];
    if (offset >= 0x2000 && offset < 0x2000 + 4 * LINES) return this.vec[(offset - 0x2000) >> 2];
    switch (offset) {
      case 0x04: // INFO: number of interrupts
        return LINES;
      case 0x08: {
        const n = this.pendingIrq();
        return n < 0 ? 0 : (VALID | (this.pri[n] << 16) | n) >>> 0;
      }
      case 0x18: {
        const a = this.acknowledge();
        return a ? a.vector : this.dedvec;
      }
      case 0x20: {
        // ACTIRQ: the active IRQ (acknowledged through the VIC port), else acknowledge the pending one.
        const cur = this.current() ?? this.acknowledge()?.line;
        return cur === undefined ? 0 : (VALID | (this.pri[cur] << 16) | cur) >>> 0;
      }
      case 0x30:
        return this.dedvec;
      default:
        return 0;
    }
  }

  private readGroup(g: number, reg: number): number {
    let v = 0;
    for (let i = 0; i < 32; i++) {
      const n = g * 32 + i;
      let bit = 0;
      if (reg === 0x00) bit = this.raw[n];
      else if (reg === 0x04) bit = this.raw[n] & this.enabled[n];
      else if (reg === 0x08 || reg === 0x0c) bit = this.enabled[n];
      else if (reg === 0x10) bit = this.raw[n] & this.enabled[n] & (this.fiq[n] ^ 1);
      else if (reg === 0x14) bit = this.raw[n] & this.enabled[n] & this.fiq[n];
      else if (reg === 0x18) bit = this.fiq[n];
      else if (reg === 0x1c) bit = this.pulse[n];
      if (bit) v |= 1 << i;
    }
    return v >>> 0;
  }

  write(offset: number, _size: number, value: number): void {
    if (offset >= 0x400 && offset < 0x400 + (LINES / 32) * 0x20) return this.writeGroup((offset - 0x400) >> 5, offset & 0x1f, value);
    if (offset >= 0x1000 && offset < 0x1000 + 4 * LINES) {
      this.pri[(offset - 0x1000) >> 2] = value & 0xf;
      return;
    }
    if (offset >= 0x2000 && offset < 0x2000 + 4 * LINES) {
      this.vec[(offset - 0x2000) >> 2] = value >>> 0;
      return;
    }
    if (offset === 0x18) {
      // End of interrupt: the active one of highest priority ends.
      this.activeStack.pop();
      if (this.pendingIrq() >= 0) this.onPend();
    } else if (offset === 0x30) this.dedvec = value >>> 0;
  }

  private writeGroup(g: number, reg: number, value: number): void {
    for (let i = 0; i < 32; i++) {
      if (!(value & (1 << i)) && reg !== 0x18 && reg !== 0x1c) continue;
      const n = g * 32 + i;
      const bit = value & (1 << i) ? 1 : 0;
      if (reg === 0x00) this.raise(n); // RAW: software set
      else if (reg === 0x04) this.raw[n] = 0; // STS: write 1 to clear
      else if (reg === 0x08) {
        this.enabled[n] = 1;
        if (this.raw[n]) this.onPend();
      } else if (reg === 0x0c) this.enabled[n] = 0;
      else if (reg === 0x18) this.fiq[n] = bit;
      else if (reg === 0x1c) this.pulse[n] = bit;
    }
  }
}
