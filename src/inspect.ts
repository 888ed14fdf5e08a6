/**
 * `rproc inspect`: what a firmware file is and whether the kernel would take
 * it, as one plain object (`rproc inspect --json` prints exactly this).
 * Firmware errors are part of the report, never thrown; the format is
 * documented in docs/inspect-json.md.
 */
import { diag, type Diagnostic } from "./diagnostics.js";
import { RprocError, isRprocError, type Errno, type TeeErrorName } from "./errors.js";
import { jsonU64, type JsonU64 } from "./formats/bytes.js";
import {
  parseElf,
  etName,
  machineName,
  ptName,
  shtName,
  segmentFlagLetters,
  sectionFlagLetters,
  type ElfFile,
} from "./formats/elf.js";
import {
  findResourceTable,
  lintResourceTable,
  parseResourceTable,
  type CarveoutRsc,
  type DevmemRsc,
  type RscEntry,
  type TraceRsc,
  type UnknownRsc,
  type VdevRsc,
  type VendorRsc,
} from "./formats/resource-table.js";
import { isSignedImage } from "./formats/signed-image.js";
import { inspectSignedImage, type InspectSignedImage } from "./tee/inspect-signed.js";
import { inspectCoreFile, type InspectCoreFile } from "./formats/core-file-inspect.js";

export type { JsonU64 };

export interface InspectSegment {
  type: string;
  offset: number;
  vaddr: JsonU64;
  paddr: JsonU64;
  filesz: number;
  memsz: number;
  flags: string;
}

export interface InspectSection {
  name: string;
  type: string;
  addr: JsonU64;
  offset: number;
  size: number;
  flags: string;
}

export interface InspectElf {
  class: 32 | 64;
  endianness: "little" | "big";
  type: string;
  machine: number;
  machineName: string;
  entry: JsonU64;
  segments: InspectSegment[];
  sections: InspectSection[];
}

/** A decoded entry as JSON: the format layer's fields, less the raw bytes and the name-termination flag (a lint finding). */
export type InspectRscEntry =
  | Omit<CarveoutRsc, "nameTerminated">
  | Omit<DevmemRsc, "nameTerminated">
  | Omit<TraceRsc, "nameTerminated">
  | Omit<VdevRsc, "numOfVrings" | "reserved" | "config">
  | Omit<VendorRsc, "body">
  | UnknownRsc;

export interface InspectResourceTable {
  section: string;
  /** File offset of the table. */
  offset: number;
  /** The section's address (sh_addr), where the firmware expects the table. */
  address: JsonU64;
  size: number;
  version: number;
  entries: InspectRscEntry[];
}

export interface InspectReport {
  file: string;
  size: number;
  elf: InspectElf;
  resourceTable: InspectResourceTable | null;
  diagnostics: Diagnostic[];
  /** Present for an OP-TEE signed image (src/tee/inspect-signed.ts, docs/inspect-json.md). */
  signedImage?: InspectSignedImage;
  /** Present for an ELF core file (ET_CORE), e.g. a remoteproc coredump (src/formats/core-file-inspect.ts, docs/inspect-json.md). */
  coreFile?: InspectCoreFile;
}

export interface InspectRejection {
  file: string;
  error: { code: Errno; message: string; field?: string; teeError?: TeeErrorName };
}

export type InspectResult = InspectReport | InspectRejection;

export function isRejection(r: InspectResult): r is InspectRejection {
  return "error" in r;
}

/**
 * Dispatches on the first bytes of the file: an OP-TEE signed image (magic
 * 68 a4 43 35), else ELF (whose parser names what is wrong with anything
 * else). Returns a rejection object (not an exception) for anything the
 * firmware parsers refuse.
 */
export function inspect(bytes: Uint8Array, options: { file?: string } = {}): InspectResult {
  const file = options.file ?? "<memory>";
  try {
    if (isSignedImage(bytes)) return inspectSignedImage(bytes, { file });
    return inspectElf(bytes, file);
  } catch (e) {
    if (isRprocError(e)) return rejection(file, e);
    throw e;
  }
}

function rejection(file: string, e: RprocError): InspectRejection {
  const error: InspectRejection["error"] = { code: e.code, message: e.message };
  if (e.field !== undefined) error.field = e.field;
  if (e.teeError !== undefined) error.teeError = e.teeError;
  return { file, error };
}

function elfReport(elf: ElfFile): InspectElf {
  const h = elf.header;
  return {
    class: h.class,
    endianness: h.endianness,
    type: etName(h.type),
    machine: h.machine,
    machineName: machineName(h.machine),
    entry: jsonU64(h.entry),
    segments: elf.programHeaders.map((ph) => ({
      type: ptName(ph.type, h.machine),
      offset: ph.offset,
      vaddr: jsonU64(ph.vaddr),
      paddr: jsonU64(ph.paddr),
      filesz: ph.filesz,
      memsz: ph.memsz,
      flags: segmentFlagLetters(ph.flags),
    })),
    sections: elf.sectionHeaders.map((sh) => ({
      name: sh.name,
      type: shtName(sh.type, h.machine),
      addr: jsonU64(sh.addr),
      offset: sh.offset,
      size: sh.size,
      flags: sectionFlagLetters(sh.flags, h.machine, h.osabi, sh.flagsHigh),
    })),
  };
}

function entryJson(e: RscEntry): InspectRscEntry {
  const base = { index: e.index, offset: e.offset };
  switch (e.type) {
    case "carveout":
    case "devmem":
      return { ...base, type: e.type, da: e.da, pa: e.pa, len: e.len, flags: e.flags, reserved: e.reserved, name: e.name };
    case "trace":
      return { ...base, type: "trace", da: e.da, len: e.len, reserved: e.reserved, name: e.name };
    case "vdev":
      return {
        ...base,
        type: "vdev",
        id: e.id,
        notifyid: e.notifyid,
        dfeatures: e.dfeatures,
        gfeatures: e.gfeatures,
        configLen: e.configLen,
        status: e.status,
        vrings: e.vrings.map((r) => ({ da: r.da, align: r.align, num: r.num, notifyid: r.notifyid, pa: r.pa })),
      };
    case "vendor":
      return { ...base, type: "vendor", typeId: e.typeId, len: e.len };
    case "unknown":
      return { ...base, type: "unknown", typeId: e.typeId };
  }
}

function inspectElf(bytes: Uint8Array, file: string): InspectReport {
  const report: InspectReport = { file, size: bytes.byteLength, ...inspectElfBytes(bytes) };
  if (report.elf.type === "CORE") addCoreFile(report, bytes);
  return report;
}

/**
 * A core file is a dump, not firmware: no resource table is expected, and
 * its layout, notes and registers are summarised. A malformed note or table
 * is an error diagnostic, so the ELF part of the report is still shown.
 */
function addCoreFile(report: InspectReport, bytes: Uint8Array): void {
  report.diagnostics = report.diagnostics.filter((d) => d.code !== "no-resource-table");
  try {
    report.coreFile = inspectCoreFile(bytes);
  } catch (e) {
    if (!isRprocError(e)) throw e;
    report.diagnostics.push(diag("error", "core-file-malformed", e.field ? `coreFile.${e.field}` : "coreFile", `${e.code}: ${e.message}`));
  }
}

/** The ELF part of a report (identity, resource table, diagnostics with paths from the report root); throws RprocError. Reused for the images inside a signed image. */
export function inspectElfBytes(
  bytes: Uint8Array,
  /** resourceTable false: do not decode the table (its file bytes are ciphertext in an encrypted signed image). */
  opts: { resourceTable?: boolean } = {},
): { elf: InspectElf; resourceTable: InspectResourceTable | null; diagnostics: Diagnostic[] } {
  const elf = parseElf(bytes);
  const diagnostics: Diagnostic[] = [];
  const h = elf.header;
  if (h.endianness !== "little") {
    diagnostics.push(diag("warning", "elf-not-little-endian", "elf.endianness", "big-endian ELF: the kernel's ELF loader refuses firmware whose byte order differs from the host's (every mainline remoteproc host is little-endian) with EINVAL"));
  }
  if (h.shnum > 0 && h.shstrndx === 0) {
    diagnostics.push(diag("warning", "no-section-names", "elf.sections", `e_shstrndx is 0 (SHN_UNDEF) with ${h.shnum} sections: there is no section name table, so no section is called .resource_table (the kernel's find_table reads names from section 0's data and finds none)`));
  }
  if (h.phnum === 0) {
    diagnostics.push(diag("error", "no-loadable-segments", "elf.segments", "no program headers: rproc_elf_sanity_check refuses the image (\"No loadable segments\", EINVAL)"));
  }
  let resourceTable: InspectResourceTable | null = null;
  // find_table's truncation check reads only the section header, so it applies even when the table is not decoded.
  const found = findResourceTable(elf);
  // resourceTable false: the caller reports the table itself.
  if (opts.resourceTable === false) return { elf: elfReport(elf), resourceTable, diagnostics };
  if (!found) {
    diagnostics.push(diag("warning", "no-resource-table", "resourceTable", "no .resource_table section: the kernel's default ELF loader (rproc_elf_load_rsc_table) refuses the image with EINVAL; only drivers that make the table optional can boot it"));
  } else {
    const table = parseResourceTable(found.bytes, h.endianness);
    if (h.endianness !== "little") {
      diagnostics.push(diag("info", "resource-table-byte-order", "resourceTable", "the resource table was decoded in the ELF's big-endian byte order (resource tables are in the firmware's, i.e. host's, byte order)"));
    }
    resourceTable = {
      section: found.section.name,
      offset: found.section.offset,
      address: jsonU64(found.section.addr),
      size: table.size,
      version: table.version,
      entries: table.entries.map(entryJson),
    };
    diagnostics.push(...lintResourceTable(table, elf));
  }
  return { elf: elfReport(elf), resourceTable, diagnostics };
}
