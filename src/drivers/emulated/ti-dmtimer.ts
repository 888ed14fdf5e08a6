/**
 * TI DMTimer (AM64x TRM 12.10.3 "Timers" register descriptions, the
 * TIOCP-style "v2" layout TI's MCU+ SDK TimerP drives): an up-counter TCRR
 * that overflows past 0xFFFFFFFF, reloads from TLDR when TCLR.AR is set,
 * and raises its interrupt line when IRQENABLE has OVF_IT. Posted writes
 * complete at once (TWPS reads 0). The functional clock is `clockHz`
 * (25 MHz on the AM64x EVM/SK), divided by 2^(PTV+1) when TCLR.PRE is set;
 * platform time is instructions (`insnsPerMs`).
 */
import type { SocContext, SocDevice } from "./soc.js";

const TCLR = 0x38;
const TCRR = 0x3c;
const TLDR = 0x40;
const OVF = 1 << 1;

export class TiDmTimer implements SocDevice {
  readonly size = 0x400;
  readonly reference = "AM64x TRM 12.10.3 DMTIMER registers";
  private tclr = 0;
  private tldr = 0;
  private tmar = 0;
  private count = 0;
  private raw = 0;
  private enable = 0;
  private tiocp = 0;
  private tsicr = 0;

  constructor(
    readonly name: string,
    readonly da: number,
    private readonly line: number,
    private readonly ctx: SocContext,
    private readonly clockHz = 25_000_000,
  ) {}

  private get running(): boolean {
    return (this.tclr & 1) !== 0;
  }

  /** Timer ticks per executed instruction. */
  private rate(): number {
    const div = this.tclr & (1 << 5) ? 2 ** (((this.tclr >> 2) & 7) + 1) : 1;
    return this.clockHz / div / (this.ctx.insnsPerMs * 1000);
  }

  nextEventIn(): number {
    if (!this.running || !(this.enable & OVF)) return Infinity;
    return Math.max(1, Math.ceil((0x100000000 - this.count) / this.rate()));
  }

  advance(insns: number): void {
    if (!this.running) return;
    this.count += insns * this.rate();
    if (this.count < 0x100000000) return;
    const period = 0x100000000 - this.tldr;
    if (this.tclr & 2 && period > 0) this.count = this.tldr + ((this.count - 0x100000000) % period);
    else {
      this.count = 0;
      this.tclr &= ~1;
    }
    this.raw |= OVF;
    if (this.enable & OVF) this.ctx.raise(this.line);
  }

  read(offset: number): number {
    switch (offset) {
      case 0x00:
        return 0x4fff1301; // TIDR
      case 0x10:
        return this.tiocp;
      case 0x24:
        return this.raw;
      case 0x28:
        return this.raw & this.enable;
      case 0x2c:
      case 0x30:
        return this.enable;
      case TCLR:
        return this.tclr;
      case TCRR:
        return Math.floor(this.count) >>> 0;
      case TLDR:
        return this.tldr;
      case 0x4c:
        return this.tmar;
      case 0x54:
        return this.tsicr;
      default:
        return 0; // TWPS: no write pending; TCAR1/2
    }
  }

  write(offset: number, _size: number, value: number): void {
    value >>>= 0;
    switch (offset) {
      case 0x10:
        this.tiocp = value & ~1; // SOFTRESET completes at once
        return;
      case 0x24:
        this.raw |= value & 7;
        return;
      case 0x28:
        this.raw &= ~value;
        return;
      case 0x2c:
        this.enable |= value & 7;
        return;
      case 0x30:
        this.enable &= ~value;
        return;
      case TCLR:
        this.tclr = value;
        return;
      case TCRR:
        this.count = value;
        return;
      case TLDR:
        this.tldr = value;
        return;
      case 0x44: // TTGR: reload now
        this.count = this.tldr;
        return;
      case 0x4c:
        this.tmar = value;
        return;
      case 0x54:
        this.tsicr = value & ~2; // SFT (soft reset) completes at once
        return;
    }
  }
}
