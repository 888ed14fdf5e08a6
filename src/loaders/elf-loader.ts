/**
 * The kernel's default ELF ops (remoteproc_elf_loader.c, spec §3):
 * sanity check, boot address, segment load, resource-table parse and the
 * loaded-table lookup. withDefaultOps() installs them when a driver has no
 * `load`; drivers that set `load` may reuse them one by one, as stm32_rproc does.
 */
import { RprocError, hex, isRprocError } from "../errors.js";
import {
  PT_LOAD,
  asSafeNumber,
  elfSanityCheck,
  findSection,
  parseElf,
  sectionData,
  segmentData,
  type ElfFile,
  type SectionHeader,
} from "../formats/elf.js";
import { RESOURCE_TABLE_SECTION, TABLE_HDR_SIZE } from "../formats/resource-table.js";
import type { MemView } from "../platform/mem-view.js";
import type { Firmware } from "../core/firmware.js";
import type { Rproc } from "../core/rproc.js";
import { explainDa } from "../core/memory.js";

const parsed = new WeakMap<Uint8Array, ElfFile>();

/** parseElf once per firmware image (every op of a boot reads the same bytes; parseElf never copies). */
export function firmwareElf(fw: Firmware): ElfFile {
  let elf = parsed.get(fw.data);
  if (!elf) {
    elf = parseForLoader(fw.data);
    parsed.set(fw.data, elf);
  }
  return elf;
}

const SEGMENT_RANGE_FIELD = /^programHeaders\[\d+\]\.p_(filesz|offset)$/;

/**
 * parseElf, except for the file range of program headers. The kernel checks
 * p_filesz <= p_memsz and p_offset + p_filesz <= size only in
 * rproc_elf_load_segments, and only for the PT_LOAD segments it loads, so a
 * board refuses such an image at `load` (after the resources were
 * allocated) and boots it when the segment is one it skips (PT_NOTE,
 * p_memsz 0). The rest of parseElf's hardening stays (those reads would be
 * out of bounds in the kernel). Only a malformed image pays for the copy.
 */
function parseForLoader(bytes: Uint8Array): ElfFile {
  try {
    return parseElf(bytes);
  } catch (e) {
    if (!isRprocError(e) || !e.field || !SEGMENT_RANGE_FIELD.test(e.field)) throw e;
  }
  // Validate everything else on a copy whose program headers have no file contents ...
  const copy = bytes.slice();
  const dv = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
  const is64 = copy[4] === 2;
  const le = copy[5] !== 2;
  const phoff = is64 ? Number(dv.getBigUint64(32, le)) : dv.getUint32(28, le);
  const phnum = dv.getUint16(is64 ? 56 : 44, le);
  const at = (i: number, off32: number, off64: number): number => phoff + i * (is64 ? 56 : 32) + (is64 ? off64 : off32);
  const setWord = (off: number, v: bigint): void => (is64 ? dv.setBigUint64(off, v, le) : dv.setUint32(off, Number(v), le));
  const getWord = (off: number): bigint => (is64 ? dv.getBigUint64(off, le) : BigInt(dv.getUint32(off, le)));
  const raw: { offset: bigint; filesz: bigint }[] = [];
  for (let i = 0; i < phnum; i++) {
    const offAt = at(i, 4, 8);
    const fileszAt = at(i, 16, 32);
    // parseElf already proved the program header table lies inside the file.
    raw.push({ offset: getWord(offAt), filesz: getWord(fileszAt) });
    setWord(offAt, 0n);
    setWord(fileszAt, 0n);
  }
  const elf = parseElf(copy);
  // ... then give the loader the image's own values (beyond 2^53 they only need to exceed the file size).
  const programHeaders = elf.programHeaders.map((ph, i) => ({ ...ph, offset: Number(raw[i]!.offset), filesz: Number(raw[i]!.filesz) }));
  return { ...elf, bytes, programHeaders };
}

/**
 * rproc_elf_sanity_check, then parseElf's hardening (header/section tables
 * and segment ranges inside the file), which the kernel leaves unchecked.
 * The kernel never compares e_machine with the core; rproc warns.
 */
export function rprocElfSanityCheck(rproc: Rproc, fw: Firmware): void {
  elfSanityCheck(fw.data);
  const elf = firmwareElf(fw);
  const want = rproc.processor.elfMachine;
  if (want !== undefined && elf.header.machine !== want) {
    rproc.warn(
      "elf-machine-mismatch",
      "header.e_machine",
      `firmware e_machine ${elf.header.machine} differs from ${rproc.processor.name}'s core (${want}); the kernel does not check this and would load it anyway`,
    );
  }
}

/** rproc_elf_get_boot_addr: e_entry. */
export function rprocElfGetBootAddr(_rproc: Rproc, fw: Firmware): number {
  return asSafeNumber(firmwareElf(fw).header.entry, "e_entry");
}

/** rproc_elf_load_segments: every PT_LOAD with memsz > 0, through rproc_da_to_va(p_paddr, memsz). */
export function rprocElfLoadSegments(rproc: Rproc, fw: Firmware): void {
  const elf = firmwareElf(fw);
  for (const ph of elf.programHeaders) {
    if (ph.type !== PT_LOAD || ph.memsz === 0) continue;
    const field = `programHeaders[${ph.index}]`;
    if (ph.filesz > ph.memsz)
      throw new RprocError("EINVAL", `bad phdr filesz ${hex(ph.filesz)} memsz ${hex(ph.memsz)} (segment ${ph.index})`, {
        field: `${field}.p_filesz`,
        value: ph.filesz,
        limit: ph.memsz,
      });
    if (ph.offset + ph.filesz > fw.data.byteLength)
      throw new RprocError("EINVAL", `truncated fw: need ${hex(ph.offset + ph.filesz)} avail ${hex(fw.data.byteLength)} (segment ${ph.index})`, {
        field: `${field}.p_offset`,
        value: ph.offset + ph.filesz,
        limit: fw.data.byteLength,
      });
    const da = typeof ph.paddr === "number" ? ph.paddr : undefined;
    const va = da === undefined ? undefined : rproc.daToVa(da, ph.memsz);
    if (!va) {
      const daText = hex(ph.paddr);
      const why = da === undefined ? "the address does not fit the host's address space" : explainDa(rproc, da, ph.memsz);
      throw new RprocError("EINVAL", `bad phdr da ${daText} mem ${hex(ph.memsz)}: segment ${ph.index} (${ph.memsz} bytes) ${why}`, {
        field: `${field}.p_paddr`,
        value: typeof ph.paddr === "number" ? ph.paddr : hex(ph.paddr),
      });
    }
    if (ph.filesz > 0) va.write(0, segmentData(elf, ph));
    if (ph.memsz > ph.filesz) va.fill(ph.filesz, ph.memsz - ph.filesz, 0);
    rproc.emit("load_segment", "info", {
      index: ph.index,
      da: da!,
      pa: va.pa,
      filesz: ph.filesz,
      memsz: ph.memsz,
      region: rproc.platform.regionAt(va.pa, ph.memsz)?.name ?? null,
    });
  }
}

/**
 * find_table(): the FIRST ".resource_table" is final; its checks are the
 * kernel's (truncated, header-less, version, reserved, incomplete). Returns
 * the reason instead of NULL so parse_fw can say why.
 */
export function findTable(elf: ElfFile): { section: SectionHeader; bytes: Uint8Array } | string {
  const sh = findSection(elf, RESOURCE_TABLE_SECTION);
  if (!sh) return `no ${RESOURCE_TABLE_SECTION} section`;
  if (sh.offset + sh.size > elf.bytes.byteLength)
    return `resource table truncated: offset ${hex(sh.offset)} + size ${hex(sh.size)} > file size ${hex(elf.bytes.byteLength)}`;
  const bytes = sectionData(elf, sh);
  if (sh.size < TABLE_HDR_SIZE || bytes.byteLength < TABLE_HDR_SIZE) return `header-less resource table (${sh.size} bytes)`;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ver = dv.getUint32(0, true);
  if (ver !== 1) return `unsupported fw ver: ${ver}`;
  if (dv.getUint32(8, true) || dv.getUint32(12, true)) return "non zero reserved bytes";
  const num = dv.getUint32(4, true);
  if (TABLE_HDR_SIZE + 4 * num > sh.size) return `resource table incomplete: ${num} entries need ${TABLE_HDR_SIZE + 4 * num} bytes, section has ${sh.size}`;
  return { section: sh, bytes };
}

/** rproc_elf_load_rsc_table (default parse_fw): the table is mandatory. */
export function rprocElfLoadRscTable(rproc: Rproc, fw: Firmware): void {
  const t = findTable(firmwareElf(fw));
  if (typeof t === "string")
    throw new RprocError("EINVAL", `${t}: the default ELF parse_fw (rproc_elf_load_rsc_table) requires a valid resource table`, {
      field: RESOURCE_TABLE_SECTION,
    });
  rproc.cachedTable = t.bytes.slice();
  rproc.tablePtr = rproc.cachedTable;
  rproc.tableSz = t.section.size;
}

/** rproc_elf_find_loaded_rsc_table: the section's address translated like any device address. */
export function rprocElfFindLoadedRscTable(rproc: Rproc, fw: Firmware): MemView | undefined {
  const t = findTable(firmwareElf(fw));
  if (typeof t === "string") return undefined;
  if (typeof t.section.addr !== "number") return undefined;
  return rproc.daToVa(t.section.addr, t.section.size);
}

/** The five slots rproc_alloc_ops() fills when a driver has no load op. */
export const elfLoaderOps = {
  load: rprocElfLoadSegments,
  parseFw: rprocElfLoadRscTable,
  findLoadedRscTable: rprocElfFindLoadedRscTable,
  sanityCheck: rprocElfSanityCheck,
  getBootAddr: rprocElfGetBootAddr,
};
