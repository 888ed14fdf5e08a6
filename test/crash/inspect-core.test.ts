// `rproc inspect` of coredumps: the `coreFile` summary (variant, segments,
// notes, NT_PRSTATUS registers) on dumps made by the crash path — the sim
// driver's M4 crash, and the crash tests' board with registers attached the
// way the emulated driver attaches them — plus both variants and 64-bit
// registers from the format layer, a malformed note, and the CLI output.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect, isRejection, type InspectReport } from "../../src/inspect.js";
import { runCommand } from "../../src/cli/command.js";
import { command as inspectCommand } from "../../src/cli/commands/inspect.js";
import type { CliIO } from "../../src/cli/io.js";
import { Platform } from "../../src/platform/platform.js";
import { Rproc } from "../../src/core/rproc.js";
import { createSimDriver } from "../../src/drivers/sim/driver.js";
import { rprocCrashFlush } from "../../src/core/crash.js";
import { rprocCoredumpSetRegisters } from "../../src/core/coredump.js";
import { dumpBytes } from "../../src/core/coredump-store.js";
import { RprocCrashType, RprocDumpMechanism } from "../../src/core/state.js";
import { buildCoreFile, buildCoreHeader, buildSectionCoreHeader, type CoreSegment } from "../../src/formats/core-file.js";
import { createRproc, loadDriver } from "../../src/drivers/registry.js";
import { RprocState } from "../../src/core/state.js";
import { spawnSync } from "node:child_process";
import "../../src/drivers/emulated/index.js";
import { FIXTURES as EMU_FIXTURES, M4_FW as EMU_M4_FW, loadElf, needsUnicorn, stm32Platform, symbol } from "../emulated/helpers.js";
import { makeBoard, RETRAM_DA, SRAM_DA } from "./helpers.js";

// The composition root imports this driver on first use (src/drivers/registry.ts).
await loadDriver("emulated");

const FIXTURES = fileURLToPath(new URL("../../fixtures/firmware/", import.meta.url));
const T = { timeout: 30_000 };

function report(bytes: Uint8Array): InspectReport {
  const r = inspect(bytes, { file: "core" });
  assert.ok(!isRejection(r), JSON.stringify(r));
  return r;
}

async function simM4Dump(): Promise<Uint8Array> {
  const platform = Platform.load("stm32mp157");
  const proc = platform.processor("m4");
  const driver = createSimDriver();
  const rproc = new Rproc({ name: "m4", platform, processor: { ...proc, driver: "sim", initiallyRunning: false }, ops: driver, firmware: "stm32mp15-m4.elf", searchPath: [FIXTURES] });
  rproc.dumpConf = RprocDumpMechanism.ENABLED;
  await rproc.boot();
  driver.sim.crash(RprocCrashType.WATCHDOG);
  await rprocCrashFlush(rproc);
  const bytes = dumpBytes(rproc.lastDump!);
  await rproc.shutdown();
  return bytes;
}

test("inspect a dump from the sim M4 crash path: program-header variant, its segments, no notes", T, async () => {
  const bytes = await simM4Dump();
  const r = report(bytes);
  assert.equal(r.elf.type, "CORE");
  const c = r.coreFile!;
  assert.equal(c.variant, "program-headers");
  const loads = r.elf.segments.filter((s) => s.type === "LOAD");
  assert.ok(loads.length >= 2);
  assert.deepEqual(c.segments.map((s) => [s.da, s.size, s.offset]), loads.map((s) => [s.vaddr, s.filesz, s.offset]));
  assert.deepEqual(c.notes, []);
  assert.ok(!r.diagnostics.some((d) => d.code === "no-resource-table"), "a dump is not firmware: no resource-table warning");
});

test("inspect a crash-path dump with registers: NT_PRSTATUS decoded (pc, sp, lr, signal)", T, async () => {
  const b = makeBoard();
  b.rproc.dumpConf = RprocDumpMechanism.ENABLED;
  await b.rproc.boot();
  // As the emulated driver does when the core faults: registers for the next dump.
  rprocCoredumpSetRegisters(b.rproc, { regs: { r0: 7, r13: 0x10003ff0, r14: 0x10000123, r15: 0x10000456, cpsr: 0x61000000 }, signal: 11, pid: 1 });
  b.rproc.reportCrash(RprocCrashType.MMUFAULT);
  await rprocCrashFlush(b.rproc);
  const r = report(dumpBytes(b.rproc.lastDump!));
  const c = r.coreFile!;
  assert.deepEqual(c.segments.map((s) => [s.da, s.size]), [[RETRAM_DA, 0x100], [SRAM_DA, 0x1000]]);
  assert.equal(c.notes.length, 1);
  const n = c.notes[0]!;
  assert.deepEqual([n.name, n.type, n.typeName, n.descsz], ["CORE", 1, "NT_PRSTATUS", 148]);
  const p = n.prstatus!;
  assert.deepEqual([p.signal, p.signalName, p.pid, p.pc, p.sp, p.lr], [11, "SIGSEGV", 1, 0x10000456, 0x10003ff0, 0x10000123]);
  assert.equal(Object.keys(p.regs).length, 18);
  assert.equal(p.regs.r0, 7);
  assert.equal(p.regs.cpsr, 0x61000000);
  assert.equal(p.regs.orig_r0, 0);
  await b.rproc.shutdown();
});

const hasGdb = spawnSync("gdb-multiarch", ["--version"]).status === 0;

test("inspect an emulated M4's fault dump: the registers are the ones gdb-multiarch reads", { ...T, skip: needsUnicorn || (hasGdb ? false : "gdb-multiarch is not installed") }, async () => {
  const rproc = createRproc(stm32Platform(), "m4", { driver: "emulated", firmware: EMU_M4_FW.slice(EMU_FIXTURES.length), searchPath: [EMU_FIXTURES], driverOptions: { sliceInsns: 100_000 } });
  rproc.dumpConf = RprocDumpMechanism.ENABLED;
  await rproc.boot();
  const wait = async (pred: () => boolean) => {
    for (let i = 0; i < 2000 && !pred(); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(pred());
  };
  await wait(() => /vdev status/.test(rproc.traceText(0)));
  rproc.daToVa(symbol(loadElf(EMU_M4_FW), "fw_cmd").addr, 4)!.setU32(0, 1); // fw.c command 1: an MMU fault
  await wait(() => rproc.crashCnt === 1 && rproc.state === RprocState.RUNNING);
  const bytes = dumpBytes(rproc.dumps[0]!);
  await rproc.shutdown();
  const p = report(bytes).coreFile!.notes[0]!.prstatus!;
  assert.equal(p.signalName, "SIGSEGV");
  const core = join(mkdtempSync(join(tmpdir(), "rproc-inspect-emu-")), "core");
  writeFileSync(core, bytes);
  const g = spawnSync("gdb-multiarch", ["-nx", "-batch", "-ex", "info registers pc sp lr", EMU_M4_FW, core], { encoding: "utf8", timeout: 30_000 });
  const reg = (name: string) => Number(new RegExp(`^${name}\\s+(0x[0-9a-f]+)`, "m").exec(g.stdout)?.[1]);
  assert.deepEqual([p.pc, p.sp, p.lr], [reg("pc"), reg("sp"), reg("lr")], g.stdout + g.stderr);
});

test("AArch64 registers above 2^53 are 0x strings; the section variant names its segments", T, () => {
  const mem = new Uint8Array(0x40).fill(0xaa);
  const segs: CoreSegment[] = [{ da: 0x80000000, size: 0x40 }];
  const pc = 0xffff000012345678n;
  const a64 = buildCoreFile(buildCoreHeader({ class: 64, machine: 183, entry: 0x80000000, segments: segs, registers: { regs: { pc, sp: 0x80001000, x30: 0x80000010 }, signal: 4 } }), segs, (_i, o, n) => mem.slice(o, o + n));
  const p = report(a64).coreFile!.notes[0]!.prstatus!;
  assert.deepEqual([p.pc, p.sp, p.lr, p.signalName], ["0xffff000012345678", 0x80001000, 0x80000010, "SIGILL"]);
  assert.equal(Object.keys(p.regs).length, 34);
  assert.equal(JSON.parse(JSON.stringify(p)).pc, "0xffff000012345678");

  const named: CoreSegment[] = [{ da: 0x10000000, size: 0x20, name: "mcuram2" }, { da: 0x38000000, size: 0x10, name: "retram" }];
  const sec = buildCoreFile(buildSectionCoreHeader({ class: 32, machine: 40, entry: 0, segments: named }), named, (_i, _o, n) => new Uint8Array(n));
  const c = report(sec).coreFile!;
  assert.equal(c.variant, "sections");
  assert.deepEqual(c.segments.map((s) => [s.name, s.da, s.size]), [["mcuram2", 0x10000000, 0x20], ["retram", 0x38000000, 0x10]]);
});

test("a note running past its segment: error diagnostic naming the field, the ELF part still reported", T, () => {
  const segs: CoreSegment[] = [{ da: 0, size: 0x10 }];
  const bytes = buildCoreFile(buildCoreHeader({ class: 32, machine: 40, entry: 0, segments: segs, registers: { regs: {} } }), segs, (_i, _o, n) => new Uint8Array(n));
  const at = Buffer.from(bytes).indexOf("CORE\0") - 12; // the note header: namesz, descsz, type
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(at + 4, 0x7fffff00, true);
  const r = report(bytes);
  assert.equal(r.coreFile, undefined);
  const d = r.diagnostics.find((x) => x.code === "core-file-malformed")!;
  assert.equal(d.severity, "error");
  assert.equal(d.path, "coreFile.programHeaders[0].note.descsz");
  assert.match(d.message, /^EINVAL: .*runs past the segment end/);
  assert.equal(r.elf.segments.length, 2);
});

test("rproc inspect CORE: human output shows the core summary and registers; --json is inspect()", T, async () => {
  const b = makeBoard();
  b.rproc.dumpConf = RprocDumpMechanism.ENABLED;
  await b.rproc.boot();
  rprocCoredumpSetRegisters(b.rproc, { regs: { r13: 0x10003ff0, r14: 0x10000123, r15: 0x10000456 }, signal: 11 });
  b.rproc.reportCrash(RprocCrashType.MMUFAULT);
  await rprocCrashFlush(b.rproc);
  const dir = mkdtempSync(join(tmpdir(), "rproc-inspect-core-"));
  const file = join(dir, "core.elf");
  const bytes = dumpBytes(b.rproc.lastDump!);
  writeFileSync(file, bytes);
  await b.rproc.shutdown();
  const cli = async (args: string[]) => {
    let out = "";
    let err = "";
    const io: CliIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), isTTY: false, cwd: dir, env: {} };
    return { code: await runCommand(inspectCommand, args, io), out, err };
  };
  const h = await cli(["core.elf"]);
  assert.equal(h.code, 0, h.err);
  assert.match(h.out, /^Core file: program-header variant \(rproc_coredump\), 2 segment\(s\)$/m);
  assert.match(h.out, /^ {2}0x10000000 0x1000 +0x[0-9a-f]{6}$/m);
  assert.match(h.out, /^ {2}note CORE NT_PRSTATUS \(148 bytes\)$/m);
  assert.match(h.out, /signal 11 \(SIGSEGV\), pid 1, pc 0x10000456 sp 0x10003ff0 lr 0x10000123/);
  assert.match(h.out, /^ {4} {5}r0 0x00000000/m);
  const j = await cli(["core.elf", "--json"]);
  assert.equal(j.code, 0, j.err);
  assert.deepEqual(JSON.parse(j.out), JSON.parse(JSON.stringify(inspect(bytes, { file: "core.elf" }))));
});
