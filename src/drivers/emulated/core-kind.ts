/**
 * What differs between the emulated core kinds: the Unicorn arch/mode/CPU
 * model, how the core leaves reset, where the PC is, and the register set a
 * coredump note carries (the Linux elf_prstatus order gdb reads).
 */
import { RprocError, hex } from "../../errors.js";
import type { CoreKind } from "../../platform/types.js";
import type { CoreRegisters } from "../../formats/core-file-prstatus.js";
import * as C from "./unicorn-constants.js";
import type { UcEngine } from "./unicorn.js";

export const EM_ARM = 40;
export const EM_AARCH64 = 183;

export interface CoreKindInfo {
  kind: CoreKind;
  arch: number;
  mode: number;
  cpuModel: number;
  /** ELF machine of firmware for this core and of its core dumps. */
  elfMachine: number;
  /** M-profile: reset loads SP and PC from the vector table; the PC's bit 0 selects Thumb. */
  mProfile: boolean;
  pcReg: number;
}

const ARM_A_R = { arch: C.UC_ARCH_ARM, mode: C.UC_MODE_ARM, elfMachine: EM_ARM, mProfile: false, pcReg: C.UC_ARM_REG_PC };
const ARM_M = { arch: C.UC_ARCH_ARM, mode: C.UC_MODE_THUMB | C.UC_MODE_MCLASS, elfMachine: EM_ARM, mProfile: true, pcReg: C.UC_ARM_REG_PC };

const KINDS: Record<CoreKind, CoreKindInfo> = {
  "cortex-m4": { kind: "cortex-m4", cpuModel: C.UC_CPU_ARM_CORTEX_M4, ...ARM_M },
  "cortex-m7": { kind: "cortex-m7", cpuModel: C.UC_CPU_ARM_CORTEX_M7, ...ARM_M },
  "cortex-m33": { kind: "cortex-m33", cpuModel: C.UC_CPU_ARM_CORTEX_M33, ...ARM_M },
  "cortex-r5": { kind: "cortex-r5", cpuModel: C.UC_CPU_ARM_CORTEX_R5F, ...ARM_A_R },
  "cortex-a53": {
    kind: "cortex-a53",
    arch: C.UC_ARCH_ARM64,
    mode: C.UC_MODE_LITTLE_ENDIAN,
    cpuModel: C.UC_CPU_ARM64_A53,
    elfMachine: EM_AARCH64,
    mProfile: false,
    pcReg: C.UC_ARM64_REG_PC,
  },
};

export function coreKindInfo(kind: CoreKind | undefined, processor: string): CoreKindInfo {
  const info = kind === undefined ? undefined : KINDS[kind];
  if (!info) {
    throw new RprocError(
      "EINVAL",
      `processor ${processor}: the emulated driver needs "core" (one of ${Object.keys(KINDS).join(", ")}), got ${kind === undefined ? "none" : JSON.stringify(kind)}`,
      { field: "core", value: String(kind) },
    );
  }
  return info;
}

/** The address to resume at: Unicorn wants bit 0 set to continue in Thumb state. */
export function resumeAddress(info: CoreKindInfo, e: UcEngine): number {
  const pc = e.regRead32(info.pcReg);
  if (info.kind === "cortex-a53") return Number(e.regRead(info.pcReg));
  if (info.mProfile) return (pc | 1) >>> 0;
  const thumb = (e.regRead32(C.UC_ARM_REG_CPSR) & (1 << 5)) !== 0;
  return thumb ? (pc | 1) >>> 0 : pc;
}

/** Current PC as a plain address (Thumb bit cleared). */
export function currentPc(info: CoreKindInfo, e: UcEngine): number {
  if (info.kind === "cortex-a53") return Number(e.regRead(info.pcReg));
  return (e.regRead32(info.pcReg) & ~1) >>> 0;
}

/**
 * Leaves reset. M-profile: SP = vector[0], PC = vector[1] (VTOR resets to 0,
 * so the table is at da 0); the others start at the boot address (ELF entry).
 * Returns the address to pass to uc_emu_start.
 */
export function reset(info: CoreKindInfo, e: UcEngine, bootaddr: number, readU32: (da: number) => number | undefined): number {
  // R5: an entry with bit 0 set starts in Thumb state, which Unicorn takes from bit 0 of the begin address.
  if (!info.mProfile) return bootaddr;
  const sp = readU32(0);
  const pc = readU32(4);
  if (sp === undefined || pc === undefined) {
    throw new RprocError("EINVAL", `${info.kind}: no vector table at da 0x0 (VTOR at reset): the initial SP/PC are not in the core's memory`, {
      field: "vectorTable",
      value: 0,
    });
  }
  if ((pc & 1) === 0) {
    throw new RprocError("EINVAL", `${info.kind}: reset vector ${hex(pc)} has bit 0 clear (M-profile cores execute Thumb only)`, {
      field: "vectorTable[1]",
      value: pc,
    });
  }
  e.regWrite(C.UC_ARM_REG_MSP, sp);
  e.regWrite(C.UC_ARM_REG_SP, sp);
  return pc >>> 0;
}

/** The registers as Linux's elf_prstatus orders them for this machine (ARM: r0-r15, cpsr; AArch64: x0-x30, sp, pc, pstate). */
export function snapshotRegisters(info: CoreKindInfo, e: UcEngine, signal: number): CoreRegisters {
  const regs: Record<string, number | bigint> = {};
  if (info.kind === "cortex-a53") {
    for (let n = 0; n <= 30; n++) regs[`x${n}`] = safe(e.regRead(C.arm64Reg(n)));
    regs.sp = safe(e.regRead(C.UC_ARM64_REG_SP));
    regs.pc = safe(e.regRead(C.UC_ARM64_REG_PC));
    regs.pstate = safe(e.regRead(C.UC_ARM64_REG_PSTATE));
  } else {
    for (let n = 0; n <= 15; n++) regs[`r${n}`] = e.regRead32(C.armReg(n));
    // gdb's ARM core support reads the Thumb state from cpsr bit 5; M-profile keeps it in xPSR bit 24.
    if (info.mProfile) {
      const xpsr = e.regRead32(C.UC_ARM_REG_XPSR);
      regs.cpsr = ((xpsr & 0xf8000000) | (xpsr & (1 << 24) ? 1 << 5 : 0)) >>> 0;
    } else {
      regs.cpsr = e.regRead32(C.UC_ARM_REG_CPSR);
    }
  }
  return { regs, signal };
}

function safe(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
