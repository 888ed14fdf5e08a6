/**
 * Emulated-core throughput and the cost of host/firmware memory coherence.
 *
 *   node --import tsx bench/emulator.ts [--json]
 *
 * 1. tight loop (adds + branch) on a Cortex-M4, by slice size: raw
 *    uc_emu_start, and through the SliceScheduler (setImmediate per turn);
 * 2. memory-heavy loop: store + load over 256 KiB of platform SRAM mapped
 *    zero-copy, page by page, from SparseMemory;
 * 3. coherence: first-touch cost per page (unmapped hook + uc_mem_map_ptr),
 *    and zero-copy sharing against copying the SRAM in and out per slice;
 * 4. the fixture firmware's own main loop (polling the mailbox, feeding the
 *    watchdog) on the stm32mp157 platform, in fixed 1 M-instruction slices and
 *    in the driver's default adaptive slices (host time per slice is how long
 *    the event loop is held).
 */
import { readFileSync } from "node:fs";
import { Platform } from "../src/platform/platform.js";
import { loadUnicorn, UcEngine, type UnicornLib } from "../src/drivers/emulated/unicorn.js";
import * as C from "../src/drivers/emulated/unicorn-constants.js";
import { EmulatedMachine } from "../src/drivers/emulated/machine.js";
import { SliceScheduler } from "../src/drivers/emulated/scheduler.js";
import { SliceBudget } from "../src/drivers/emulated/slice-budget.js";
import { DEFAULT_SLICE_INSNS, DEFAULT_SLICE_MS } from "../src/drivers/emulated/driver.js";
import { parseElf, segmentData, PT_LOAD } from "../src/formats/elf.js";

const PAGE = 4096;
const CODE = 0x1000;
const SRAM = 0x10000000;

function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function m4(uc: UnicornLib): UcEngine {
  return UcEngine.open(uc, C.UC_ARCH_ARM, C.UC_MODE_THUMB | C.UC_MODE_MCLASS, C.UC_CPU_ARM_CORTEX_M4);
}

function codePage(halfwords: number[]): Uint8Array {
  const p = new Uint8Array(PAGE);
  halfwords.forEach((h, i) => {
    p[2 * i] = h & 0xff;
    p[2 * i + 1] = h >> 8;
  });
  return p;
}

// adds r0, #1 ; b .-2
const TIGHT = [0x3001, 0xe7fd];
// 0: mov r1, r3 ; 2: str r0, [r1] ; 4: ldr r2, [r1] ; 6: adds r1, #4 ; 8: cmp r1, r4 ; a: bne 2 ; c: b 0
const MEMORY = [0x4619, 0x6008, 0x680a, 0x3104, 0x42a1, 0xd1fa, 0xe7f8];

function runSlices(e: UcEngine, total: number, slice: number): number {
  let pc = CODE | 1;
  const t0 = now();
  for (let done = 0; done < total; done += slice) {
    const err = e.emuStart(pc, slice);
    if (err !== C.UC_ERR_OK) throw new Error(`uc_emu_start: ${e.strerror(err)}`);
    pc = e.regRead32(C.UC_ARM_REG_PC) | 1;
  }
  return total / (now() - t0) / 1000; // M instructions / s
}

function tight(uc: UnicornLib, slice: number, total: number): number {
  const e = m4(uc);
  e.mapPtr(CODE, codePage(TIGHT), C.UC_PROT_ALL);
  runSlices(e, Math.min(total, 2 * slice), slice); // translate once
  e.regWrite(C.armReg(0), 0);
  const mips = runSlices(e, total, slice);
  // The figure counts what Unicorn was asked to run; r0 counts loop iterations (2 instructions each), so check it ran them all.
  const ran = 2 * e.regRead32(C.armReg(0));
  if (ran !== total) throw new Error(`tight loop: asked for ${total} instructions, r0 says ${ran} ran`);
  e.close();
  return mips;
}

async function scheduled(uc: UnicornLib, slice: number, total: number): Promise<number> {
  const e = m4(uc);
  e.mapPtr(CODE, codePage(TIGHT), C.UC_PROT_ALL);
  const sched = new SliceScheduler();
  let pc = CODE | 1;
  let done = 0;
  const t0 = now();
  await new Promise<void>((resolve) => {
    sched.add({
      runSlice: () => {
        e.emuStart(pc, slice);
        pc = e.regRead32(C.UC_ARM_REG_PC) | 1;
        done += slice;
        if (done >= total) resolve();
        return done < total;
      },
    });
  });
  const mips = total / (now() - t0) / 1000;
  e.close();
  return mips;
}

/** The memory loop over `bytes` of SRAM backed by platform pages; returns MIPS and first-touch cost. */
function memoryHeavy(
  uc: UnicornLib,
  bytes: number,
  total: number,
  copyPerSlice: boolean,
): { mips: number; firstTouchUsPerPage: number; copyUsPerSlice: number } {
  const platform = Platform.load("stm32mp157");
  const e = m4(uc);
  e.mapPtr(CODE, codePage(MEMORY), C.UC_PROT_ALL);
  let mapped = 0;
  let mapMs = 0;
  e.hookMemInvalid(C.UC_HOOK_MEM_UNMAPPED, (_t, addr) => {
    const t = now();
    const page = addr - (addr % PAGE);
    if (page < SRAM || page >= SRAM + bytes) return false;
    e.mapPtr(page, platform.memory.page(page, true)!, C.UC_PROT_ALL);
    mapped++;
    mapMs += now() - t;
    return true;
  });
  e.regWrite(C.armReg(3), SRAM);
  e.regWrite(C.armReg(4), SRAM + bytes);
  const slice = 1_000_000;
  let pc = CODE | 1;
  const shadow = new Uint8Array(bytes);
  let copyMs = 0;
  let slices = 0;
  const t0 = now();
  for (let done = 0; done < total; done += slice) {
    const c0 = now();
    if (copyPerSlice) platform.memory.write(SRAM, shadow); // host → core copy, the alternative to sharing pages
    copyMs += now() - c0;
    const err = e.emuStart(pc, slice);
    if (err !== C.UC_ERR_OK) throw new Error(`uc_emu_start: ${e.strerror(err)}`);
    pc = e.regRead32(C.UC_ARM_REG_PC) | 1;
    const c1 = now();
    if (copyPerSlice) shadow.set(platform.memory.read(SRAM, bytes)); // core → host copy
    copyMs += now() - c1;
    slices++;
  }
  const mips = total / (now() - t0) / 1000;
  e.close();
  return { mips, firstTouchUsPerPage: mapped ? (mapMs * 1000) / mapped : 0, copyUsPerSlice: (copyMs * 1000) / slices };
}

function fixtureLoop(uc: UnicornLib, total: number, budget?: SliceBudget): { mips: number; sliceMs: number } {
  const fw = new URL("../fixtures/emulated/fw-m4-stm32mp157.elf", import.meta.url);
  const elf = parseElf(new Uint8Array(readFileSync(fw)));
  const platform = Platform.load("stm32mp157");
  const p = platform.processor("m4");
  const proc = { ...p, watchdog: { ...p.watchdog!, timeoutMs: 1000 } }; // the bundled watchdog model the fixture feeds, with a long timeout
  for (const ph of elf.programHeaders) {
    if (ph.type !== PT_LOAD || ph.memsz === 0) continue;
    platform.memory.write(platform.daToPa(proc, Number(ph.paddr), ph.memsz)!, segmentData(elf, ph));
  }
  const m = new EmulatedMachine(uc, {
    platform,
    processor: proc,
    bootaddr: Number(elf.header.entry),
    insnsPerMs: 100_000,
    onFirmwareKick: () => {},
    onUnmodelled: () => {},
  });
  m.runSlice(1_000_000);
  let slices = 0;
  const t0 = now();
  for (let done = 0; done < total; slices++) {
    const n = budget?.insns ?? 1_000_000;
    const s0 = now();
    if (m.runSlice(n)) throw new Error("fixture crashed");
    budget?.update(n, now() - s0);
    done += n;
  }
  const ms = now() - t0;
  m.close();
  return { mips: total / ms / 1000, sliceMs: ms / slices };
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const uc = loadUnicorn();
  const total = 200_000_000;
  const results: Record<string, number> = {};
  for (const slice of [100_000, 1_000_000, 10_000_000]) results[`tight_raw_slice_${slice}`] = tight(uc, slice, total);
  for (const slice of [100_000, 1_000_000]) results[`tight_scheduled_slice_${slice}`] = await scheduled(uc, slice, total / 2);
  const shared = memoryHeavy(uc, 256 * 1024, 100_000_000, false);
  const copied = memoryHeavy(uc, 256 * 1024, 20_000_000, true);
  results.memory_shared_mips = shared.mips;
  results.memory_copy_per_slice_mips = copied.mips;
  results.first_touch_us_per_page = shared.firstTouchUsPerPage;
  results.copy_256k_both_ways_us_per_slice = copied.copyUsPerSlice;
  const fixed = fixtureLoop(uc, 50_000_000);
  results.fixture_main_loop_mips = fixed.mips;
  results.fixture_fixed_1m_slice_ms = fixed.sliceMs;
  // The driver's default: the budget follows the core's speed to aim at DEFAULT_SLICE_MS per slice.
  const adaptive = fixtureLoop(uc, 50_000_000, new SliceBudget(DEFAULT_SLICE_INSNS, DEFAULT_SLICE_MS));
  results.fixture_adaptive_slices_mips = adaptive.mips;
  results.fixture_adaptive_slice_ms = adaptive.sliceMs;
  if (json) {
    process.stdout.write(JSON.stringify({ unicorn: uc.version, node: process.version, results }, null, 2) + "\n");
    return;
  }
  const f = (v: number) => v.toFixed(1).padStart(8);
  console.log(`Unicorn ${uc.version}, Node ${process.version}; Cortex-M4; *_mips in M instructions/s`);
  for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(34)} ${f(v)}`);
  const sliceUs = 1e6 / shared.mips; // one 1 M-instruction slice of the memory loop, in µs
  console.log(`copying instead of sharing would add ${f(copied.copyUsPerSlice)} µs to each ${f(sliceUs)} µs slice (${((100 * copied.copyUsPerSlice) / sliceUs).toFixed(1)}%), and hide firmware writes until the slice ends`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
