/**
 * The emulated SoC around a core: the peripheral models a platform's
 * firmware touches first (clock controller, semaphores, UART, timers,
 * interrupt controller), their interrupt lines, and time.
 *
 * Time is executed instructions (`insnsPerMs` of them a millisecond, the
 * driver option). A device with a timer says how many instructions remain
 * until its next event (`nextEventIn`), so a slice ends exactly there, and
 * is told how many ran (`advance`). A device raises an interrupt line
 * through the controller the core kind has (NVIC on Cortex-M, VIM on the
 * R5F). Which devices exist is the SoC table of the platform (soc-*.ts).
 */
import type { MmioDevice } from "./peripherals.js";

export interface SocDevice extends MmioDevice {
  /** Reference manual section the model follows. */
  readonly reference: string;
  advance?(insns: number): void;
  nextEventIn?(): number;
}

export interface SocContext {
  /** Raise interrupt line `line` of the core's interrupt controller. */
  raise(line: number): void;
  /** Bytes the firmware wrote to its console UART. */
  console(text: string): void;
  /** Instructions a millisecond of platform time. */
  insnsPerMs: number;
}

export interface SocTable {
  /** The devices a core of this SoC sees, made fresh for each start. */
  devices(ctx: SocContext, core: string): SocDevice[];
  /** Peripheral address windows (reference-manual memory map): an access there that no model covers is an unmodelled peripheral (logged, reads 0), not a bus fault. */
  windows: readonly (readonly [base: number, size: number])[];
}

/** The SoC tables, by platform name (soc-*.ts register themselves here). */
const SOCS = new Map<string, SocTable>();

export function registerSoc(platform: string, table: SocTable): void {
  SOCS.set(platform, table);
}

export function socTable(platform: string): SocTable | undefined {
  return SOCS.get(platform);
}

/** Instructions until the first device event (Infinity when no timer runs). */
export function nextEvent(devices: readonly SocDevice[]): number {
  let n = Infinity;
  for (const d of devices) if (d.nextEventIn) n = Math.min(n, d.nextEventIn());
  return n;
}

export function advanceAll(devices: readonly SocDevice[], insns: number): void {
  for (const d of devices) d.advance?.(insns);
}

/** Console output of a core, bounded (the newest text is kept). */
export class ConsoleBuffer {
  private text = "";
  /** Characters dropped from the front to stay within `limit`. */
  dropped = 0;

  constructor(private readonly limit = 64 * 1024) {}

  append(s: string): void {
    this.text += s;
    if (this.text.length > this.limit) {
      const cut = this.text.length - this.limit;
      this.dropped += cut;
      this.text = this.text.slice(cut);
    }
  }

  get value(): string {
    return this.text;
  }
}
