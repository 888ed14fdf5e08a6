/**
 * NT_PRSTATUS descriptors in the Linux `struct elf_prstatus` layouts gdb
 * reads from core files (bfd's elf32-arm / elfnn-aarch64 grok_prstatus):
 *
 * ARM (148 bytes): pr_cursig at 12, pr_pid at 24, pr_reg at 72 = 18 x u32
 *   (r0-r15, cpsr, orig_r0).
 * AArch64 (392 bytes): pr_cursig at 12, pr_pid at 32, pr_reg at 112 =
 *   34 x u64 (x0-x30, sp, pc, pstate).
 *
 * Little-endian, as the rest of the remoteproc dump.
 */
import { RprocError } from "../errors.js";
import { ByteView, ByteWriter } from "./bytes.js";
import { EM_AARCH64, EM_ARM } from "./elf-constants.js";

export interface CoreRegisters {
  /** Register values by name (ARM: r0..r15, cpsr, orig_r0; AArch64: x0..x30, sp, pc, pstate). Missing ones are 0. */
  regs: Record<string, number | bigint>;
  /** pr_cursig: the signal gdb reports the "program" terminated with (e.g. 11 SIGSEGV for an MMU fault). */
  signal?: number;
  pid?: number;
}

interface PrstatusLayout {
  size: number;
  cursig: number;
  pid: number;
  reg: number;
  regSize: 4 | 8;
  names: readonly string[];
}

export const ARM_REG_NAMES: readonly string[] = [...Array.from({ length: 16 }, (_, i) => `r${i}`), "cpsr", "orig_r0"];
export const AARCH64_REG_NAMES: readonly string[] = [...Array.from({ length: 31 }, (_, i) => `x${i}`), "sp", "pc", "pstate"];

const ARM: PrstatusLayout = { size: 148, cursig: 12, pid: 24, reg: 72, regSize: 4, names: ARM_REG_NAMES };
const AARCH64: PrstatusLayout = { size: 392, cursig: 12, pid: 32, reg: 112, regSize: 8, names: AARCH64_REG_NAMES };

function layoutFor(machine: number): PrstatusLayout {
  if (machine === EM_ARM) return ARM;
  if (machine === EM_AARCH64) return AARCH64;
  throw new RprocError("EINVAL", `no NT_PRSTATUS layout for e_machine ${machine} (known: 40 ARM, 183 AArch64)`, {
    field: "elfMachine",
    value: machine,
  });
}

/** Whether registers can be written for this machine. */
export function hasPrstatusLayout(machine: number): boolean {
  return machine === EM_ARM || machine === EM_AARCH64;
}

export function prstatusBytes(machine: number, r: CoreRegisters): Uint8Array {
  const l = layoutFor(machine);
  for (const name of Object.keys(r.regs)) {
    if (!l.names.includes(name)) {
      throw new RprocError("EINVAL", `register '${name}' is not in the ${machine === EM_ARM ? "ARM" : "AArch64"} prstatus set`, {
        field: `registers.${name}`,
      });
    }
  }
  const out = new Uint8Array(l.size);
  const w = new ByteWriter(out);
  w.u16(l.cursig, r.signal ?? 0);
  w.u32(l.pid, r.pid ?? 1);
  l.names.forEach((name, i) => {
    const v = r.regs[name] ?? 0;
    const at = l.reg + i * l.regSize;
    if (l.regSize === 4) w.u32(at, Number(BigInt.asUintN(32, BigInt(v))));
    else w.u64(at, BigInt.asUintN(64, BigInt(v)));
  });
  return out;
}

/** Decodes a prstatus descriptor; EINVAL when its size is not the machine's layout. */
export function decodePrstatus(machine: number, desc: Uint8Array): CoreRegisters {
  const l = layoutFor(machine);
  if (desc.length !== l.size) {
    throw new RprocError("EINVAL", `NT_PRSTATUS descriptor is ${desc.length} bytes, expected ${l.size} for e_machine ${machine}`, {
      field: "note.descsz",
      value: desc.length,
      limit: l.size,
    });
  }
  const v = new ByteView(desc);
  const regs: Record<string, number | bigint> = {};
  l.names.forEach((name, i) => {
    const at = l.reg + i * l.regSize;
    if (l.regSize === 4) regs[name] = v.u32(at, `pr_reg.${name}`);
    else {
      const x = v.u64(at, `pr_reg.${name}`);
      regs[name] = x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
    }
  });
  return { regs, signal: v.u16(l.cursig, "pr_cursig"), pid: v.u32(l.pid, "pr_pid") };
}
