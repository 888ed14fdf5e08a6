/**
 * Shared by the emulated-driver tests: the fixture firmware, its symbols,
 * and a minimal "boot ROM" that copies PT_LOAD segments through the
 * processor's translations (what the ELF loader does through carveouts).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Platform } from "../../src/platform/platform.js";
import type { ProcessorDesc } from "../../src/platform/types.js";
import { findSymbol, parseElf, segmentData, PT_LOAD, type ElfFile } from "../../src/formats/elf.js";
import { unicornAvailable } from "../../src/drivers/emulated/unicorn.js";
import type { CliIO } from "../../src/cli/io.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const FIXTURES = fileURLToPath(new URL("../../fixtures/emulated/", import.meta.url));
export const M4_FW = FIXTURES + "fw-m4-stm32mp157.elf";
export const R5_FW = FIXTURES + "fw-r5-am64x.elf";
export const A53_FW = FIXTURES + "fw-a53-emu.elf";
export const A53_PLATFORM = FIXTURES + "emu-a53.json";

/** node:test skip reason when Unicorn is missing (CI installs libunicorn2 through scripts/setup.sh). */
export const needsUnicorn = unicornAvailable() ? false : "libunicorn2 is not installed";

export function loadElf(path: string): ElfFile {
  return parseElf(new Uint8Array(readFileSync(path)));
}

export function symbol(elf: ElfFile, name: string): { addr: number; size: number } {
  const s = findSymbol(elf, name);
  if (!s) throw new Error(`fixture has no symbol ${name}`);
  const v = Number(s.value);
  return { addr: v - (v % 2), size: s.size }; // Thumb symbols have bit 0 set
}

/** The bundled STM32MP157 (its watchdog model at WWDG1's address is what the fixture feeds), with a short watchdog timeout for fast tests. */
export function stm32Platform(timeoutMs = 10): Platform {
  const path = fileURLToPath(new URL("../../platforms/stm32mp157.json", import.meta.url));
  const json = JSON.parse(readFileSync(path, "utf8"));
  json.processors[0].watchdog.timeoutMs = timeoutMs;
  return Platform.parse(json, path);
}

/** The M4 of a stm32mp157 platform with another watchdog timeout (the address stays the bundled model's). */
export function stm32WithWatchdog(platform: Platform, timeoutMs = 10): ProcessorDesc {
  const p = platform.processor("m4");
  if (p.watchdog?.pa === undefined) throw new Error("the stm32mp157 platform has no watchdog model address");
  return { ...p, watchdog: { ...p.watchdog, timeoutMs } };
}

export function loadSegments(platform: Platform, proc: ProcessorDesc, elf: ElfFile): void {
  for (const ph of elf.programHeaders) {
    if (ph.type !== PT_LOAD || ph.memsz === 0) continue;
    const pa = platform.daToPa(proc, Number(ph.paddr), ph.memsz);
    if (pa === undefined) throw new Error(`segment at ${Number(ph.paddr).toString(16)} outside the translations`);
    platform.memory.fill(pa, ph.memsz, 0);
    platform.memory.write(pa, segmentData(elf, ph));
  }
}

export function readTrace(platform: Platform, proc: ProcessorDesc, da: number, len = 2048): string {
  const b = platform.memory.read(platform.daToPa(proc, da, len)!, len);
  const z = b.indexOf(0);
  return new TextDecoder().decode(b.subarray(0, z < 0 ? len : z));
}

export function writeU32(platform: Platform, proc: ProcessorDesc, da: number, v: number): void {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  platform.memory.write(platform.daToPa(proc, da, 4)!, b);
}

export function within(pc: number, sym: { addr: number; size: number }): boolean {
  return pc >= sym.addr && pc < sym.addr + sym.size;
}

/** The 1-based line of fw.c holding `marker` (the fixture marks its faulting statements with FAULT-LINE comments). */
export function fwLine(marker: string): number {
  const lines = readFileSync(FIXTURES + "fw.c", "utf8").split("\n");
  const hits = lines.flatMap((l, i) => (l.includes(marker) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`fw.c has ${hits.length} lines with ${JSON.stringify(marker)}`);
  return hits[0]!;
}

/** Runs a CLI entry point (main or a command's run) in-process from the repository root, capturing what it prints. */
export async function runCli(entry: (argv: string[], io: CliIO) => Promise<number>, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), isTTY: false, cwd: ROOT, env: {} };
  const code = await entry(args, io);
  return { code, out, err };
}
