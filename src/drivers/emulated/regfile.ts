/**
 * Register blocks described as data: offsets, reset values, read-only and
 * write-1-to-clear registers, set/clear register pairs, and "ready" bits
 * that follow enable bits (a clock's RDY once its ON bit is written). Plain
 * models (clock controllers, GPIO, EXTI) are just a table; a device with
 * behaviour adds small code in `onWrite`/`onRead`.
 *
 * Registers not in the table read back what was last written (0 at reset).
 */
import type { SocDevice } from "./soc.js";

export interface RegSpec {
  off: number;
  reset?: number;
  /** Writes ignored (status, identification). */
  readOnly?: boolean;
  /** Writing 1 clears a bit (status flags). */
  w1c?: boolean;
  /** A write sets these bits in register `setOf` (…ENSETR of a SET/CLR pair) and reads back as it. */
  setOf?: number;
  /** A write clears these bits in register `clrOf`. */
  clrOf?: number;
}

/** When bits `mask` of `enable` are set, bits `readyMask` of `ready` read as set (and clear when they clear). */
export interface ReadyRule {
  enable: number;
  mask: number;
  ready: number;
  readyMask: number;
}

export interface RegBlockSpec {
  name: string;
  base: number;
  size: number;
  reference: string;
  regs?: RegSpec[];
  ready?: ReadyRule[];
}

export class RegBlock implements SocDevice {
  readonly name: string;
  readonly da: number;
  readonly size: number;
  readonly reference: string;
  protected readonly values = new Map<number, number>();
  private readonly specs = new Map<number, RegSpec>();
  private readonly ready: ReadyRule[];

  constructor(spec: RegBlockSpec) {
    this.name = spec.name;
    this.da = spec.base;
    this.size = spec.size;
    this.reference = spec.reference;
    this.ready = spec.ready ?? [];
    for (const r of spec.regs ?? []) {
      this.specs.set(r.off, r);
      if (r.reset !== undefined) this.values.set(r.off, r.reset >>> 0);
    }
  }

  /** The stored value of a register (no side effects). */
  peek(off: number): number {
    let v = this.values.get(off) ?? 0;
    for (const r of this.ready) {
      if (r.ready !== off) continue;
      const on = ((this.values.get(r.enable) ?? 0) & r.mask) === r.mask;
      v = on ? v | r.readyMask : v & ~r.readyMask;
    }
    return v >>> 0;
  }

  poke(off: number, v: number): void {
    this.values.set(off, v >>> 0);
  }

  read(offset: number, size: number): number {
    const off = offset & ~3;
    const v = this.onRead(off) ?? this.peek(this.specs.get(off)?.clrOf ?? off);
    if (size >= 4) return v >>> 0;
    return (v >>> ((offset & 3) * 8)) & (size === 1 ? 0xff : 0xffff);
  }

  write(offset: number, size: number, value: number): void {
    const off = offset & ~3;
    if (size < 4) {
      const shift = (offset & 3) * 8;
      const mask = (size === 1 ? 0xff : 0xffff) << shift;
      value = (this.peek(off) & ~mask) | ((value << shift) & mask);
    }
    value >>>= 0;
    if (this.onWrite(off, value)) return;
    const spec = this.specs.get(off);
    if (spec?.readOnly) return;
    if (spec?.w1c) this.poke(off, this.peek(off) & ~value);
    else if (spec?.setOf !== undefined) this.poke(spec.setOf, this.peek(spec.setOf) | value);
    else if (spec?.clrOf !== undefined) this.poke(spec.clrOf, this.peek(spec.clrOf) & ~value);
    else this.poke(off, value);
  }

  /** Behaviour hook: return a value to override the stored one. */
  protected onRead(_off: number): number | undefined {
    return undefined;
  }

  /** Behaviour hook: return true when the write was fully handled. */
  protected onWrite(_off: number, _value: number): boolean {
    return false;
  }
}
