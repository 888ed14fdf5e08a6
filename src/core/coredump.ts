/**
 * remoteproc_coredump.c: dump segment registration, ELF info, and the two
 * dump builders (program headers = the default ops->coredump, sections =
 * rproc_coredump_using_sections for drivers that opt in). Spec §6.
 *
 * Modes (rproc->dump_conf): disabled = nothing; enabled = the whole file is
 * copied now and recovery goes on; inline = only headers are built, segment
 * bytes are read from device memory while the user reads, and recovery waits
 * until the reader is done (or devcoredump's timeout frees it).
 */
import { RprocError, hex } from "../errors.js";
import {
  buildCoreFile,
  buildCoreHeader,
  buildSectionCoreHeader,
  readCoreStream,
  type CoreHeader,
  type CoreLayout,
  type CoreSegment,
} from "../formats/core-file.js";
import type { CoreRegisters } from "../formats/core-file-prstatus.js";
import { coredumpSettings, InlineDumpReader, storeDump, type DumpVariant, type RprocDump } from "./coredump-store.js";
import type { DumpSegment, Rproc } from "./rproc.js";
import { RprocDumpMechanism } from "./state.js";

const ELFCLASSNONE = 0;

/** rproc_coredump_add_segment: append a device-memory range to the dump; returns the entry (a driver may drop it again). */
export function rprocCoredumpAddSegment(rproc: Rproc, da: number, size: number): DumpSegment {
  checkSegmentRange(da, size);
  const seg: DumpSegment = { da, size };
  rproc.dumpSegments.push(seg);
  rproc.account("acquire", "dump_segment", da);
  return seg;
}

/** rproc_coredump_add_custom_segment: same, with the driver's own copy function and private data (the section variant's name). */
export function rprocCoredumpAddCustomSegment(
  rproc: Rproc,
  da: number,
  size: number,
  dump: DumpSegment["dump"],
  priv?: unknown,
): void {
  checkSegmentRange(da, size);
  rproc.dumpSegments.push({ da, size, dump, priv });
  rproc.account("acquire", "dump_segment", da);
}

function checkSegmentRange(da: number, size: number): void {
  if (!Number.isSafeInteger(da) || da < 0 || !Number.isSafeInteger(size) || size < 0 || da + size > Number.MAX_SAFE_INTEGER) {
    throw new RprocError("EINVAL", `dump segment da ${String(da)} size ${String(size)} is not a valid range`, { field: "da", value: String(da) });
  }
}

/** rproc_coredump_set_elf_info: the only place the dump's class and machine are set (the ELF loader never does). */
export function rprocCoredumpSetElfInfo(rproc: Rproc, cls: number, machine: number): void {
  if (cls !== 32 && cls !== 64) {
    throw new RprocError("EINVAL", `coredump ELF class ${cls} is neither 32 nor 64`, { field: "elfClass", value: cls });
  }
  if (!Number.isInteger(machine) || machine < 0 || machine > 0xffff) {
    throw new RprocError("EINVAL", `coredump e_machine ${machine} does not fit 16 bits`, { field: "elfMachine", value: machine });
  }
  rproc.elfClass = cls;
  rproc.elfMachine = machine;
}

/** rproc_coredump_cleanup, the last part of rproc_resource_cleanup: every release accounted. */
export function rprocCoredumpCleanup(rproc: Rproc): void {
  for (const s of rproc.dumpSegments.splice(0)) rproc.account("release", "dump_segment", s.da);
}

/**
 * Registers the driver can attach to the next dump (an emulated core knows
 * its registers at the crash; the kernel writes no notes). Consumed by the
 * next dump.
 */
const pendingRegisters = new WeakMap<Rproc, CoreRegisters>();
export function rprocCoredumpSetRegisters(rproc: Rproc, regs: CoreRegisters | undefined): void {
  if (regs) pendingRegisters.set(rproc, regs);
  else pendingRegisters.delete(rproc);
}

/**
 * rproc_copy_segment: the driver's dump callback if set; else device memory
 * through rproc_da_to_va; where that fails (no mapping, or memory the host
 * may not read) the bytes are 0xff, as the kernel's memset.
 */
function copySegment(rproc: Rproc, seg: DumpSegment, offset: number, size: number): Uint8Array {
  if (seg.dump) return seg.dump(rproc, seg, offset, size);
  const da = seg.da + offset;
  let bytes: Uint8Array | undefined;
  let why = "no mapping";
  try {
    bytes = rproc.daToVa(da, size)?.read(0, size);
  } catch (e) {
    why = e instanceof RprocError ? `${e.code}: ${e.message}` : String(e);
  }
  if (bytes) return bytes;
  rproc.emit("rproc_copy_segment", "info", { da, offset, size, code: "coredump-invalid-copy" }, undefined);
  rproc.emit("rproc_coredump", "info", {
    message: `invalid copy request for segment ${hex(seg.da)} with offset ${offset} and size ${size} (${why})`,
  });
  return new Uint8Array(size).fill(0xff);
}

/** A dev_err the kernel repeats at every crash, kept once as a diagnostic (bounded across recoveries). */
function warnOnce(rproc: Rproc, code: string, message: string): void {
  if (!rproc.diagnostics.some((d) => d.code === code)) rproc.warn(code, "coredump", message);
}

type Preconditions = { ok: true; cls: 32 | 64 } | { ok: false };

/** The kernel's early returns, each said as an event so "empty dump" is never silent here (user problem #9). */
function preconditions(rproc: Rproc, step: string): Preconditions {
  if (rproc.dumpConf === RprocDumpMechanism.DISABLED) {
    rproc.emit(step, "info", { skipped: "disabled", message: "coredump disabled: no dump" });
    return { ok: false };
  }
  if (rproc.dumpSegments.length === 0) {
    warnOnce(rproc, "coredump-no-segments", "the driver registered no dump segments: a crash leaves no dump (rproc_coredump returns silently)");
    rproc.emit(step, "info", {
      skipped: "no-segments",
      code: "coredump-no-segments",
      message: "no dump segments registered by the driver: no dump (the kernel returns silently)",
    });
    return { ok: false };
  }
  if (rproc.elfClass === ELFCLASSNONE) {
    warnOnce(rproc, "coredump-elf-class-not-set", "Elf class is not set: the driver never called rproc_coredump_set_elf_info (imx_rproc does not), so no dump is written");
    rproc.emit(step, "fail", { skipped: "no-elf-class", code: "coredump-elf-class-not-set" }, new RprocError("EINVAL", "Elf class is not set", { step }));
    return { ok: false };
  }
  return { ok: true, cls: rproc.elfClass };
}

async function produce(rproc: Rproc, step: string, variant: DumpVariant, build: (layout: CoreLayout) => CoreHeader): Promise<RprocDump | undefined> {
  const pre = preconditions(rproc, step);
  if (!pre.ok) return undefined;
  const segments = [...rproc.dumpSegments];
  const inline = rproc.dumpConf === RprocDumpMechanism.INLINE;
  rproc.emit(step, "begin", { mode: inline ? "inline" : "enabled", variant, segments: segments.length });
  let coreSegs: CoreSegment[];
  let hdr: CoreHeader;
  try {
    coreSegs = segments.map((s) => ({ da: s.da, size: s.size, name: variant === "sections" ? sectionName(s) : undefined }));
    const registers = variant === "program-headers" ? pendingRegisters.get(rproc) : undefined;
    pendingRegisters.delete(rproc);
    hdr = build({ class: pre.cls, machine: rproc.elfMachine, entry: rproc.bootaddr, segments: coreSegs, registers });
  } catch (e) {
    // The kernel's dump is void: a dump it cannot build is logged and skipped; recovery goes on.
    rproc.emit(step, "fail", undefined, e instanceof RprocError ? e : new RprocError("EINVAL", String(e), { step, cause: e }));
    return undefined;
  }
  const read = (i: number, off: number, n: number) => copySegment(rproc, segments[i]!, off, n);
  const summary = coreSegs.map((s) => ({ da: s.da, size: s.size, ...(s.name !== undefined ? { name: s.name } : {}) }));
  if (!inline) {
    let bytes: Uint8Array;
    try {
      bytes = buildCoreFile(hdr, coreSegs, read);
    } catch (e) {
      // buildCoreFile's own refusal is an RprocError (ENOMEM for a dump too large to build); anything
      // else was thrown by a driver's dump callback while copying: an I/O failure of that segment.
      rproc.emit(step, "fail", undefined, e instanceof RprocError ? e : new RprocError("EIO", `segment copy failed: ${String(e)}`, { step, cause: e }));
      return undefined;
    }
    const dump = storeDump(rproc, { rproc: rproc.name, crashCnt: rproc.crashCnt, mode: "enabled", variant, size: bytes.length, segments: summary, bytes });
    rproc.emit(step, "end", { dump: dump.id, size: dump.size, mode: "enabled" });
    return dump;
  }
  const settings = coredumpSettings(rproc);
  const reader = new InlineDumpReader(hdr.totalSize, (off, n) => readCoreStream(hdr, coreSegs, read, off, n), settings.inlineTimeoutMs, settings.inlineTimeoutKeepsAlive);
  const dump = storeDump(rproc, { rproc: rproc.name, crashCnt: rproc.crashCnt, mode: "inline", variant, size: hdr.totalSize, segments: summary, reader });
  rproc.emit(step, "info", { dump: dump.id, size: dump.size, message: "inline dump ready; recovery waits until it is read" });
  const how = await reader.done;
  rproc.emit(step, "end", { dump: dump.id, size: dump.size, mode: "inline", freedBy: how, bytesRead: reader.bytesRead });
  return dump;
}

function sectionName(seg: DumpSegment): string {
  if (typeof seg.priv !== "string") {
    throw new RprocError("EINVAL", `dump segment ${hex(seg.da)} has no name (priv must be a string for the section variant)`, {
      field: "dumpSegments.priv",
    });
  }
  return seg.priv;
}

/** rproc_coredump: the default ops->coredump (program-header variant). */
export async function rprocCoredump(rproc: Rproc): Promise<void> {
  await produce(rproc, "rproc_coredump", "program-headers", buildCoreHeader);
}

/** rproc_coredump_using_sections: the section variant, for drivers that set it as ops->coredump. */
export async function rprocCoredumpUsingSections(rproc: Rproc): Promise<void> {
  await produce(rproc, "rproc_coredump_using_sections", "sections", buildSectionCoreHeader);
}

