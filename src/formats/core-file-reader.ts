/**
 * Reads a remoteproc core dump back: both kernel variants (program headers
 * or sections) and our optional NT_PRSTATUS note. Used by tests, the crash
 * command and `inspect`'s core-file summary. Input is hostile: every table
 * and note is bounds-checked with the offending field named.
 */
import { RprocError, hex } from "../errors.js";
import { ByteView, checkRange, cString } from "./bytes.js";
import { decodePrstatus, hasPrstatusLayout, type CoreRegisters } from "./core-file-prstatus.js";
import { NT_PRSTATUS, type CoreClass } from "./core-file.js";
import { asSafeNumber } from "./elf.js";
import { ET_CORE, PT_LOAD, PT_NOTE, SHT_PROGBITS } from "./elf-constants.js";

export interface CoreFileSegment {
  da: number;
  size: number;
  offset: number;
  /** Section variant: the section's name. */
  name?: string;
}

export interface CoreFileNote {
  name: string;
  type: number;
  descsz: number;
}

export interface CoreFileSummary {
  class: CoreClass;
  machine: number;
  entry: number;
  variant: "program-headers" | "sections";
  segments: CoreFileSegment[];
  notes: CoreFileNote[];
  registers?: CoreRegisters;
}

/** Parses a core file; throws EINVAL if it is not an ELF core or a table/note leaves the file. */
export function readCoreFile(bytes: Uint8Array): CoreFileSummary {
  const v0 = new ByteView(bytes);
  if (bytes.length < 16 || v0.u32(0, "e_ident.magic") !== 0x464c457f) {
    throw new RprocError("EINVAL", "not an ELF file (bad magic)", { field: "e_ident.magic" });
  }
  const clsByte = v0.u8(4, "e_ident.class");
  if (clsByte !== 1 && clsByte !== 2) throw new RprocError("EINVAL", `bad ELF class ${clsByte}`, { field: "e_ident.class", value: clsByte });
  const cls: CoreClass = clsByte === 1 ? 32 : 64;
  const data = v0.u8(5, "e_ident.data");
  if (data !== 1 && data !== 2) throw new RprocError("EINVAL", `bad ELF data encoding ${data}`, { field: "e_ident.data", value: data });
  const v = new ByteView(bytes, data === 1 ? "little" : "big");
  const type = v.u16(16, "e_type");
  if (type !== ET_CORE) throw new RprocError("EINVAL", `e_type ${type} is not ET_CORE (4)`, { field: "e_type", value: type, limit: ET_CORE });
  const machine = v.u16(18, "e_machine");
  const h = cls === 32
    ? { entry: v.u32(24, "e_entry"), phoff: v.u32(28, "e_phoff"), shoff: v.u32(32, "e_shoff"), phentsize: v.u16(42, "e_phentsize"), phnum: v.u16(44, "e_phnum"), shentsize: v.u16(46, "e_shentsize"), shnum: v.u16(48, "e_shnum"), shstrndx: v.u16(50, "e_shstrndx") }
    : { entry: asSafeNumber(v.u64(24, "e_entry"), "e_entry"), phoff: asSafeNumber(v.u64(32, "e_phoff"), "e_phoff"), shoff: asSafeNumber(v.u64(40, "e_shoff"), "e_shoff"), phentsize: v.u16(54, "e_phentsize"), phnum: v.u16(56, "e_phnum"), shentsize: v.u16(58, "e_shentsize"), shnum: v.u16(60, "e_shnum"), shstrndx: v.u16(62, "e_shstrndx") };
  const summary: CoreFileSummary = { class: cls, machine, entry: h.entry, variant: h.phnum > 0 ? "program-headers" : "sections", segments: [], notes: [] };
  const P = cls === 32 ? 32 : 56;
  if (h.phnum > 0) {
    if (h.phentsize !== P) throw new RprocError("EINVAL", `e_phentsize ${h.phentsize} is not ${P}`, { field: "e_phentsize", value: h.phentsize, limit: P });
    checkRange(h.phoff, h.phnum * P, bytes.length, "program header table");
  }
  for (let i = 0; i < h.phnum; i++) {
    const at = h.phoff + i * P;
    const f = `programHeaders[${i}]`;
    const ph = cls === 32
      ? { type: v.u32(at, `${f}.p_type`), offset: v.u32(at + 4, `${f}.p_offset`), vaddr: v.u32(at + 8, `${f}.p_vaddr`), filesz: v.u32(at + 16, `${f}.p_filesz`) }
      : { type: v.u32(at, `${f}.p_type`), offset: asSafeNumber(v.u64(at + 8, `${f}.p_offset`), `${f}.p_offset`), vaddr: asSafeNumber(v.u64(at + 16, `${f}.p_vaddr`), `${f}.p_vaddr`), filesz: asSafeNumber(v.u64(at + 32, `${f}.p_filesz`), `${f}.p_filesz`) };
    checkRange(ph.offset, ph.filesz, bytes.length, `${f}.p_filesz`);
    if (ph.type === PT_LOAD) summary.segments.push({ da: ph.vaddr, size: ph.filesz, offset: ph.offset });
    else if (ph.type === PT_NOTE) readNotes(v, ph.offset, ph.filesz, machine, summary, f);
  }
  if (h.phnum === 0 && h.shnum > 0) readSections(v, cls, h.shoff, h.shnum, h.shentsize, h.shstrndx, summary);
  return summary;
}

function readNotes(v: ByteView, offset: number, size: number, machine: number, summary: CoreFileSummary, f: string): void {
  let at = offset;
  const end = offset + size;
  while (at + 12 <= end) {
    const namesz = v.u32(at, `${f}.note.namesz`);
    const descsz = v.u32(at + 4, `${f}.note.descsz`);
    const type = v.u32(at + 8, `${f}.note.type`);
    const nameOff = at + 12;
    const descOff = nameOff + ((namesz + 3) & ~3);
    const next = descOff + ((descsz + 3) & ~3);
    if (next > end) {
      throw new RprocError("EINVAL", `${f}: note at ${hex(at)} (namesz ${namesz}, descsz ${descsz}) runs past the segment end ${hex(end)}`, {
        field: `${f}.note.descsz`,
        value: next,
        limit: end,
      });
    }
    const name = cString(v.sub(nameOff, namesz, `${f}.note.name`)).text;
    summary.notes.push({ name, type, descsz });
    if (type === NT_PRSTATUS && name === "CORE" && hasPrstatusLayout(machine) && summary.registers === undefined) {
      summary.registers = decodePrstatus(machine, v.sub(descOff, descsz, `${f}.note.desc`));
    }
    at = next;
  }
}

function readSections(v: ByteView, cls: CoreClass, shoff: number, shnum: number, shentsize: number, shstrndx: number, summary: CoreFileSummary): void {
  const S = cls === 32 ? 40 : 64;
  if (shentsize !== S) throw new RprocError("EINVAL", `e_shentsize ${shentsize} is not ${S}`, { field: "e_shentsize", value: shentsize, limit: S });
  checkRange(shoff, shnum * S, v.length, "section header table");
  if (shstrndx >= shnum) throw new RprocError("EINVAL", `e_shstrndx ${shstrndx} >= e_shnum ${shnum}`, { field: "e_shstrndx", value: shstrndx, limit: shnum });
  const sh = (i: number) => {
    const at = shoff + i * S;
    const f = `sectionHeaders[${i}]`;
    return cls === 32
      ? { name: v.u32(at, `${f}.sh_name`), type: v.u32(at + 4, `${f}.sh_type`), addr: v.u32(at + 12, `${f}.sh_addr`), offset: v.u32(at + 16, `${f}.sh_offset`), size: v.u32(at + 20, `${f}.sh_size`) }
      : { name: v.u32(at, `${f}.sh_name`), type: v.u32(at + 4, `${f}.sh_type`), addr: asSafeNumber(v.u64(at + 16, `${f}.sh_addr`), `${f}.sh_addr`), offset: asSafeNumber(v.u64(at + 24, `${f}.sh_offset`), `${f}.sh_offset`), size: asSafeNumber(v.u64(at + 32, `${f}.sh_size`), `${f}.sh_size`) };
  };
  const str = sh(shstrndx);
  checkRange(str.offset, str.size, v.length, `sectionHeaders[${shstrndx}].sh_size`);
  const strtab = v.sub(str.offset, str.size, "string table");
  for (let i = 0; i < shnum; i++) {
    const s = sh(i);
    if (s.type !== SHT_PROGBITS) continue;
    checkRange(s.offset, s.size, v.length, `sectionHeaders[${i}].sh_size`);
    if (s.name >= strtab.length) {
      throw new RprocError("EINVAL", `section ${i}: sh_name ${s.name} outside the string table (${strtab.length} bytes)`, {
        field: `sectionHeaders[${i}].sh_name`,
        value: s.name,
        limit: strtab.length,
      });
    }
    summary.segments.push({ da: s.addr, size: s.size, offset: s.offset, name: cString(strtab.subarray(s.name)).text });
  }
}
