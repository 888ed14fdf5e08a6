/**
 * STM32 peripherals with behaviour beyond a register table: the USART (the
 * console Zephyr writes to when it is not the RAM console) and the hardware
 * semaphore (lock semantics). RM0436 (STM32MP157) sections are named on each.
 */
import { RegBlock } from "./regfile.js";
import type { SocContext } from "./soc.js";

/**
 * USART (RM0436 53.8 "USART registers"): TDR (0x28) writes are console
 * output; ISR (0x1C) always shows TXE/TC (the byte left at once) and, once
 * enabled, TEACK/REACK; RDR reads 0 (no input). The interrupt line is raised
 * when the firmware enables the transmit interrupts (TXEIE/TCIE), as an
 * always-empty transmitter would.
 */
export class Stm32Usart extends RegBlock {
  private line = "";

  constructor(
    name: string,
    base: number,
    private readonly irq: number,
    private readonly ctx: SocContext,
  ) {
    super({ name, base, size: 0x400, reference: "RM0436 53.8 USART registers" });
  }

  protected override onRead(off: number): number | undefined {
    if (off !== 0x1c) return off === 0x24 ? 0 : undefined;
    const cr1 = this.peek(0x00);
    let isr = (1 << 7) | (1 << 6); // TXE, TC
    if (cr1 & (1 << 3)) isr |= 1 << 21; // TEACK follows TE
    if (cr1 & (1 << 2)) isr |= 1 << 22; // REACK follows RE
    return isr;
  }

  protected override onWrite(off: number, value: number): boolean {
    if (off === 0x28) {
      this.emit(value & 0xff);
      return true;
    }
    if (off === 0x00 && value & 1 && value & ((1 << 7) | (1 << 6))) {
      this.poke(0, value);
      this.ctx.raise(this.irq);
      return true;
    }
    return false;
  }

  private emit(byte: number): void {
    const ch = String.fromCharCode(byte);
    this.line += ch;
    if (ch === "\n" || this.line.length >= 256) {
      this.ctx.console(this.line);
      this.line = "";
    }
  }
}

/**
 * HSEM (RM0436 12.4 "HSEM registers"): R[n] (0x000 + 4n) two-step lock and
 * unlock, RLR[n] (0x080 + 4n) one-step read lock; the M4 is core ID 2. No
 * other core takes semaphores in the emulation, so a free one is always won.
 * Unlock interrupts (CnIER/CnISR) are recorded for the M4's side (C2).
 */
export class Stm32Hsem extends RegBlock {
  static readonly COREID_M4 = 2;
  private readonly sem = new Uint32Array(32);

  constructor(base: number) {
    super({ name: "hsem", base, size: 0x400, reference: "RM0436 12.4 HSEM registers" });
  }

  protected override onRead(off: number): number | undefined {
    if (off < 0x80) return this.sem[off >> 2];
    if (off < 0x100) {
      const n = (off - 0x80) >> 2;
      if (!(this.sem[n] & 0x80000000)) this.sem[n] = (0x80000000 | (Stm32Hsem.COREID_M4 << 8)) >>> 0;
      return this.sem[n];
    }
    if (off === 0x11c) return this.peek(0x118) & this.peek(0x110); // C2MISR
    return undefined;
  }

  protected override onWrite(off: number, value: number): boolean {
    if (off < 0x80) {
      const n = off >> 2;
      const owner = value & 0xfff;
      if (value & 0x80000000) {
        if (!(this.sem[n] & 0x80000000)) this.sem[n] = (0x80000000 | owner) >>> 0;
      } else if ((this.sem[n] & 0xfff) === owner) {
        this.sem[n] = 0;
        if (this.peek(0x110) & (1 << n)) this.poke(0x118, this.peek(0x118) | (1 << n));
      }
      return true;
    }
    if (off === 0x114) {
      this.poke(0x118, this.peek(0x118) & ~value); // C2ICR clears C2ISR
      return true;
    }
    return off >= 0x80 && off < 0x100;
  }
}
