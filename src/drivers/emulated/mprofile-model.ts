/**
 * How a Cortex-M core runs its slices: exceptions taken at slice boundaries
 * and from Unicorn's interrupt hook (armv7m.ts), SysTick and the SoC's
 * timers counted in instructions, WFI/WFE waiting for the next interrupt
 * (time skips to the next timer event instead of spinning).
 */
import * as C from "./unicorn-constants.js";
import type { UcEngine } from "./unicorn.js";
import { ArmV7mExceptions, type GuestMemory } from "./armv7m.js";
import { advanceAll, nextEvent, type SocDevice } from "./soc.js";
import type { CoreFaultKind, CoreModel, SlicePlan } from "./core-model.js";

/** First slice while an interrupt is pending but masked: one instruction (the CPSIE/MSR BASEPRI that unmasks it is a register write no hook sees), doubling while it stays masked. */
const MASKED_SLICE = 1;
const WFI = 0xbf30;
const WFE = 0xbf20;

export class MProfileModel implements CoreModel {
  readonly exceptions: ArmV7mExceptions;
  private running = false;
  private deviceStop = false;
  private maskedRun = 0;
  private readonly halfword = new Uint8Array(2);

  constructor(
    private readonly e: UcEngine,
    mem: GuestMemory,
    core: string,
    private readonly devices: SocDevice[],
  ) {
    this.exceptions = new ArmV7mExceptions(e, mem, core);
    // Something became pending while the core runs (ICSR.PENDSVSET, a mailbox write): end the slice so it is taken now.
    this.exceptions.scs.onPend = () => {
      if (!this.running) return;
      this.deviceStop = true;
      this.e.emuStop();
    };
  }

  get mmio(): SocDevice[] {
    return [Object.assign(this.exceptions.scs, { reference: "ARMv7-M ARM B3.2-B3.5 (SCB, SysTick, NVIC, MPU)" })];
  }

  raise(line: number): void {
    this.exceptions.scs.raise(line);
  }

  get idle(): boolean {
    return this.exceptions.waiting && this.exceptions.scs.highestPending() === 0 && this.nextEventIn() === Infinity;
  }

  onIntr(intno: number): boolean {
    if (intno === 2) this.exceptions.onSvc();
    else if (intno === 8) this.exceptions.onExceptionReturn();
    else return false;
    return true;
  }

  private nextEventIn(): number {
    return Math.min(this.exceptions.scs.systick.nextEventIn(), nextEvent(this.devices));
  }

  private advance(insns: number): void {
    this.exceptions.scs.systick.advance(insns);
    advanceAll(this.devices, insns);
  }

  plan(resumeAt: number, budget: number): SlicePlan {
    const x = this.exceptions;
    let skipped = 0;
    if (x.waiting && x.scs.highestPending() === 0) {
      // WFI: nothing to do until the next timer event; platform time skips there.
      const next = this.nextEventIn();
      if (next === Infinity) return { resumeAt, budget: 0, skipped: 0 };
      skipped = Math.min(next, budget);
      this.advance(skipped);
      if (x.scs.highestPending() === 0) return { resumeAt, budget: 0, skipped };
    }
    if (x.scs.highestPending() !== 0) x.waiting = false;
    if (x.takePending(resumeAt)) resumeAt = (this.e.regRead32(C.UC_ARM_REG_PC) | 1) >>> 0;
    if (x.maskedPending()) {
      this.maskedRun = this.maskedRun ? Math.min(this.maskedRun * 2, budget) : MASKED_SLICE;
      budget = Math.min(budget, this.maskedRun);
    } else this.maskedRun = 0;
    budget = Math.max(1, Math.min(budget, this.nextEventIn()));
    this.running = true;
    return { resumeAt, budget, skipped };
  }

  takeDeviceStop(): boolean {
    const t = this.deviceStop;
    this.deviceStop = false;
    return t;
  }

  finish(ran: number, pc: number): void {
    this.running = false;
    this.advance(ran);
    const e = this.e;
    if (e.memRead(pc - 2, this.halfword)) {
      const h = this.halfword[0] | (this.halfword[1] << 8);
      if (h === WFI || h === WFE) this.exceptions.waiting = true;
    }
  }

  recordFault(kind: CoreFaultKind, address?: number): void {
    this.exceptions.recordFault(kind, address);
  }

  faultStatus(): Record<string, number> {
    const s = this.exceptions.scs;
    return { cfsr: s.cfsr, hfsr: s.hfsr, mmfar: s.mmfar, bfar: s.bfar };
  }
}
