/**
 * The remoteproc ELF core file, byte for byte as the kernel's
 * remoteproc_coredump.c builds it (spec §6.2, §6.3), plus an optional PT_NOTE
 * with NT_PRSTATUS so gdb can show registers (the kernel writes no notes; an
 * emulated core can).
 *
 * Pure: sizes and headers are computed up front from the segment list; the
 * segment bytes come from a callback, so the same header serves the
 * `enabled` mode (copy everything now) and the `inline` mode (stream from
 * device memory while the reader reads).
 */
import { RprocError, hex } from "../errors.js";
import { ByteWriter } from "./bytes.js";
import { prstatusBytes, type CoreRegisters } from "./core-file-prstatus.js";
import {
  EHDR_SIZE,
  ELFCLASS32,
  ELFCLASS64,
  ELFDATA2LSB,
  ELFMAG,
  ET_CORE,
  EV_CURRENT,
  PF_R,
  PF_W,
  PF_X,
  PHDR_SIZE,
  PT_LOAD,
  PT_NOTE,
  SHDR_SIZE,
  SHF_WRITE,
  SHT_PROGBITS,
  SHT_STRTAB,
} from "./elf-constants.js";

export const NT_PRSTATUS = 1;
/** e_phnum at or above this would need the PN_XNUM extension the kernel does not write. */
export const PN_XNUM = 0xffff;
/** Section indexes from here on are reserved (SHN_LORESERVE). */
export const SHN_LORESERVE = 0xff00;

export type CoreClass = 32 | 64;

/** One dump segment as the core file sees it: a device address range. */
export interface CoreSegment {
  da: number;
  size: number;
  /** Section variant only: the section name (the kernel's segment->priv string). */
  name?: string;
}

export interface CoreLayout {
  class: CoreClass;
  machine: number;
  /** e_entry: the processor's boot address. */
  entry: number | bigint;
  segments: CoreSegment[];
  /** Registers for an NT_PRSTATUS note (ARM or AArch64 layout by machine). Absent: no PT_NOTE, as the kernel. */
  registers?: CoreRegisters;
}

/** A built header plus where each segment's bytes go in the file. */
export interface CoreHeader {
  header: Uint8Array;
  /** File offset of each segment's data, in list order. */
  dataOffsets: number[];
  /** Header bytes + every segment's bytes: the size of the whole dump. */
  totalSize: number;
}

function checkClass(cls: number): asserts cls is CoreClass {
  if (cls !== 32 && cls !== 64) {
    throw new RprocError("EINVAL", `ELF class ${cls} is not 32 or 64`, { field: "elfClass", value: cls });
  }
}

/** Offsets must be representable in the class's fields (32-bit: u32) and exactly in a JS number. */
function checkOffset(cls: CoreClass, value: number, field: string): void {
  const limit = cls === 32 ? 0xffffffff : Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(value) || value < 0 || value > limit) {
    throw new RprocError("EOVERFLOW", `${field} ${hex(value)} does not fit an ELF${cls} field (limit ${hex(limit)})`, {
      field,
      value,
      limit,
    });
  }
}

function checkSegment(cls: CoreClass, seg: CoreSegment, i: number): void {
  checkOffset(cls, seg.da, `segments[${i}].da`);
  checkOffset(cls, seg.size, `segments[${i}].size`);
}

function writeIdent(w: ByteWriter, cls: CoreClass): void {
  ELFMAG.forEach((b, i) => w.u8(i, b));
  w.u8(4, cls === 32 ? ELFCLASS32 : ELFCLASS64);
  // The kernel writes ELFDATA2LSB whatever the host: the dump always claims little-endian (spec §11.10).
  w.u8(5, ELFDATA2LSB);
  w.u8(6, EV_CURRENT);
  // EI_OSABI = ELFOSABI_NONE, the rest of e_ident zero (buffer is zeroed).
}

interface EhdrFields {
  machine: number;
  entry: number | bigint;
  phoff: number;
  phnum: number;
  shoff: number;
  shnum: number;
  shstrndx: number;
}

function writeEhdr(w: ByteWriter, cls: CoreClass, f: EhdrFields): void {
  writeIdent(w, cls);
  w.u16(16, ET_CORE);
  w.u16(18, f.machine);
  w.u32(20, EV_CURRENT);
  if (cls === 32) {
    w.u32(24, Number(BigInt.asUintN(32, BigInt(f.entry))));
    w.u32(28, f.phoff);
    w.u32(32, f.shoff);
    w.u32(36, 0);
    w.u16(40, EHDR_SIZE[32]);
    w.u16(42, f.phnum ? PHDR_SIZE[32] : 0);
    w.u16(44, f.phnum);
    w.u16(46, f.shnum ? SHDR_SIZE[32] : 0);
    w.u16(48, f.shnum);
    w.u16(50, f.shstrndx);
  } else {
    w.u64(24, BigInt.asUintN(64, BigInt(f.entry)));
    w.u64(32, f.phoff);
    w.u64(40, f.shoff);
    w.u32(48, 0);
    w.u16(52, EHDR_SIZE[64]);
    w.u16(54, f.phnum ? PHDR_SIZE[64] : 0);
    w.u16(56, f.phnum);
    w.u16(58, f.shnum ? SHDR_SIZE[64] : 0);
    w.u16(60, f.shnum);
    w.u16(62, f.shstrndx);
  }
}

interface PhdrFields {
  type: number;
  flags: number;
  offset: number;
  addr: number;
  filesz: number;
  memsz: number;
  align: number;
}

function writePhdr(w: ByteWriter, cls: CoreClass, at: number, p: PhdrFields): void {
  if (cls === 32) {
    w.u32(at + 0, p.type);
    w.u32(at + 4, p.offset);
    w.u32(at + 8, p.addr);
    w.u32(at + 12, p.addr);
    w.u32(at + 16, p.filesz);
    w.u32(at + 20, p.memsz);
    w.u32(at + 24, p.flags);
    w.u32(at + 28, p.align);
  } else {
    w.u32(at + 0, p.type);
    w.u32(at + 4, p.flags);
    w.u64(at + 8, p.offset);
    w.u64(at + 16, p.addr);
    w.u64(at + 24, p.addr);
    w.u64(at + 32, p.filesz);
    w.u64(at + 40, p.memsz);
    w.u64(at + 48, p.align);
  }
}

const NOTE_NAME = "CORE";

/** One ELF note: namesz, descsz, type, name padded to 4, desc padded to 4 (Linux core notes use 4-byte padding in both classes). */
function noteBytes(type: number, desc: Uint8Array): Uint8Array {
  const namesz = NOTE_NAME.length + 1;
  const namePad = (namesz + 3) & ~3;
  const descPad = (desc.length + 3) & ~3;
  const out = new Uint8Array(12 + namePad + descPad);
  const w = new ByteWriter(out);
  w.u32(0, namesz);
  w.u32(4, desc.length);
  w.u32(8, type);
  for (let i = 0; i < NOTE_NAME.length; i++) out[12 + i] = NOTE_NAME.charCodeAt(i);
  out.set(desc, 12 + namePad);
  return out;
}

/**
 * rproc_coredump's header: ELF header, one PT_LOAD per segment (vaddr = paddr
 * = da, RWX, align 0) and, only when registers are given, a leading PT_NOTE
 * whose bytes sit between the program headers and the segment data.
 */
export function buildCoreHeader(layout: CoreLayout): CoreHeader {
  checkClass(layout.class);
  const cls = layout.class;
  const segs = layout.segments;
  const note = layout.registers ? noteBytes(NT_PRSTATUS, prstatusBytes(layout.machine, layout.registers)) : undefined;
  const phnum = segs.length + (note ? 1 : 0);
  // The kernel (2026 tree) refuses PN_XNUM-1 and more: the count must fit e_phnum without extension.
  if (phnum >= PN_XNUM - 1) {
    throw new RprocError("EINVAL", `too many dump segments: ${phnum} program headers (limit ${PN_XNUM - 2})`, {
      field: "segments.length",
      value: phnum,
      limit: PN_XNUM - 2,
    });
  }
  segs.forEach((s, i) => checkSegment(cls, s, i));
  const E = EHDR_SIZE[cls];
  const P = PHDR_SIZE[cls];
  const headerSize = E + phnum * P + (note ? note.length : 0);
  const header = new Uint8Array(headerSize);
  const w = new ByteWriter(header);
  writeEhdr(w, cls, { machine: layout.machine, entry: layout.entry, phoff: E, phnum, shoff: 0, shnum: 0, shstrndx: 0 });
  let ph = E;
  if (note) {
    const noteOff = E + phnum * P;
    writePhdr(w, cls, ph, { type: PT_NOTE, flags: 0, offset: noteOff, addr: 0, filesz: note.length, memsz: 0, align: 0 });
    header.set(note, noteOff);
    ph += P;
  }
  const dataOffsets: number[] = [];
  let offset = headerSize;
  for (const s of segs) {
    checkOffset(cls, offset, "p_offset");
    dataOffsets.push(offset);
    writePhdr(w, cls, ph, { type: PT_LOAD, flags: PF_R | PF_W | PF_X, offset, addr: s.da, filesz: s.size, memsz: s.size, align: 0 });
    ph += P;
    offset += s.size;
  }
  checkOffset(cls, offset, "dump size");
  return { header, dataOffsets, totalSize: offset };
}

const STR_TBL = "STR_TBL";

/**
 * rproc_coredump_using_sections' header: ELF header with sections only
 * (null, "STR_TBL", one SHT_PROGBITS per segment named by the segment), then
 * the string table; segment data follows it.
 */
export function buildSectionCoreHeader(layout: CoreLayout): CoreHeader {
  checkClass(layout.class);
  const cls = layout.class;
  const segs = layout.segments;
  const shnum = segs.length + 2;
  // Spec §6.3: fewer than SHN_LORESERVE-1 sections (the same margin as PN_XNUM-1 for program headers).
  if (shnum >= SHN_LORESERVE - 1) {
    throw new RprocError("EINVAL", `too many dump segments: ${shnum} sections (limit ${SHN_LORESERVE - 2})`, {
      field: "segments.length",
      value: shnum,
      limit: SHN_LORESERVE - 2,
    });
  }
  segs.forEach((s, i) => {
    checkSegment(cls, s, i);
    if (s.name === undefined) {
      throw new RprocError("EINVAL", `segment ${i} (da ${hex(s.da)}) has no name; the section variant names each section after its segment`, {
        field: `segments[${i}].name`,
      });
    }
  });
  const E = EHDR_SIZE[cls];
  const S = SHDR_SIZE[cls];
  const names = segs.map((s) => latin1(s.name as string));
  const strtabSize = 1 + STR_TBL.length + 1 + names.reduce((n, b) => n + b.length + 1, 0);
  const strtabOff = E + shnum * S;
  const headerSize = strtabOff + strtabSize;
  const header = new Uint8Array(headerSize);
  const w = new ByteWriter(header);
  writeEhdr(w, cls, { machine: layout.machine, entry: layout.entry, phoff: 0, phnum: 0, shoff: E, shnum, shstrndx: 1 });
  // Section 1: the string table, "\0STR_TBL\0" then each segment name.
  writeShdr(w, cls, E + S, { name: 1, type: SHT_STRTAB, flags: 0, addr: 0, offset: strtabOff, size: strtabSize });
  let str = strtabOff + 1;
  header.set(latin1(STR_TBL), str);
  str += STR_TBL.length + 1;
  const dataOffsets: number[] = [];
  let offset = headerSize;
  segs.forEach((s, i) => {
    checkOffset(cls, offset, "sh_offset");
    const nameOff = str - strtabOff;
    header.set(names[i]!, str);
    str += names[i]!.length + 1;
    writeShdr(w, cls, E + (i + 2) * S, { name: nameOff, type: SHT_PROGBITS, flags: SHF_WRITE, addr: s.da, offset, size: s.size });
    dataOffsets.push(offset);
    offset += s.size;
  });
  checkOffset(cls, offset, "dump size");
  return { header, dataOffsets, totalSize: offset };
}

interface ShdrFields {
  name: number;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
}

function writeShdr(w: ByteWriter, cls: CoreClass, at: number, s: ShdrFields): void {
  if (cls === 32) {
    w.u32(at + 0, s.name);
    w.u32(at + 4, s.type);
    w.u32(at + 8, s.flags);
    w.u32(at + 12, s.addr);
    w.u32(at + 16, s.offset);
    w.u32(at + 20, s.size);
  } else {
    w.u32(at + 0, s.name);
    w.u32(at + 4, s.type);
    w.u64(at + 8, s.flags);
    w.u64(at + 16, s.addr);
    w.u64(at + 24, s.offset);
    w.u64(at + 32, s.size);
  }
}

function latin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0xff) {
      throw new RprocError("EINVAL", `section name ${JSON.stringify(s)} has a character that is not a byte or is NUL`, { field: "segments.name" });
    }
    out[i] = c;
  }
  return out;
}

/** Reads `size` bytes of segment `index` starting `offset` bytes into it (device memory, or 0xff where unreadable). */
export type SegmentReader = (index: number, offset: number, size: number) => Uint8Array;

/**
 * The kernel's rproc_coredump_read for inline dumps: a read inside the header
 * returns header bytes only (a short read, as memory_read_from_buffer does);
 * past it, bytes come from the segments in list order; past the end, nothing.
 */
export function readCoreStream(hdr: CoreHeader, segments: CoreSegment[], readSegment: SegmentReader, offset: number, count: number): Uint8Array {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(count) || count < 0) {
    throw new RprocError("EINVAL", `bad dump read: offset ${offset}, count ${count}`, { field: "offset", value: String(offset) });
  }
  const headerSize = hdr.header.length;
  if (offset < headerSize) return hdr.header.slice(offset, Math.min(headerSize, offset + count));
  const out = new Uint8Array(Math.max(0, Math.min(count, hdr.totalSize - offset)));
  let done = 0;
  let rel = offset - headerSize;
  for (let i = 0; i < segments.length && done < out.length; i++) {
    const size = segments[i]!.size;
    if (rel >= size) {
      rel -= size;
      continue;
    }
    const n = Math.min(out.length - done, size - rel);
    out.set(fitted(readSegment(i, rel, n), n), done);
    done += n;
    rel = 0;
  }
  return out;
}

/** A reader's answer of the wrong length is padded with 0xff (unreadable) or cut, never trusted. */
function fitted(bytes: Uint8Array, n: number): Uint8Array {
  if (bytes.length === n) return bytes;
  const out = new Uint8Array(n).fill(0xff);
  out.set(bytes.subarray(0, n));
  return out;
}

/** The whole file at once: header, then each segment's bytes (the `enabled` mode's buffer). */
export function buildCoreFile(hdr: CoreHeader, segments: CoreSegment[], readSegment: SegmentReader): Uint8Array {
  if (!Number.isSafeInteger(hdr.totalSize) || hdr.totalSize > 0x7fffffff) {
    throw new RprocError("ENOMEM", `dump of ${hex(hdr.totalSize)} bytes is too large to build in memory`, {
      field: "dump size",
      value: hdr.totalSize,
      limit: 0x7fffffff,
    });
  }
  const out = new Uint8Array(hdr.totalSize);
  out.set(hdr.header, 0);
  segments.forEach((s, i) => out.set(fitted(readSegment(i, 0, s.size), s.size), hdr.dataOffsets[i]!));
  return out;
}
