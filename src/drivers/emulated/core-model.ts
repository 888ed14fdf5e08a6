/**
 * What a core kind adds to the plain Unicorn CPU for a slice: its interrupt
 * controller and exception entry, its system registers, time. The machine
 * asks for a plan before each slice (where to resume, how many instructions
 * until the next timer event) and reports how many ran after it.
 */
import type { SocDevice } from "./soc.js";

export interface SlicePlan {
  resumeAt: number;
  /** Instructions to run; 0 = the core waits for an interrupt (WFI) and nothing is due within the slice. */
  budget: number;
  /** Platform time that passed while the core waited, in instructions. */
  skipped: number;
}

export type CoreFaultKind = "read" | "write" | "fetch" | "undefined" | "stack";

export interface CoreModel {
  /** Devices of the core itself (SCS, VIM), mapped like the SoC's. */
  readonly mmio: SocDevice[];
  /** The core waits for an interrupt and no timer is running: nothing can happen until the host kicks. */
  readonly idle: boolean;
  /** A SoC device raises interrupt line `line`. */
  raise(line: number): void;
  /** Unicorn's interrupt hook; true when the model handled the exception. */
  onIntr(intno: number): boolean;
  plan(resumeAt: number, budget: number): SlicePlan;
  finish(ran: number, pc: number): void;
  /** A fault ends the run: record it where the firmware's fault registers show it. */
  recordFault(kind: CoreFaultKind, address?: number): void;
  /**
   * The slice was ended by a device (something became pending during an
   * MMIO write): true once. Unicorn then leaves the PC on that store, which
   * has been performed, so the machine resumes after it.
   */
  takeDeviceStop?(): boolean;
  /** A page of guest memory was mapped (the R5 model finds the CP15 accesses to emulate in it). */
  onPageMapped?(da: number, bytes: Uint8Array): void;
  /** The fault status registers for the crash report (CFSR/HFSR/…, DFSR/IFSR/…). */
  faultStatus(): Record<string, number>;
}

/** A core without an interrupt model (Cortex-A53): slices run as asked, SoC timers still advance. */
export class PlainModel implements CoreModel {
  readonly mmio: SocDevice[] = [];
  readonly idle = false;

  constructor(private readonly devices: SocDevice[]) {}

  raise(): void {}

  onIntr(): boolean {
    return false;
  }

  plan(resumeAt: number, budget: number): SlicePlan {
    return { resumeAt, budget, skipped: 0 };
  }

  finish(ran: number): void {
    for (const d of this.devices) d.advance?.(ran);
  }

  recordFault(): void {}

  faultStatus(): Record<string, number> {
    return {};
  }
}
