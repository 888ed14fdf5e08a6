/**
 * The ARMv7-M exception model over Unicorn. Unicorn decodes M-profile code
 * (MRS/MSR of PRIMASK/BASEPRI/CONTROL, banked MSP/PSP) but never vectors:
 * SVC reaches the interrupt hook and execution continues after it, a branch
 * to an EXC_RETURN value reaches the hook as EXCP_EXCEPTION_EXIT (8) with
 * the magic value in the PC, and WFI ends uc_emu_start. So exception entry
 * and return are done here, as the ARMv7-M ARM's pseudocode does them
 * (DDI 0403E B1.5.6 ExceptionEntry/PushStack, B1.5.7 basic and extended
 * frames, B1.5.8 ExceptionReturn/PopStack), writing the frame through
 * uc_mem_write and switching the stack banks through CONTROL.SPSEL the way
 * Unicorn banks them.
 *
 * Interrupts are taken at slice boundaries, and at once from the hooks (an
 * exception return that unmasks a pending one tail-chains into it); a slice
 * ends early when something becomes pending while the core runs.
 */
import * as C from "./unicorn-constants.js";
import type { UcEngine } from "./unicorn.js";
import { ArmV7mScs, EXC } from "./armv7m-scs.js";

/** Guest memory as the exception model reaches it (pages are mapped on demand by the machine). */
export interface GuestMemory {
  read32(addr: number): number | undefined;
  write32(addr: number, value: number): boolean;
}

const S0 = 79; // UC_ARM_REG_S0..S31 are consecutive
const FPSCR = 6;
const CONTROL_SPSEL = 2;
const CONTROL_FPCA = 4;

export interface ExceptionEvent {
  kind: "entry" | "return";
  exception: number;
  pc: number;
}

export class ArmV7mExceptions {
  readonly scs: ArmV7mScs;
  /** The core executed WFI/WFE and waits for an interrupt. */
  waiting = false;
  /** Exceptions taken (entries), for the trace and benchmarks. */
  taken = 0;
  /** Told of every entry and return when tracing. */
  onEvent: ((e: ExceptionEvent) => void) | undefined;
  /** A stacking/unstacking access fault: the firmware's stack pointer is bad. */
  stackFault: { address: number; access: "read" | "write" } | undefined;

  constructor(
    private readonly e: UcEngine,
    private readonly mem: GuestMemory,
    core: string,
  ) {
    this.scs = new ArmV7mScs(core);
    this.scs.ipsr = () => this.e.regRead32(C.UC_ARM_REG_IPSR) & 0x1ff;
  }

  /** Current execution priority (B1.5.4): active exceptions, BASEPRI, PRIMASK, FAULTMASK. */
  executionPriority(): number {
    let p = this.scs.activePriority();
    const basepri = this.e.regRead32(C.UC_ARM_REG_BASEPRI) & 0xff;
    if (basepri) p = Math.min(p, this.scs.groupPriority(basepri));
    if (this.e.regRead32(C.UC_ARM_REG_PRIMASK) & 1) p = Math.min(p, 0);
    if (this.e.regRead32(C.UC_ARM_REG_FAULTMASK) & 1) p = Math.min(p, -1);
    return p;
  }

  /** The exception that would preempt now, or 0. */
  deliverable(): number {
    const hp = this.scs.highestPending();
    if (!hp) return 0;
    return this.scs.groupPriority(this.scs.priorityOf(hp)) < this.executionPriority() ? hp : 0;
  }

  /** Something is pending but masked: the caller runs short slices until it is unmasked. */
  maskedPending(): boolean {
    return this.scs.highestPending() !== 0;
  }

  /** Takes the deliverable exception, if any, with `returnPc` as the interrupted instruction. Returns whether one was taken. */
  takePending(returnPc: number): boolean {
    const exc = this.deliverable();
    if (!exc) return false;
    this.enter(exc, returnPc);
    return true;
  }

  /** SVC (the interrupt hook, EXCP_SWI): the PC already points past the instruction. */
  onSvc(): void {
    this.enter(EXC.SVCall, this.e.regRead32(C.UC_ARM_REG_PC));
  }

  /** ExceptionEntry: push the frame on the current stack, switch to handler mode on MSP, jump to the vector. */
  enter(exc: number, returnPc: number): void {
    const e = this.e;
    this.waiting = false;
    this.scs.pending[exc] = 0;
    const control = e.regRead32(C.UC_ARM_REG_CONTROL);
    const ipsr = e.regRead32(C.UC_ARM_REG_IPSR) & 0x1ff;
    const onPsp = ipsr === 0 && (control & CONTROL_SPSEL) !== 0;
    const extended = (control & CONTROL_FPCA) !== 0;
    const xpsr = e.regRead32(C.UC_ARM_REG_XPSR);
    let sp = e.regRead32(C.UC_ARM_REG_SP);
    const frameSize = extended ? 0x68 : 0x20;
    let aligned = 0;
    if (this.scs.ccr & 0x200 && (sp - frameSize) & 4) aligned = 1 << 9;
    sp = ((sp - frameSize) & ~(aligned ? 7 : 3)) >>> 0;
    const words = [0, 1, 2, 3].map((n) => e.regRead32(C.armReg(n)));
    words.push(e.regRead32(C.armReg(12)), e.regRead32(C.UC_ARM_REG_LR), returnPc & ~1, (xpsr & ~(1 << 9)) | aligned);
    if (extended) {
      for (let n = 0; n < 16; n++) words.push(e.regRead32(S0 + n));
      words.push(e.regRead32(FPSCR), 0);
    }
    if (!this.push(sp, words)) return;
    e.regWrite(C.UC_ARM_REG_SP, sp);
    // Leave the process stack first (a CONTROL write in thread mode swaps Unicorn's banked SP), then enter handler mode.
    if (onPsp || extended) e.regWrite(C.UC_ARM_REG_CONTROL, control & ~(CONTROL_SPSEL | CONTROL_FPCA));
    e.regWrite(C.UC_ARM_REG_XPSR, (1 << 24) | exc);
    const excReturn = (0xffffffe1 | (extended ? 0 : 0x10) | (ipsr === 0 ? 8 : 0) | (onPsp ? 4 : 0)) >>> 0;
    e.regWrite(C.UC_ARM_REG_LR, excReturn);
    this.scs.active[exc] = 1;
    this.taken++;
    const vector = this.mem.read32((this.scs.vtor + 4 * exc) >>> 0) ?? 0;
    e.regWrite(C.UC_ARM_REG_PC, (vector | 1) >>> 0);
    this.onEvent?.({ kind: "entry", exception: exc, pc: returnPc & ~1 });
  }

  /** EXCP_EXCEPTION_EXIT: the handler branched to EXC_RETURN (now in the PC). */
  onExceptionReturn(): void {
    const e = this.e;
    const excReturn = (e.regRead32(C.UC_ARM_REG_PC) | 1) >>> 0;
    const ipsr = e.regRead32(C.UC_ARM_REG_IPSR) & 0x1ff;
    this.scs.active[ipsr] = 0;
    const toThread = (excReturn & 8) !== 0;
    const toPsp = toThread && (excReturn & 4) !== 0;
    const extended = (excReturn & 0x10) === 0;
    // Thread mode first (the SP bank still MSP), then select the process stack: Unicorn swaps the banks on that write.
    const control = e.regRead32(C.UC_ARM_REG_CONTROL);
    if (toThread) e.regWrite(C.UC_ARM_REG_IPSR, 0);
    if (toPsp) e.regWrite(C.UC_ARM_REG_CONTROL, control | CONTROL_SPSEL);
    const sp = e.regRead32(C.UC_ARM_REG_SP);
    const frame = this.pop(sp, extended ? 26 : 8);
    if (!frame) return;
    [0, 1, 2, 3].forEach((n) => e.regWrite(C.armReg(n), frame[n]));
    e.regWrite(C.armReg(12), frame[4]);
    e.regWrite(C.UC_ARM_REG_LR, frame[5]);
    const xpsr = frame[7];
    if (extended) {
      for (let n = 0; n < 16; n++) e.regWrite(S0 + n, frame[8 + n]);
      e.regWrite(FPSCR, frame[24]);
    }
    e.regWrite(C.UC_ARM_REG_SP, (sp + (extended ? 0x68 : 0x20) + (xpsr & (1 << 9) ? 4 : 0)) >>> 0);
    if (extended) e.regWrite(C.UC_ARM_REG_CONTROL, e.regRead32(C.UC_ARM_REG_CONTROL) | CONTROL_FPCA);
    e.regWrite(C.UC_ARM_REG_XPSR, (xpsr & ~(1 << 9) & ~0x1ff) | (toThread ? 0 : xpsr & 0x1ff) | (1 << 24));
    const pc = frame[6] & ~1;
    e.regWrite(C.UC_ARM_REG_PC, (pc | 1) >>> 0);
    this.onEvent?.({ kind: "return", exception: ipsr, pc });
    // Tail-chain: an exception the return unmasked is taken before the interrupted code runs again.
    this.takePending(pc);
  }

  /** A core fault, recorded in the fault status registers as the board's SCB would (B3.2.15-B3.2.18). */
  recordFault(kind: "read" | "write" | "fetch" | "undefined" | "stack", address?: number): void {
    const s = this.scs;
    if (kind === "undefined") s.cfsr |= 1 << 16; // UNDEFINSTR
    else if (kind === "fetch") s.cfsr |= 1 << 8; // IBUSERR
    else if (kind === "stack") s.cfsr |= 1 << 12; // STKERR
    else if (address !== undefined) {
      s.cfsr |= (1 << 9) | (1 << 15); // PRECISERR, BFARVALID
      s.bfar = address >>> 0;
    }
    s.hfsr |= 1 << 30; // FORCED: escalated to HardFault (no configurable fault handler enabled)
  }

  private push(sp: number, words: number[]): boolean {
    for (let i = 0; i < words.length; i++) {
      if (!this.mem.write32(sp + 4 * i, words[i] >>> 0)) {
        this.stackFault = { address: sp + 4 * i, access: "write" };
        this.e.emuStop();
        return false;
      }
    }
    return true;
  }

  private pop(sp: number, n: number): number[] | undefined {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = this.mem.read32(sp + 4 * i);
      if (v === undefined) {
        this.stackFault = { address: sp + 4 * i, access: "read" };
        this.e.emuStop();
        return undefined;
      }
      out.push(v);
    }
    return out;
  }
}
