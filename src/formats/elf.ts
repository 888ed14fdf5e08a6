/**
 * ELF32/ELF64 reader for firmware images, both byte orders, without copying.
 *
 * Two levels of checking, kept apart on purpose:
 * - `elfSanityCheck` is exactly the kernel's rproc_elf_sanity_check (the
 *   checks the default ELF ops run before anything else, all -EINVAL);
 * - `parseElf` adds the bounds checks the kernel leaves out (header tables,
 *   segment and section data, string table, 64-bit values beyond 2^53),
 *   because the firmware file is hostile input and every later reader relies
 *   on those views being inside the file.
 */
import { RprocError, hex } from "../errors.js";
import { ByteView, checkRange, cString, type Endianness } from "./bytes.js";
import {
  EHDR_SIZE,
  PHDR_SIZE,
  SHDR_SIZE,
  SYM_SIZE,
  EI_CLASS,
  EI_DATA,
  EI_OSABI,
  ELFCLASS32,
  ELFCLASS64,
  ELFDATA2LSB,
  ELFDATA2MSB,
  ELFMAG,
  PT_LOAD,
  SHT_NOBITS,
  SHT_NULL,
  SHT_SYMTAB,
  SHT_DYNSYM,
} from "./elf-constants.js";

export * from "./elf-constants.js";

/** A 64-bit quantity: a number when it is <= Number.MAX_SAFE_INTEGER, a bigint only above. */
export type U64 = number | bigint;

export interface ElfHeader {
  class: 32 | 64;
  endianness: "little" | "big";
  osabi: number;
  type: number;
  machine: number;
  version: number;
  entry: U64;
  phoff: number;
  shoff: number;
  flags: number;
  ehsize: number;
  phentsize: number;
  phnum: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

export interface ProgramHeader {
  index: number;
  type: number;
  flags: number;
  offset: number;
  vaddr: U64;
  paddr: U64;
  filesz: number;
  memsz: number;
  align: U64;
}

export interface SectionHeader {
  index: number;
  name: string;
  nameOffset: number;
  type: number;
  /** Low 32 bits of sh_flags (every defined flag lives there). */
  flags: number;
  /** High 32 bits of an ELF64 sh_flags (0 for ELF32): no flag is defined there, readelf shows each set bit as "x". */
  flagsHigh: number;
  addr: U64;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: U64;
  entsize: number;
}

export interface ElfSymbol {
  name: string;
  value: U64;
  size: number;
  type: number;
  bind: number;
  shndx: number;
}

export interface ElfFile {
  bytes: Uint8Array;
  header: ElfHeader;
  programHeaders: ProgramHeader[];
  sectionHeaders: SectionHeader[];
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function u64(v: bigint): U64 {
  return v <= MAX_SAFE ? Number(v) : v;
}

/** A U64 as a plain number for use as an offset or length; EOVERFLOW naming the field when it is not safe. */
export function asSafeNumber(v: U64, field: string): number {
  if (typeof v === "number") return v;
  if (v <= MAX_SAFE && v >= 0n) return Number(v);
  throw new RprocError("EOVERFLOW", `${field} ${hex(v)} does not fit in 53 bits`, {
    field,
    value: hex(v),
    limit: Number.MAX_SAFE_INTEGER,
  });
}

function einval(field: string, message: string, value?: number | bigint | string, limit?: number | bigint | string): RprocError {
  return new RprocError("EINVAL", message, { field, value, limit });
}

/** What an EINVAL on the identification bytes reports as `value` and `limit`. */
const ELF_MAGIC_TEXT = "7f 45 4c 46";
const CLASS_LIMIT = "1 (ELFCLASS32) or 2 (ELFCLASS64)";
const DATA_LIMIT = "1 (ELFDATA2LSB) or 2 (ELFDATA2MSB)";
function magicOf(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** Reads a class-dependent word: u32 for ELF32, u64 for ELF64. */
function word(v: ByteView, cls: 32 | 64, off: number, field: string): bigint {
  return cls === 32 ? BigInt(v.u32(off, field)) : v.u64(off, field);
}

/**
 * The kernel's rproc_elf_sanity_check, check for check, all -EINVAL; the
 * message is the kernel's log text followed by the values involved.
 * `hostEndianness` is the simulated host's byte order (little, as on every
 * remoteproc host in mainline).
 */
export function elfSanityCheck(bytes: Uint8Array | null | undefined, hostEndianness: Endianness = "little"): void {
  if (bytes === null || bytes === undefined) throw einval("fw", "failed to load firmware", 0, EHDR_SIZE[32]);
  const size = bytes.byteLength;
  if (size < EHDR_SIZE[32]) throw einval("size", `Image is too small: size ${hex(size)} < ${hex(EHDR_SIZE[32])}`, size, EHDR_SIZE[32]);
  if (!ELFMAG.every((b, i) => bytes[i] === b)) throw einval("e_ident.EI_MAG", "Image is corrupted (bad magic)", magicOf(bytes), ELF_MAGIC_TEXT);
  const cls = bytes[EI_CLASS]!;
  if (cls !== ELFCLASS32 && cls !== ELFCLASS64) throw einval("e_ident.EI_CLASS", `Unsupported class: ${cls}`, cls, CLASS_LIMIT);
  if (cls === ELFCLASS64 && size < EHDR_SIZE[64]) {
    throw einval("size", `elf64 header is too small: size ${hex(size)} < ${hex(EHDR_SIZE[64])}`, size, EHDR_SIZE[64]);
  }
  const hostData = hostEndianness === "little" ? ELFDATA2LSB : ELFDATA2MSB;
  if (bytes[EI_DATA] !== hostData) {
    throw einval("e_ident.EI_DATA", `Unsupported firmware endianness: EI_DATA ${bytes[EI_DATA]}, host ${hostEndianness}-endian`, bytes[EI_DATA], hostData);
  }
  const v = new ByteView(bytes, hostEndianness);
  const c = cls === ELFCLASS32 ? 32 : 64;
  const shoff = word(v, c, c === 32 ? 32 : 40, "e_shoff");
  const phoff = word(v, c, c === 32 ? 28 : 32, "e_phoff");
  const phnum = v.u16(c === 32 ? 44 : 56, "e_phnum");
  const need = shoff + BigInt(SHDR_SIZE[c]);
  if (BigInt(size) < need) {
    throw einval("e_shoff", `Image is too small: e_shoff ${hex(shoff)} + section header ${hex(SHDR_SIZE[c])} > size ${hex(size)}`, hex(need), size);
  }
  if (phnum === 0) throw einval("e_phnum", "No loadable segments", 0, 1);
  if (phoff > BigInt(size)) throw einval("e_phoff", `Firmware size is too small: e_phoff ${hex(phoff)} > size ${hex(size)}`, hex(phoff), size);
}

/** Offsets of the header fields after e_ident, per class. */
const EHDR_OFF = {
  32: { type: 16, machine: 18, version: 20, entry: 24, phoff: 28, shoff: 32, flags: 36, ehsize: 40, phentsize: 42, phnum: 44, shentsize: 46, shnum: 48, shstrndx: 50 },
  64: { type: 16, machine: 18, version: 20, entry: 24, phoff: 32, shoff: 40, flags: 48, ehsize: 52, phentsize: 54, phnum: 56, shentsize: 58, shnum: 60, shstrndx: 62 },
} as const;

function parseHeader(bytes: Uint8Array): { header: ElfHeader; view: ByteView } {
  const size = bytes.byteLength;
  if (size < EHDR_SIZE[32]) throw einval("size", `Image is too small: size ${hex(size)} < ELF header ${hex(EHDR_SIZE[32])}`, size, EHDR_SIZE[32]);
  if (!ELFMAG.every((b, i) => bytes[i] === b)) throw einval("e_ident.EI_MAG", "Image is corrupted (bad magic): not an ELF file", magicOf(bytes), ELF_MAGIC_TEXT);
  const clsByte = bytes[EI_CLASS]!;
  if (clsByte !== ELFCLASS32 && clsByte !== ELFCLASS64) throw einval("e_ident.EI_CLASS", `Unsupported class: ${clsByte}`, clsByte, CLASS_LIMIT);
  const cls: 32 | 64 = clsByte === ELFCLASS32 ? 32 : 64;
  if (size < EHDR_SIZE[cls]) {
    throw einval("size", `elf64 header is too small: size ${hex(size)} < ${hex(EHDR_SIZE[cls])}`, size, EHDR_SIZE[cls]);
  }
  const data = bytes[EI_DATA]!;
  if (data !== ELFDATA2LSB && data !== ELFDATA2MSB) throw einval("e_ident.EI_DATA", `Unsupported data encoding: ${data}`, data, DATA_LIMIT);
  const endianness: Endianness = data === ELFDATA2LSB ? "little" : "big";
  const v = new ByteView(bytes, endianness);
  const o = EHDR_OFF[cls];
  const header: ElfHeader = {
    class: cls,
    endianness,
    osabi: bytes[EI_OSABI]!,
    type: v.u16(o.type, "e_type"),
    machine: v.u16(o.machine, "e_machine"),
    version: v.u32(o.version, "e_version"),
    entry: u64(word(v, cls, o.entry, "e_entry")),
    phoff: 0,
    shoff: 0,
    flags: v.u32(o.flags, "e_flags"),
    ehsize: v.u16(o.ehsize, "e_ehsize"),
    phentsize: v.u16(o.phentsize, "e_phentsize"),
    phnum: v.u16(o.phnum, "e_phnum"),
    shentsize: v.u16(o.shentsize, "e_shentsize"),
    shnum: v.u16(o.shnum, "e_shnum"),
    shstrndx: v.u16(o.shstrndx, "e_shstrndx"),
  };
  if (header.ehsize !== EHDR_SIZE[cls]) {
    throw einval("e_ehsize", `e_ehsize ${hex(header.ehsize)} does not match ELF${cls} header size ${hex(EHDR_SIZE[cls])}`, header.ehsize, EHDR_SIZE[cls]);
  }
  if (header.phnum > 0 && header.phentsize !== PHDR_SIZE[cls]) {
    throw einval("e_phentsize", `e_phentsize ${hex(header.phentsize)} does not match ELF${cls} program header size ${hex(PHDR_SIZE[cls])}`, header.phentsize, PHDR_SIZE[cls]);
  }
  if (header.shnum > 0 && header.shentsize !== SHDR_SIZE[cls]) {
    throw einval("e_shentsize", `e_shentsize ${hex(header.shentsize)} does not match ELF${cls} section header size ${hex(SHDR_SIZE[cls])}`, header.shentsize, SHDR_SIZE[cls]);
  }
  const phoff = word(v, cls, o.phoff, "e_phoff");
  const shoff = word(v, cls, o.shoff, "e_shoff");
  tableInFile("program header table", "e_phoff", phoff, header.phnum, PHDR_SIZE[cls], size);
  tableInFile("section header table", "e_shoff", shoff, header.shnum, SHDR_SIZE[cls], size);
  // Within the file, so below 2^53.
  header.phoff = Number(phoff);
  header.shoff = Number(shoff);
  return { header, view: v };
}

function tableInFile(what: string, field: string, off: bigint, num: number, entsize: number, size: number): void {
  if (num === 0) return;
  const end = off + BigInt(num * entsize);
  if (end > BigInt(size)) {
    throw einval(field, `${what}: ${field} ${hex(off)} + ${num} * ${hex(entsize)} exceeds file size ${hex(size)}`, hex(end), size);
  }
}

/** Requires [offset, offset+size) inside the file, naming the failing size field. */
function dataInFile(what: string, prefix: string, offName: string, sizeName: string, off: bigint, sz: bigint, fileSize: number): void {
  if (off + sz > BigInt(fileSize)) {
    throw einval(
      `${prefix}.${sizeName}`,
      `${what}: ${offName} ${hex(off)} + ${sizeName} ${hex(sz)} exceeds file size ${hex(fileSize)}`,
      hex(off + sz),
      fileSize,
    );
  }
}

function parseProgramHeaders(v: ByteView, h: ElfHeader): ProgramHeader[] {
  const out: ProgramHeader[] = [];
  const size = v.length;
  for (let i = 0; i < h.phnum; i++) {
    const base = h.phoff + i * PHDR_SIZE[h.class];
    const f = (name: string) => `programHeaders[${i}].${name}`;
    let type: number, flags: number, offset: bigint, vaddr: bigint, paddr: bigint, filesz: bigint, memsz: bigint, align: bigint;
    if (h.class === 32) {
      type = v.u32(base, f("p_type"));
      offset = BigInt(v.u32(base + 4, f("p_offset")));
      vaddr = BigInt(v.u32(base + 8, f("p_vaddr")));
      paddr = BigInt(v.u32(base + 12, f("p_paddr")));
      filesz = BigInt(v.u32(base + 16, f("p_filesz")));
      memsz = BigInt(v.u32(base + 20, f("p_memsz")));
      flags = v.u32(base + 24, f("p_flags"));
      align = BigInt(v.u32(base + 28, f("p_align")));
    } else {
      type = v.u32(base, f("p_type"));
      flags = v.u32(base + 4, f("p_flags"));
      offset = v.u64(base + 8, f("p_offset"));
      vaddr = v.u64(base + 16, f("p_vaddr"));
      paddr = v.u64(base + 24, f("p_paddr"));
      filesz = v.u64(base + 32, f("p_filesz"));
      memsz = v.u64(base + 40, f("p_memsz"));
      align = v.u64(base + 48, f("p_align"));
    }
    if (type === PT_LOAD && filesz > memsz) {
      throw einval(f("p_filesz"), `program header ${i}: p_filesz ${hex(filesz)} > p_memsz ${hex(memsz)}`, hex(filesz), hex(memsz));
    }
    dataInFile(`program header ${i}`, `programHeaders[${i}]`, "p_offset", "p_filesz", offset, filesz, size);
    out.push({
      index: i,
      type,
      flags,
      offset: Number(offset),
      vaddr: u64(vaddr),
      paddr: u64(paddr),
      filesz: Number(filesz),
      memsz: asSafeNumber(u64(memsz), f("p_memsz")),
      align: u64(align),
    });
  }
  return out;
}

function parseSectionHeaders(v: ByteView, h: ElfHeader): SectionHeader[] {
  const out: SectionHeader[] = [];
  const size = v.length;
  for (let i = 0; i < h.shnum; i++) {
    const base = h.shoff + i * SHDR_SIZE[h.class];
    const f = (name: string) => `sectionHeaders[${i}].${name}`;
    const c = h.class;
    const nameOffset = v.u32(base, f("sh_name"));
    const type = v.u32(base + 4, f("sh_type"));
    const flags64 = c === 32 ? BigInt(v.u32(base + 8, f("sh_flags"))) : v.u64(base + 8, f("sh_flags"));
    const flags = Number(flags64 & 0xffffffffn);
    const addr = word(v, c, c === 32 ? 12 + base : 16 + base, f("sh_addr"));
    const offset = word(v, c, c === 32 ? 16 + base : 24 + base, f("sh_offset"));
    const sz = word(v, c, c === 32 ? 20 + base : 32 + base, f("sh_size"));
    const link = v.u32(base + (c === 32 ? 24 : 40), f("sh_link"));
    const info = v.u32(base + (c === 32 ? 28 : 44), f("sh_info"));
    const addralign = word(v, c, base + (c === 32 ? 32 : 48), f("sh_addralign"));
    const entsize = word(v, c, base + (c === 32 ? 36 : 56), f("sh_entsize"));
    if (type !== SHT_NOBITS && type !== SHT_NULL) {
      dataInFile(`section header ${i}`, `sectionHeaders[${i}]`, "sh_offset", "sh_size", offset, sz, size);
    }
    out.push({
      index: i,
      name: "",
      nameOffset,
      type,
      flags,
      flagsHigh: Number(flags64 >> 32n),
      addr: u64(addr),
      // A NOBITS or NULL section's offset and size are not bounded by the file.
      offset: asSafeNumber(u64(offset), f("sh_offset")),
      size: asSafeNumber(u64(sz), f("sh_size")),
      link,
      info,
      addralign: u64(addralign),
      entsize: asSafeNumber(u64(entsize), f("sh_entsize")),
    });
  }
  return out;
}

/** A NUL-terminated name at `off` in a string table; the terminator must lie inside the table. */
function stringAt(table: Uint8Array, off: number, field: string, what: string): string {
  if (off >= table.byteLength) {
    throw einval(field, `${what}: name offset ${hex(off)} outside string table of size ${hex(table.byteLength)}`, off, table.byteLength);
  }
  const name = cString(table.subarray(off));
  if (!name.terminated) throw einval(field, `${what}: name at ${hex(off)} is not NUL-terminated within the string table`, off, table.byteLength);
  return name.text;
}

function nameSections(bytes: Uint8Array, h: ElfHeader, sections: SectionHeader[]): void {
  if (h.shnum === 0 || h.shstrndx === 0) return;
  if (h.shstrndx >= h.shnum) {
    throw einval("e_shstrndx", `e_shstrndx ${h.shstrndx} is not a section (e_shnum ${h.shnum})`, h.shstrndx, h.shnum);
  }
  const strtab = sections[h.shstrndx]!;
  if (strtab.type === SHT_NOBITS || strtab.type === SHT_NULL) {
    throw einval("e_shstrndx", `e_shstrndx ${h.shstrndx}: section name table has no data in the file (sh_type ${strtab.type})`, strtab.type, "a section with file data");
  }
  const table = bytes.subarray(strtab.offset, strtab.offset + strtab.size);
  for (const s of sections) {
    s.name = stringAt(table, s.nameOffset, `sectionHeaders[${s.index}].sh_name`, `section header ${s.index}`);
  }
}

/** Parses and bounds-checks an ELF image (either class, either byte order). Never copies `bytes`. */
export function parseElf(bytes: Uint8Array): ElfFile {
  const { header, view } = parseHeader(bytes);
  const programHeaders = parseProgramHeaders(view, header);
  const sectionHeaders = parseSectionHeaders(view, header);
  nameSections(bytes, header, sectionHeaders);
  return { bytes, header, programHeaders, sectionHeaders };
}

/** View of a segment's file contents [p_offset, p_offset + p_filesz). */
export function segmentData(elf: ElfFile, ph: ProgramHeader): Uint8Array {
  checkRange(ph.offset, ph.filesz, elf.bytes.byteLength, `programHeaders[${ph.index}].p_filesz`);
  return elf.bytes.subarray(ph.offset, ph.offset + ph.filesz);
}

/** View of a section's file contents; NOBITS (and NULL) sections have none. */
export function sectionData(elf: ElfFile, sh: SectionHeader): Uint8Array {
  if (sh.type === SHT_NOBITS || sh.type === SHT_NULL) return elf.bytes.subarray(0, 0);
  checkRange(sh.offset, sh.size, elf.bytes.byteLength, `sectionHeaders[${sh.index}].sh_size`);
  return elf.bytes.subarray(sh.offset, sh.offset + sh.size);
}

/** First section with this name, as the kernel's find_table takes the first `.resource_table`. */
export function findSection(elf: ElfFile, name: string): SectionHeader | undefined {
  return elf.sectionHeaders.find((s) => s.name === name);
}

/** Looks a symbol up in .symtab, then .dynsym (first match in each). */
export function findSymbol(elf: ElfFile, name: string): ElfSymbol | undefined {
  for (const type of [SHT_SYMTAB, SHT_DYNSYM]) {
    for (const sh of elf.sectionHeaders) {
      if (sh.type !== type) continue;
      const found = symbolsOf(elf, sh).find((s) => s.name === name);
      if (found) return found;
    }
  }
  return undefined;
}

/** Every symbol of a SYMTAB/DYNSYM section, names resolved through its sh_link string table. */
export function symbolsOf(elf: ElfFile, sh: SectionHeader): ElfSymbol[] {
  const cls = elf.header.class;
  const field = `sectionHeaders[${sh.index}]`;
  if (sh.link >= elf.sectionHeaders.length) {
    throw einval(`${field}.sh_link`, `symbol table ${sh.index}: sh_link ${sh.link} is not a section`, sh.link, elf.sectionHeaders.length);
  }
  const strtab = sectionData(elf, elf.sectionHeaders[sh.link]!);
  const data = new ByteView(sectionData(elf, sh), elf.header.endianness);
  const entsize = SYM_SIZE[cls];
  const out: ElfSymbol[] = [];
  for (let off = 0; off + entsize <= data.length; off += entsize) {
    const f = (n: string) => `${field}.symbols[${off / entsize}].${n}`;
    const nameOff = data.u32(off, f("st_name"));
    let value: bigint, size: bigint, info: number, shndx: number;
    if (cls === 32) {
      value = BigInt(data.u32(off + 4, f("st_value")));
      size = BigInt(data.u32(off + 8, f("st_size")));
      info = data.u8(off + 12, f("st_info"));
      shndx = data.u16(off + 14, f("st_shndx"));
    } else {
      info = data.u8(off + 4, f("st_info"));
      shndx = data.u16(off + 6, f("st_shndx"));
      value = data.u64(off + 8, f("st_value"));
      size = data.u64(off + 16, f("st_size"));
    }
    const name = nameOff === 0 ? "" : stringAt(strtab, nameOff, f("st_name"), `symbol ${off / entsize}`);
    out.push({ name, value: u64(value), size: asSafeNumber(u64(size), f("st_size")), type: info & 0xf, bind: info >> 4, shndx });
  }
  return out;
}
