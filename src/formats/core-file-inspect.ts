/**
 * The `coreFile` part of an `rproc inspect` report for an ET_CORE file
 * (docs/inspect-json.md): which of the kernel's two layouts it is, the
 * dumped device-memory ranges, and the notes, with an NT_PRSTATUS note
 * decoded into named registers and the signal gdb will report.
 *
 * JSON-ready: 64-bit register values above 2^53 are "0x…" strings, like every
 * other 64-bit number of the report.
 */
import { jsonU64, type JsonU64 } from "./bytes.js";
import { readCoreFile, type CoreFileSummary } from "./core-file-reader.js";
import type { CoreRegisters } from "./core-file-prstatus.js";
import { EM_AARCH64, EM_ARM } from "./elf-constants.js";
import { NT_PRSTATUS } from "./core-file.js";

export interface InspectPrstatus {
  /** pr_cursig: the signal gdb says the "program" terminated with. */
  signal: number;
  /** Its Linux name (SIGSEGV, SIGILL, ...) when it has one. */
  signalName?: string;
  pid: number;
  /** The registers gdb's `bt` starts from, by their usual names (ARM: r15/r13/r14; AArch64: pc/sp/x30). */
  pc: JsonU64;
  sp: JsonU64;
  lr: JsonU64;
  /** Every register of the layout, in its order (ARM r0–r15, cpsr, orig_r0; AArch64 x0–x30, sp, pc, pstate). */
  regs: Record<string, JsonU64>;
}

export interface InspectCoreNote {
  name: string;
  type: number;
  /** "NT_PRSTATUS" for type 1 in a "CORE" note, else "0x…". */
  typeName: string;
  descsz: number;
  /** The first NT_PRSTATUS note of a machine whose layout is known (ARM, AArch64). */
  prstatus?: InspectPrstatus;
}

export interface InspectCoreFile {
  /** "program-headers": rproc_coredump (one PT_LOAD per segment); "sections": rproc_coredump_using_sections. */
  variant: "program-headers" | "sections";
  segments: { da: number; size: number; offset: number; name?: string }[];
  notes: InspectCoreNote[];
}

/** Linux signal numbers (asm-generic) a crash dump may carry. */
const SIGNALS: Record<number, string> = { 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV" };

/** Register aliases gdb shows for the frame: pc, sp and the link register. */
const ALIASES: Record<number, { pc: string; sp: string; lr: string }> = {
  [EM_ARM]: { pc: "r15", sp: "r13", lr: "r14" },
  [EM_AARCH64]: { pc: "pc", sp: "sp", lr: "x30" },
};

function prstatusJson(machine: number, r: CoreRegisters): InspectPrstatus {
  const regs: Record<string, JsonU64> = {};
  for (const [name, v] of Object.entries(r.regs)) regs[name] = jsonU64(v);
  const a = ALIASES[machine]!;
  const signal = r.signal ?? 0;
  return {
    signal,
    ...(SIGNALS[signal] ? { signalName: SIGNALS[signal] } : {}),
    pid: r.pid ?? 0,
    pc: regs[a.pc] ?? 0,
    sp: regs[a.sp] ?? 0,
    lr: regs[a.lr] ?? 0,
    regs,
  };
}

/** Summarises a core file; throws RprocError (EINVAL/EOVERFLOW naming the field) when a table or note is malformed. */
export function inspectCoreFile(bytes: Uint8Array): InspectCoreFile {
  return coreFileJson(readCoreFile(bytes));
}

export function coreFileJson(c: CoreFileSummary): InspectCoreFile {
  let decoded = false;
  const notes = c.notes.map((n): InspectCoreNote => {
    const isPrstatus = n.type === NT_PRSTATUS && n.name === "CORE";
    const note: InspectCoreNote = { name: n.name, type: n.type, typeName: isPrstatus ? "NT_PRSTATUS" : "0x" + n.type.toString(16), descsz: n.descsz };
    // The reader decodes the first NT_PRSTATUS only (one thread: the remote core).
    if (isPrstatus && !decoded && c.registers) {
      note.prstatus = prstatusJson(c.machine, c.registers);
      decoded = true;
    }
    return note;
  });
  return {
    variant: c.variant,
    segments: c.segments.map((s) => ({ da: s.da, size: s.size, offset: s.offset, ...(s.name !== undefined ? { name: s.name } : {}) })),
    notes,
  };
}
