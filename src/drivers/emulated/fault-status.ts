/**
 * Names the bits of the fault status registers a crash report shows:
 * Cortex-M CFSR (MMFSR/BFSR/UFSR) and HFSR (ARMv7-M ARM B3.2.15-B3.2.16),
 * and the R5's short-descriptor DFSR/IFSR (ARMv7-AR ARM B4.1.52, B4.1.96).
 * Pure: a record of register name -> value in, a list of names out.
 */

const CFSR_BITS: [number, string][] = [
  [0, "IACCVIOL"],
  [1, "DACCVIOL"],
  [3, "MUNSTKERR"],
  [4, "MSTKERR"],
  [5, "MLSPERR"],
  [7, "MMARVALID"],
  [8, "IBUSERR"],
  [9, "PRECISERR"],
  [10, "IMPRECISERR"],
  [11, "UNSTKERR"],
  [12, "STKERR"],
  [13, "LSPERR"],
  [15, "BFARVALID"],
  [16, "UNDEFINSTR"],
  [17, "INVSTATE"],
  [18, "INVPC"],
  [19, "NOCP"],
  [24, "UNALIGNED"],
  [25, "DIVBYZERO"],
];

const HFSR_BITS: [number, string][] = [
  [1, "VECTTBL"],
  [30, "FORCED"],
  [31, "DEBUGEVT"],
];

/** FS[4:0] of a short-descriptor DFSR/IFSR (bit 10 is FS[4]). */
const FSR_STATUS: Record<number, string> = {
  0x01: "alignment fault",
  0x02: "debug event",
  0x08: "synchronous external abort",
  0x0d: "permission fault (MPU, section)",
  0x00: "background fault (MPU: no region)",
  0x16: "asynchronous external abort",
  0x19: "synchronous parity error",
};

function fsr(v: number, what: string): string[] {
  const status = ((v >> 6) & 0x10) | (v & 0xf);
  const out = [`${what}: ${FSR_STATUS[status] ?? `status ${status.toString(2).padStart(5, "0")}`}`];
  if (what === "DFSR" && v & (1 << 11)) out.push("WnR (write)");
  return out;
}

export function decodeFaultStatus(status: Record<string, number>): string[] {
  const out: string[] = [];
  if (status.cfsr !== undefined) for (const [bit, name] of CFSR_BITS) if (status.cfsr & (1 << bit)) out.push(name);
  if (status.hfsr !== undefined) for (const [bit, name] of HFSR_BITS) if ((status.hfsr >>> bit) & 1) out.push(name);
  if (status.dfsr !== undefined) out.push(...fsr(status.dfsr, "DFSR"));
  if (status.ifsr !== undefined) out.push(...fsr(status.ifsr, "IFSR"));
  return out;
}
