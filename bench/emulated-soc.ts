/**
 * The emulated SoC's costs, as ratios within one run (issue 16):
 *   node --import tsx bench/emulated-soc.ts [--json]
 *
 * 1. A Cortex-M4 loop with SysTick interrupting it at 1 kHz of platform time
 *    (100,000 instructions a tick) against the same loop without interrupts
 *    (target >= 0.5x).
 * 2. A loop polling a status register of a modelled device (a JS MMIO
 *    callback per read) against the tight loop (target >= 0.25x; not met:
 *    every modelled register read still calls into JavaScript).
 * 3. Wall time from boot to Zephyr's banner in the trace (zephyr-hello on
 *    stm32mp157), and to the TI R5F image's "Start idle task".
 */
import { performance } from "node:perf_hooks";
import { Platform } from "../src/platform/platform.js";
import { openRproc } from "../src/drivers/registry.js";
import { loadUnicorn, UcEngine } from "../src/drivers/emulated/unicorn.js";
import * as C from "../src/drivers/emulated/unicorn-constants.js";
import { MProfileModel } from "../src/drivers/emulated/mprofile-model.js";

const json = process.argv.includes("--json");
const SLICE = 100_000;
const RUN_MS = 600;

/** Thumb code: vectors at 0 (SP, reset, …, SysTick = handler), loop at 0x100, handler at 0x120 (bx lr), poll loop at 0x140. */
function image(): Uint8Array {
  const m = new Uint8Array(0x1000);
  const v = new DataView(m.buffer);
  v.setUint32(0, 0x20001000, true);
  v.setUint32(4, 0x101, true);
  v.setUint32(15 * 4, 0x121, true);
  // 0x100: adds r0, #1 ; b 0x100
  v.setUint16(0x100, 0x3001, true);
  v.setUint16(0x102, 0xe7fd, true);
  // 0x120: bx lr
  v.setUint16(0x120, 0x4770, true);
  // 0x140: ldr r1, [r2] ; adds r0, #1 ; b 0x140   (r2 = a modelled status register)
  v.setUint16(0x140, 0x6811, true);
  v.setUint16(0x142, 0x3001, true);
  v.setUint16(0x144, 0xe7fc, true);
  return m;
}

function run(entry: number, systick: boolean, pollAddr?: number): { mips: number; taken: number } {
  const lib = loadUnicorn();
  const e = UcEngine.open(lib, C.UC_ARCH_ARM, C.UC_MODE_THUMB | C.UC_MODE_MCLASS, C.UC_CPU_ARM_CORTEX_M4);
  const code = image();
  const ram = new Uint8Array(0x1000);
  e.mapPtr(0, code, C.UC_PROT_ALL);
  e.mapPtr(0x20000000, ram, C.UC_PROT_ALL);
  const mem = {
    read32: (a: number) => (a < 0x1000 ? new DataView(code.buffer).getUint32(a, true) : a >= 0x20000000 && a < 0x20001000 ? new DataView(ram.buffer).getUint32(a - 0x20000000, true) : undefined),
    write32: (a: number, val: number) => {
      if (a < 0x20000000 || a >= 0x20001000) return false;
      new DataView(ram.buffer).setUint32(a - 0x20000000, val, true);
      return true;
    },
  };
  const model = new MProfileModel(e, mem, "cortex-m4", []);
  const scs = model.exceptions.scs;
  e.mmioMap(scs.da, scs.size, (o, s) => scs.read(o, s), (o, s, val) => scs.write(o, s, val));
  e.hookIntr((n) => void model.onIntr(n));
  e.regWrite(C.UC_ARM_REG_SP, 0x20001000);
  if (pollAddr !== undefined) e.regWrite(C.armReg(2), pollAddr);
  if (systick) {
    scs.write(0x014, 4, 100_000 - 1); // RVR: 1 kHz at 100,000 instructions/ms
    scs.write(0x010, 4, 7); // ENABLE | TICKINT | CLKSOURCE
  }
  let pc = entry | 1;
  let insns = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < RUN_MS) {
    const plan = model.plan(pc, SLICE);
    e.emuStart(plan.resumeAt, plan.budget);
    insns += plan.budget;
    pc = (e.regRead32(C.UC_ARM_REG_PC) | 1) >>> 0;
    model.finish(plan.budget, pc & ~1);
  }
  const ms = performance.now() - t0;
  const taken = model.exceptions.taken;
  e.close();
  return { mips: insns / ms / 1000, taken };
}

async function untilTrace(platform: string, proc: string, dir: string, fw: string, re: RegExp): Promise<number> {
  const t0 = performance.now();
  const rproc = await openRproc(Platform.load(platform), proc, { driver: "emulated", firmware: fw, searchPath: [dir] });
  await rproc.boot();
  while (!re.test(rproc.traceText(0))) await new Promise((r) => setTimeout(r, 1));
  const ms = performance.now() - t0;
  await rproc.shutdown();
  return ms;
}

const tight = run(0x100, false);
const ticked = run(0x100, true);
const poll = run(0x140, false, 0xe000e010); // SysTick CSR: a modelled register, JS callback per read
const root = new URL("../fixtures/real-firmware/", import.meta.url).pathname;
const zephyrMs = await untilTrace("stm32mp157", "m4", root + "st/", "stm32mp157c-dk2_zephyr-hello.elf", /\*\*\* Booting Zephyr OS/);
const tiMs = await untilTrace("am64x", "r5f0_0", root + "ti/", "am64-main-r5f0_0-fw", /Start idle task/);
const result = {
  tightMips: tight.mips,
  systick1kHzMips: ticked.mips,
  systickRatio: ticked.mips / tight.mips,
  systickTaken: ticked.taken,
  pollMips: poll.mips,
  pollRatio: poll.mips / tight.mips,
  bootToZephyrBannerMs: zephyrMs,
  bootToTiIdleMs: tiMs,
};
if (json) console.log(JSON.stringify(result, null, 2));
else {
  console.log(`tight loop                    ${tight.mips.toFixed(0)} M instructions/s`);
  console.log(`with SysTick at 1 kHz         ${ticked.mips.toFixed(0)} M/s (${result.systickRatio.toFixed(2)}x, ${ticked.taken} exceptions; target >= 0.5x)`);
  console.log(`polling a modelled register   ${poll.mips.toFixed(1)} M/s (${result.pollRatio.toFixed(3)}x; target >= 0.25x)`);
  console.log(`boot -> Zephyr banner         ${zephyrMs.toFixed(0)} ms (zephyr-hello, stm32mp157)`);
  console.log(`boot -> TI "Start idle task"  ${tiMs.toFixed(0)} ms (am64-main-r5f0_0-fw, am64x)`);
}
process.exit(0);
