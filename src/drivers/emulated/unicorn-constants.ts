/**
 * Unicorn 2.0.1 ABI constants, taken from the tag's headers
 * (include/unicorn/unicorn.h, arm.h, arm64.h of unicorn-engine/unicorn@2.0.1).
 * Debian's libunicorn2 ships no headers, so they live here; enum values are
 * positional in C, hence the explicit numbers.
 */

// uc_arch
export const UC_ARCH_ARM = 1;
export const UC_ARCH_ARM64 = 2;

// uc_mode
export const UC_MODE_ARM = 0;
export const UC_MODE_THUMB = 1 << 4;
export const UC_MODE_MCLASS = 1 << 5;
export const UC_MODE_LITTLE_ENDIAN = 0;

// uc_err
export const UC_ERR_OK = 0;
export const UC_ERR_NOMEM = 1;
export const UC_ERR_READ_UNMAPPED = 6;
export const UC_ERR_WRITE_UNMAPPED = 7;
export const UC_ERR_FETCH_UNMAPPED = 8;
export const UC_ERR_INSN_INVALID = 10;
export const UC_ERR_MAP = 11;
export const UC_ERR_WRITE_PROT = 12;
export const UC_ERR_READ_PROT = 13;
export const UC_ERR_FETCH_PROT = 14;
export const UC_ERR_ARG = 15;
export const UC_ERR_READ_UNALIGNED = 16;
export const UC_ERR_WRITE_UNALIGNED = 17;
export const UC_ERR_FETCH_UNALIGNED = 18;
export const UC_ERR_EXCEPTION = 21;

// uc_mem_type (argument of memory hooks)
export const UC_MEM_READ = 16;
export const UC_MEM_WRITE = 17;
export const UC_MEM_FETCH = 18;
export const UC_MEM_READ_UNMAPPED = 19;
export const UC_MEM_WRITE_UNMAPPED = 20;
export const UC_MEM_FETCH_UNMAPPED = 21;

// uc_hook_type
export const UC_HOOK_INTR = 1 << 0;
export const UC_HOOK_CODE = 1 << 2;
export const UC_HOOK_BLOCK = 1 << 3;
export const UC_HOOK_MEM_READ_UNMAPPED = 1 << 4;
export const UC_HOOK_MEM_WRITE_UNMAPPED = 1 << 5;
export const UC_HOOK_MEM_FETCH_UNMAPPED = 1 << 6;
export const UC_HOOK_MEM_UNMAPPED = UC_HOOK_MEM_READ_UNMAPPED | UC_HOOK_MEM_WRITE_UNMAPPED | UC_HOOK_MEM_FETCH_UNMAPPED;
export const UC_HOOK_INSN_INVALID = 1 << 14;

// uc_prot
export const UC_PROT_READ = 1;
export const UC_PROT_WRITE = 2;
export const UC_PROT_EXEC = 4;
export const UC_PROT_ALL = 7;

// uc_query_type
export const UC_QUERY_MODE = 1;
export const UC_QUERY_PAGE_SIZE = 2;
export const UC_QUERY_ARCH = 3;

// uc_ctl: UC_CTL(type, nr, rw) = type | nr << 26 | rw << 30; UC_CTL_CPU_MODEL = 7, UC_CTL_IO_WRITE = 1
export const UC_CTL_CPU_MODEL = 7;
export const UC_CTL_WRITE_CPU_MODEL = (UC_CTL_CPU_MODEL | (1 << 26) | (1 << 30)) >>> 0;

// uc_cpu_arm
export const UC_CPU_ARM_CORTEX_M0 = 7;
export const UC_CPU_ARM_CORTEX_M3 = 8;
export const UC_CPU_ARM_CORTEX_M4 = 9;
export const UC_CPU_ARM_CORTEX_M7 = 10;
export const UC_CPU_ARM_CORTEX_M33 = 11;
export const UC_CPU_ARM_CORTEX_R5 = 12;
export const UC_CPU_ARM_CORTEX_R5F = 13;
// uc_cpu_arm64
export const UC_CPU_ARM64_A57 = 0;
export const UC_CPU_ARM64_A53 = 1;
export const UC_CPU_ARM64_A72 = 2;

// uc_arm_reg
export const UC_ARM_REG_CPSR = 3;
export const UC_ARM_REG_LR = 10;
export const UC_ARM_REG_PC = 11;
export const UC_ARM_REG_SP = 12;
export const UC_ARM_REG_R0 = 66; // R0..R12 are consecutive: 66..78
export const UC_ARM_REG_IPSR = 114;
export const UC_ARM_REG_MSP = 115;
export const UC_ARM_REG_PSP = 116;
export const UC_ARM_REG_CONTROL = 117;
export const UC_ARM_REG_IAPSR = 118;
export const UC_ARM_REG_EAPSR = 119;
export const UC_ARM_REG_XPSR = 120;
export const UC_ARM_REG_EPSR = 121;
export const UC_ARM_REG_IEPSR = 122;
export const UC_ARM_REG_PRIMASK = 123;
export const UC_ARM_REG_BASEPRI = 124;
export const UC_ARM_REG_BASEPRI_MAX = 125;
export const UC_ARM_REG_FAULTMASK = 126;
export const UC_ARM_REG_SPSR = 13;

// uc_arm64_reg
export const UC_ARM64_REG_X29 = 1;
export const UC_ARM64_REG_X30 = 2;
export const UC_ARM64_REG_NZCV = 3;
export const UC_ARM64_REG_SP = 4;
export const UC_ARM64_REG_X0 = 199; // X0..X28 are consecutive: 199..227
export const UC_ARM64_REG_PC = 260;
export const UC_ARM64_REG_CPACR_EL1 = 261;
export const UC_ARM64_REG_PSTATE = 265;
export const UC_ARM64_REG_ELR_EL1 = 267;
export const UC_ARM64_REG_ESR_EL1 = 277;
export const UC_ARM64_REG_FAR_EL1 = 281;
export const UC_ARM64_REG_VBAR_EL1 = 287;

/** Index of ARM core register rN (N = 0..15) in uc_arm_reg. */
export function armReg(n: number): number {
  if (n <= 12) return UC_ARM_REG_R0 + n;
  return n === 13 ? UC_ARM_REG_SP : n === 14 ? UC_ARM_REG_LR : UC_ARM_REG_PC;
}

/** Index of AArch64 register xN (N = 0..30) in uc_arm64_reg. */
export function arm64Reg(n: number): number {
  if (n <= 28) return UC_ARM64_REG_X0 + n;
  return n === 29 ? UC_ARM64_REG_X29 : UC_ARM64_REG_X30;
}
