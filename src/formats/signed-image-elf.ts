/**
 * The ELF32 reading the remoteproc TA does itself (ta/remoteproc/src/
 * elf_parser.c): deliberately narrow, with the TA's error codes, so the TA
 * model refuses exactly what the TA refuses. It reads little-endian fields
 * (the TA reads host order on Arm). Sums are exact (the C code can wrap a
 * u32; we refuse instead). Alignment checks are on the absolute position in
 * the buffer the TA received: `base` is the image's offset in that buffer.
 */
import { hex } from "../errors.js";
import { teeError } from "./signed-image-errors.js";

export const ELF32_EHDR_SIZE = 52;
export const ELF32_PHDR_SIZE = 32;
export const ELF32_SHDR_SIZE = 40;
export const PT_LOAD = 1;
export const EM_ARM = 40;

function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
/** Little-endian u32 at `o`; callers have checked the bounds (the signed-image reader shares it). */
export function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

export interface Elf32Phdr {
  index: number;
  type: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  flags: number;
  align: number;
}

export function readPhdr(img: Uint8Array, at: number, index: number): Elf32Phdr {
  return {
    index,
    type: u32(img, at),
    offset: u32(img, at + 4),
    vaddr: u32(img, at + 8),
    paddr: u32(img, at + 12),
    filesz: u32(img, at + 16),
    memsz: u32(img, at + 20),
    flags: u32(img, at + 24),
    align: u32(img, at + 28),
  };
}

/** e32_parse_ehdr: the TA checks only the first image this way, with the whole img_len as its size. */
export function e32ParseEhdr(img: Uint8Array): void {
  if (img.length < ELF32_EHDR_SIZE) {
    throw teeError("TEE_ERROR_BAD_FORMAT", `ELF: ${img.length} bytes, smaller than an ELF32 header`, { field: "images[0].elf", value: img.length, limit: ELF32_EHDR_SIZE });
  }
  const shoff = u32(img, 32);
  if (img.length < shoff + ELF32_SHDR_SIZE) {
    throw teeError("TEE_ERROR_BAD_FORMAT", `ELF: e_shoff ${hex(shoff)} + ${ELF32_SHDR_SIZE} exceeds the image size ${hex(img.length)}`, {
      field: "images[0].elf.e_shoff",
      value: shoff,
      limit: img.length,
    });
  }
  const bad = (what: string, field: string, value: number): never => {
    throw teeError("TEE_ERROR_BAD_FORMAT", `ELF: invalid header: ${what}`, { field: `images[0].elf.${field}`, value });
  };
  if (img[0] !== 0x7f || img[1] !== 0x45 || img[2] !== 0x4c || img[3] !== 0x46) bad("bad magic", "e_ident", u32(img, 0));
  if (img[6] !== 1) bad(`EI_VERSION ${img[6]} is not EV_CURRENT`, "e_ident[EI_VERSION]", img[6]!);
  if (img[4] !== 1) bad(`EI_CLASS ${img[4]} is not ELFCLASS32`, "e_ident[EI_CLASS]", img[4]!);
  if (u16(img, 42) !== ELF32_PHDR_SIZE) bad(`e_phentsize ${u16(img, 42)} is not 32`, "e_phentsize", u16(img, 42));
  if (u16(img, 46) !== ELF32_SHDR_SIZE) bad(`e_shentsize ${u16(img, 46)} is not 40`, "e_shentsize", u16(img, 46));
  if (u16(img, 44) === 0) bad("no program headers (e_phnum 0)", "e_phnum", 0);
}

/** A PT_LOAD segment accepted by e32_parser_load_elf_image, with its file bytes. */
export interface LoadSegment {
  phdr: Elf32Phdr;
  data: Uint8Array;
}

/**
 * e32_parser_load_elf_image, as a generator so the caller loads each segment
 * before the next program header is checked (the TA's order: a bad later
 * header fails after earlier segments were written).
 */
export function* e32LoadSegments(img: Uint8Array, base: number, imageIndex: number): Generator<LoadSegment> {
  const field = `images[${imageIndex}].elf`;
  if (img.length < ELF32_EHDR_SIZE) {
    throw teeError("TEE_ERROR_BAD_FORMAT", `image ${imageIndex}: ${img.length} bytes, smaller than an ELF32 header`, { field, value: img.length });
  }
  const phoff = u32(img, 28);
  const phnum = u16(img, 44);
  if ((base + phoff) % 4 !== 0) {
    throw teeError("TEE_ERROR_BAD_FORMAT", `image ${imageIndex}: program headers at ${hex(phoff)} are not 4-byte aligned`, { field: `${field}.e_phoff`, value: phoff });
  }
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * ELF32_PHDR_SIZE;
    if (at + ELF32_PHDR_SIZE > img.length) {
      throw teeError("TEE_ERROR_BAD_FORMAT", `image ${imageIndex}: program header ${i} at ${hex(at)} lies outside the image (${hex(img.length)} bytes)`, {
        field: `${field}.programHeaders[${i}]`,
        value: at + ELF32_PHDR_SIZE,
        limit: img.length,
      });
    }
    const phdr = readPhdr(img, at, i);
    if (phdr.type !== PT_LOAD) continue;
    if (phdr.offset + phdr.filesz > img.length) {
      throw teeError(
        "TEE_ERROR_BAD_FORMAT",
        `image ${imageIndex}: program header ${i}: p_offset ${hex(phdr.offset)} + p_filesz ${hex(phdr.filesz)} exceeds the image size ${hex(img.length)}`,
        { field: `${field}.programHeaders[${i}].p_filesz`, value: phdr.offset + phdr.filesz, limit: img.length },
      );
    }
    yield { phdr, data: img.subarray(phdr.offset, phdr.offset + phdr.filesz) };
  }
}

export interface RscTableLocation {
  da: number;
  size: number;
  /** Offset of the table in the image. */
  offset: number;
  sectionIndex: number;
}

const RSC_NAME = ".resource_table";

/** C strncmp(a_at, ".resource_table", n) === 0 over the image bytes (stops at NUL or n). */
function strncmpEq(img: Uint8Array, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const a = at + i < img.length ? img[at + i]! : 0;
    const b = i < RSC_NAME.length ? RSC_NAME.charCodeAt(i) : 0;
    if (a !== b) return false;
    if (a === 0) return true;
  }
  return true;
}

/**
 * e32_parser_find_rsc_table: undefined when there is none (the TA's
 * NO_DATA, including a zero-size section). BAD_FORMAT for a malformed
 * section table or table, CORRUPT_OBJECT for a misaligned table.
 */
export function e32FindRscTable(
  img: Uint8Array,
  base: number,
  imageIndex: number,
  /** Where the table's bytes are read for the header checks; default: the image itself. Undefined skips the header checks. */
  tableBytes?: (loc: { da: number; offset: number; size: number }) => Uint8Array | undefined,
): RscTableLocation | undefined {
  const field = `images[${imageIndex}].elf`;
  const shoff = u32(img, 32);
  const shnum = u16(img, 48);
  const shstrndx = u16(img, 50);
  const fail = (msg: string, f: string, value?: number, limit?: number): never => {
    throw teeError("TEE_ERROR_BAD_FORMAT", `image ${imageIndex}: ${msg}`, { field: `${field}.${f}`, value, limit });
  };
  if ((base + shoff) % 4 !== 0) fail(`section headers at ${hex(shoff)} are not 4-byte aligned`, "e_shoff", shoff);
  if (shoff + shnum * ELF32_SHDR_SIZE > img.length) fail(`section header table at ${hex(shoff)} (${shnum} entries) exceeds the image`, "e_shnum", shoff + shnum * ELF32_SHDR_SIZE, img.length);
  if (shstrndx >= shnum) fail(`e_shstrndx ${shstrndx} is not below e_shnum ${shnum}`, "e_shstrndx", shstrndx, shnum);
  const strSh = shoff + shstrndx * ELF32_SHDR_SIZE;
  const namesOff = u32(img, strSh + 16);
  const namesSize = u32(img, strSh + 20);
  if (namesOff + namesSize > img.length) fail(`section name table at ${hex(namesOff)} + ${hex(namesSize)} exceeds the image`, `sectionHeaders[${shstrndx}].sh_size`, namesOff + namesSize, img.length);
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * ELF32_SHDR_SIZE;
    const name = u32(img, sh);
    if (name >= namesSize) fail(`section ${i}: sh_name ${hex(name)} outside the name table (${hex(namesSize)} bytes)`, `sectionHeaders[${i}].sh_name`, name, namesSize);
    if (!strncmpEq(img, namesOff + name, namesSize - name)) continue;
    const addr = u32(img, sh + 12);
    const offset = u32(img, sh + 16);
    const size = u32(img, sh + 20);
    if (size === 0) return undefined;
    if (offset + size > img.length) fail(`resource table truncated: sh_offset ${hex(offset)} + sh_size ${hex(size)} exceeds the image`, `sectionHeaders[${i}].sh_size`, offset + size, img.length);
    if (size < 16) fail(`resource table of ${size} bytes has no header`, `sectionHeaders[${i}].sh_size`, size, 16);
    if ((base + offset) % 4 !== 0) {
      throw teeError("TEE_ERROR_CORRUPT_OBJECT", `image ${imageIndex}: resource table at ${hex(offset)} is not 4-byte aligned`, {
        field: `${field}.sectionHeaders[${i}].sh_offset`,
        value: offset,
      });
    }
    const table = tableBytes === undefined ? img.subarray(offset, offset + size) : tableBytes({ da: addr, offset, size });
    if (table !== undefined) checkRscTableHeader(table, imageIndex);
    return { da: addr, size, offset, sectionIndex: i };
  }
  return undefined;
}

/** The TA's resource table header checks: version 1, reserved zero, offsets array inside the table. */
export function checkRscTableHeader(table: Uint8Array, imageIndex: number): void {
  const field = `images[${imageIndex}].resourceTable`;
  const ver = u32(table, 0);
  const num = u32(table, 4);
  if (ver !== 1) throw teeError("TEE_ERROR_BAD_FORMAT", `image ${imageIndex}: unsupported resource table version ${ver}`, { field: `${field}.ver`, value: ver });
  if (u32(table, 8) !== 0 || u32(table, 12) !== 0) throw teeError("TEE_ERROR_BAD_FORMAT", `image ${imageIndex}: resource table reserved words are not zero`, { field: `${field}.reserved` });
  if (16 + 4 * num > table.length) {
    throw teeError("TEE_ERROR_BAD_FORMAT", `image ${imageIndex}: resource table incomplete: ${num} offsets need ${16 + 4 * num} bytes, table has ${table.length}`, {
      field: `${field}.num`,
      value: 16 + 4 * num,
      limit: table.length,
    });
  }
}

/** What the signer needs from each input ELF (sign_rproc_fw.py reads it with pyelftools). */
export interface SignerElfInfo {
  machine: number;
  phdrs: Elf32Phdr[];
}

/** Program headers of an ELF32 for the signer; EINVAL-family errors name the input. */
export function readSignerElf(img: Uint8Array, name: string): SignerElfInfo {
  return readSignerElfFrom((off, len) => img.subarray(off, off + len), img.length, name);
}

/**
 * The same from a file read piecewise (`read(off, len)` returns exactly those
 * bytes; it is only called inside [0, size)): the streaming signer reads the
 * ELF and program headers without loading the whole file.
 */
export function readSignerElfFrom(read: (off: number, len: number) => Uint8Array, size: number, name: string): SignerElfInfo {
  const field = name;
  const eh = size >= ELF32_EHDR_SIZE ? read(0, ELF32_EHDR_SIZE) : new Uint8Array(0);
  if (eh.length < ELF32_EHDR_SIZE || eh[0] !== 0x7f || eh[1] !== 0x45 || eh[2] !== 0x4c || eh[3] !== 0x46) {
    throw teeError("TEE_ERROR_BAD_FORMAT", `${name}: not an ELF file`, { field });
  }
  if (eh[4] !== 1 || eh[5] !== 1) throw teeError("TEE_ERROR_BAD_FORMAT", `${name}: only little-endian ELF32 is supported (class ${eh[4]}, data ${eh[5]})`, { field });
  const machine = u16(eh, 18);
  const phoff = u32(eh, 28);
  const phentsize = u16(eh, 42);
  const phnum = u16(eh, 44);
  if (phnum > 0 && phentsize !== ELF32_PHDR_SIZE) throw teeError("TEE_ERROR_BAD_FORMAT", `${name}: e_phentsize ${phentsize} is not 32`, { field, value: phentsize });
  const phdrs: Elf32Phdr[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * ELF32_PHDR_SIZE;
    if (at + ELF32_PHDR_SIZE > size) {
      throw teeError("TEE_ERROR_BAD_FORMAT", `${name}: program header ${i} at ${hex(at)} exceeds the file (${hex(size)} bytes)`, { field, value: at + 32, limit: size });
    }
    const ph = readPhdr(read(at, ELF32_PHDR_SIZE), 0, i);
    if (ph.offset + ph.filesz > size) {
      throw teeError("TEE_ERROR_BAD_FORMAT", `${name}: program header ${i}: p_offset ${hex(ph.offset)} + p_filesz ${hex(ph.filesz)} exceeds file size ${hex(size)}`, {
        field,
        value: ph.offset + ph.filesz,
        limit: size,
      });
    }
    phdrs.push(ph);
  }
  return { machine, phdrs };
}
