/**
 * ELF constants (System V gABI, <uapi/linux/elf.h>) used by the remoteproc
 * ELF loader, coredump and `rproc inspect`, plus the names readelf prints for them.
 */

export const ELFMAG = [0x7f, 0x45, 0x4c, 0x46] as const;
export const EI_CLASS = 4;
export const EI_DATA = 5;
export const EI_VERSION = 6;
export const EI_OSABI = 7;
export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;
export const EV_CURRENT = 1;

/** Struct sizes the kernel uses as strides (it ignores e_phentsize/e_shentsize). */
export const EHDR_SIZE = { 32: 52, 64: 64 } as const;
export const PHDR_SIZE = { 32: 32, 64: 56 } as const;
export const SHDR_SIZE = { 32: 40, 64: 64 } as const;
export const SYM_SIZE = { 32: 16, 64: 24 } as const;

export const ET_NONE = 0, ET_REL = 1, ET_EXEC = 2, ET_DYN = 3, ET_CORE = 4;
export const EM_NONE = 0, EM_ARM = 40, EM_X86_64 = 62, EM_AARCH64 = 183, EM_RISCV = 243;

export const PT_NULL = 0, PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3, PT_NOTE = 4, PT_SHLIB = 5, PT_PHDR = 6, PT_TLS = 7;
export const PT_GNU_EH_FRAME = 0x6474e550, PT_GNU_STACK = 0x6474e551, PT_GNU_RELRO = 0x6474e552, PT_GNU_PROPERTY = 0x6474e553;
export const PT_ARM_EXIDX = 0x70000001;
export const PF_X = 1, PF_W = 2, PF_R = 4;

export const SHN_UNDEF = 0;
export const SHN_XINDEX = 0xffff;
export const SHT_NULL = 0, SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_RELA = 4, SHT_HASH = 5, SHT_DYNAMIC = 6;
export const SHT_NOTE = 7, SHT_NOBITS = 8, SHT_REL = 9, SHT_SHLIB = 10, SHT_DYNSYM = 11;
export const SHT_INIT_ARRAY = 14, SHT_FINI_ARRAY = 15, SHT_PREINIT_ARRAY = 16, SHT_GROUP = 17, SHT_SYMTAB_SHNDX = 18;
export const SHT_GNU_HASH = 0x6ffffff6, SHT_GNU_VERDEF = 0x6ffffffd, SHT_GNU_VERNEED = 0x6ffffffe, SHT_GNU_VERSYM = 0x6fffffff;
export const SHT_ARM_EXIDX = 0x70000001, SHT_ARM_ATTRIBUTES = 0x70000003, SHT_AARCH64_ATTRIBUTES = 0x70000003;

export const SHF_WRITE = 0x1, SHF_ALLOC = 0x2, SHF_EXECINSTR = 0x4, SHF_MERGE = 0x10, SHF_STRINGS = 0x20;
export const SHF_INFO_LINK = 0x40, SHF_LINK_ORDER = 0x80, SHF_OS_NONCONFORMING = 0x100, SHF_GROUP = 0x200;
export const SHF_TLS = 0x400, SHF_COMPRESSED = 0x800, SHF_EXCLUDE = 0x80000000;

export const STT_NOTYPE = 0, STT_OBJECT = 1, STT_FUNC = 2, STT_SECTION = 3, STT_FILE = 4;
export const STB_LOCAL = 0, STB_GLOBAL = 1, STB_WEAK = 2;

export const ET_NAMES: Record<number, string> = { 0: "NONE", 1: "REL", 2: "EXEC", 3: "DYN", 4: "CORE" };

/** readelf's names (binutils 2.40) for the cores remoteproc drivers boot, and a few hosts. */
export const EM_NAMES: Record<number, string> = {
  0: "None",
  3: "Intel 80386",
  8: "MIPS R3000",
  20: "PowerPC",
  21: "PowerPC64",
  40: "ARM",
  45: "ARC",
  62: "Advanced Micro Devices X86-64",
  93: "ARCompact",
  94: "Tensilica Xtensa Processor",
  105: "Texas Instruments msp430 microcontroller",
  106: "Analog Devices Blackfin",
  140: "Texas Instruments TMS320C6000 DSP family",
  144: "TI PRU I/O processor",
  164: "QUALCOMM DSP6 Processor",
  183: "AArch64",
  195: "ARCv2",
  243: "RISC-V",
};

export const PT_NAMES: Record<number, string> = {
  0: "NULL",
  1: "LOAD",
  2: "DYNAMIC",
  3: "INTERP",
  4: "NOTE",
  5: "SHLIB",
  6: "PHDR",
  7: "TLS",
  [PT_GNU_EH_FRAME]: "GNU_EH_FRAME",
  [PT_GNU_STACK]: "GNU_STACK",
  [PT_GNU_RELRO]: "GNU_RELRO",
  [PT_GNU_PROPERTY]: "GNU_PROPERTY",
};

export const SHT_NAMES: Record<number, string> = {
  0: "NULL",
  1: "PROGBITS",
  2: "SYMTAB",
  3: "STRTAB",
  4: "RELA",
  5: "HASH",
  6: "DYNAMIC",
  7: "NOTE",
  8: "NOBITS",
  9: "REL",
  10: "SHLIB",
  11: "DYNSYM",
  14: "INIT_ARRAY",
  15: "FINI_ARRAY",
  16: "PREINIT_ARRAY",
  17: "GROUP",
  18: "SYMTAB_SHNDX",
  [SHT_GNU_HASH]: "GNU_HASH",
  [SHT_GNU_VERDEF]: "VERDEF",
  [SHT_GNU_VERNEED]: "VERNEED",
  [SHT_GNU_VERSYM]: "VERSYM",
};

/** Processor-specific names depend on e_machine, as in readelf. */
export function ptName(type: number, machine: number): string {
  if (machine === EM_ARM && type === PT_ARM_EXIDX) return "EXIDX";
  return PT_NAMES[type] ?? "0x" + type.toString(16).padStart(8, "0");
}

export function shtName(type: number, machine: number): string {
  if (machine === EM_ARM && type === SHT_ARM_EXIDX) return "ARM_EXIDX";
  if (machine === EM_ARM && type === SHT_ARM_ATTRIBUTES) return "ARM_ATTRIBUTES";
  if (machine === EM_AARCH64 && type === SHT_AARCH64_ATTRIBUTES) return "AARCH64_ATTRIBUTES";
  return SHT_NAMES[type] ?? "0x" + type.toString(16).padStart(8, "0");
}

export function etName(type: number): string {
  return ET_NAMES[type] ?? "0x" + type.toString(16);
}

export function machineName(machine: number): string {
  return EM_NAMES[machine] ?? "<unknown>: 0x" + machine.toString(16);
}

/** "RWX"-style segment flags: only the letters present, in R, W, X order. */
export function segmentFlagLetters(flags: number): string {
  return (flags & PF_R ? "R" : "") + (flags & PF_W ? "W" : "") + (flags & PF_X ? "X" : "");
}

export const SHF_MASKOS = 0x0ff00000, SHF_MASKPROC = 0xf0000000;
export const SHF_GNU_RETAIN = 0x00200000, SHF_GNU_MBIND = 0x01000000, SHF_ARM_PURECODE = 0x20000000;
export const ELFOSABI_NONE = 0, ELFOSABI_GNU = 3, ELFOSABI_FREEBSD = 9;

const SHF_LETTERS: Record<number, string> = {
  [SHF_WRITE]: "W",
  [SHF_ALLOC]: "A",
  [SHF_EXECINSTR]: "X",
  [SHF_MERGE]: "M",
  [SHF_STRINGS]: "S",
  [SHF_INFO_LINK]: "I",
  [SHF_LINK_ORDER]: "L",
  [SHF_OS_NONCONFORMING]: "O",
  [SHF_GROUP]: "G",
  [SHF_TLS]: "T",
  [SHF_COMPRESSED]: "C",
  [SHF_EXCLUDE]: "E",
};

/**
 * Section flag letters exactly as `readelf -S` prints them (binutils'
 * get_elf_section_flags): one letter per set bit, lowest bit first; the
 * GNU/FreeBSD OS bits R and D, ARM's y (SHF_ARM_PURECODE); any other bit of
 * SHF_MASKOS is one "o" and of SHF_MASKPROC one "p" (the rest of that mask is
 * then consumed, so e.g. 0x30000000 is "p"); any other bit is "x", including
 * each bit set in the high 32 bits of an ELF64 sh_flags (`high`).
 */
export function sectionFlagLetters(flags: number, machine: number = EM_NONE, osabi: number = ELFOSABI_NONE, high = 0): string {
  let rest = flags >>> 0;
  let s = "";
  while (rest !== 0) {
    const bit = (rest & -rest) >>> 0;
    rest = (rest & ~bit) >>> 0;
    const known = SHF_LETTERS[bit];
    if (known !== undefined) s += known;
    else if (machine === EM_ARM && bit === SHF_ARM_PURECODE) s += "y";
    else if ((bit & SHF_MASKOS) !== 0) {
      const gnu = osabi === ELFOSABI_GNU || osabi === ELFOSABI_FREEBSD;
      if (gnu && bit === SHF_GNU_RETAIN) s += "R";
      else if ((gnu || osabi === ELFOSABI_NONE) && bit === SHF_GNU_MBIND) s += "D";
      else {
        s += "o";
        rest = (rest & ~SHF_MASKOS) >>> 0;
      }
    } else if ((bit & SHF_MASKPROC) !== 0) {
      s += "p";
      rest = (rest & ~SHF_MASKPROC) >>> 0;
    } else s += "x";
  }
  for (let h = high >>> 0; h !== 0; h = (h & (h - 1)) >>> 0) s += "x";
  return s;
}
