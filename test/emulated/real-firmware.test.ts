// Unmodified vendor firmware (fixtures/real-firmware, SOURCES.md) on the emulated SoC:
// Zephyr on the STM32MP157 M4 boots through its clock/semaphore/UART set-up, prints its
// banner into the trace, and idles in WFI with SysTick running; a firmware that faults at
// once is reported as a crash loop (exit 1), its segment list printed once.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Platform } from "../../src/platform/platform.js";
import { openRproc } from "../../src/drivers/registry.js";
import type { Rproc } from "../../src/core/rproc.js";
import { RprocState } from "../../src/core/state.js";
import { main } from "../../src/cli/main.js";
import { emulatedMachine } from "../../src/drivers/emulated/index.js";
import type { MProfileModel } from "../../src/drivers/emulated/mprofile-model.js";
import { EXC } from "../../src/drivers/emulated/armv7m-scs.js";
import { ROOT, needsUnicorn, runCli } from "./helpers.js";

const ST = ROOT + "fixtures/real-firmware/st/";

async function bootReal(platform: string, processor: string, dir: string, fw: string): Promise<Rproc> {
  const rproc = await openRproc(Platform.load(platform), processor, { driver: "emulated", firmware: fw, searchPath: [dir] });
  await rproc.boot();
  return rproc;
}

async function until(what: string, pred: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function mModel(rproc: Rproc): MProfileModel {
  const m = emulatedMachine(rproc);
  assert.ok(m, "the core runs");
  return m.model as MProfileModel;
}

test("stm32mp157c-dk2_zephyr-hello.elf on stm32mp157: Zephyr's banner in the trace, then the idle loop (WFI) with SysTick interrupts, no crash", { skip: needsUnicorn }, async () => {
  const rproc = await bootReal("stm32mp157", "m4", ST, "stm32mp157c-dk2_zephyr-hello.elf");
  try {
    for (const re of [/\*\*\* Booting Zephyr OS build v3\.6\.0 \*\*\*\n/, /Hello World! stm32mp157c_dk2\n/]) await until(`${re} in the trace`, () => re.test(rproc.traceText(0)));
    const x = mModel(rproc).exceptions;
    // The kernel's timer: SysTick enabled with its interrupt, taken repeatedly; the idle thread waits in WFI between ticks.
    assert.ok(x.scs.systick.enabled, "SysTick runs");
    const taken = x.taken;
    await until("more SysTick exceptions", () => x.taken > taken + 3);
    await until("the idle thread's WFI", () => x.waiting);
    // Zephyr's own set-up, read back through the modelled SCS: PendSV lowest, SVCall above the IRQs.
    assert.equal(x.scs.priority[EXC.PendSV], 0xf0);
    assert.equal(rproc.crashCnt, 0);
    assert.equal(rproc.state, RprocState.RUNNING);
  } finally {
    await rproc.shutdown();
  }
});

test("stm32mp157c-dk2_rpmsg_multi_services.elf on stm32mp157: banner, the IPCC interrupts enabled, every responder thread started, no crash", { skip: needsUnicorn }, async () => {
  const rproc = await bootReal("stm32mp157", "m4", ST, "stm32mp157c-dk2_rpmsg_multi_services.elf");
  try {
    for (const re of [
      /\*\*\* Booting Zephyr OS build v3\.6\.0 \*\*\*\n/,
      /OpenAMP\[remote\] +linux responder demo started\r?\n/,
      /OpenAMP\[remote\] Linux sample client responder started\r?\n/,
      /OpenAMP\[remote\] Linux tty responder started\r?\n/,
    ])
      await until(`${re} in the trace`, () => re.test(rproc.traceText(0)));
    const x = mModel(rproc).exceptions;
    // IPCC RX/TX (103/104) enabled at the NVIC by the firmware's mailbox driver, as on the board.
    assert.equal(x.scs.enabled[16 + 103], 1);
    assert.equal(x.scs.enabled[16 + 104], 1);
    await until("SysTick and PendSV exceptions", () => x.taken > 10);
    assert.equal(rproc.crashCnt, 0);
    assert.equal(rproc.state, RprocState.RUNNING);
  } finally {
    await rproc.shutdown();
  }
});

test("am64-main-r5f0_0-fw on am64x: TI's start-up (CP15 cache geometry, MPU, Sciclient) reaches the FreeRTOS idle hook's WFI with the DMTimer tick running", { skip: needsUnicorn }, async () => {
  const rproc = await bootReal("am64x", "r5f0_0", ROOT + "fixtures/real-firmware/ti/", "am64-main-r5f0_0-fw");
  try {
    await until("the idle task's log line", () => /\[r5f0-0\] +[\d.]+s : Start idle task\r?\n/.test(rproc.traceText(0)));
    assert.match(rproc.traceText(0), /PHYTEC Demo Firmware/);
    // FreeRTOS's xTickCount (symbol at 0xa011d7b4 in the image) advances: the timer interrupt reaches the kernel through the VIM.
    const ticks = () => rproc.daToVa(0xa011d7b4, 4)!.u32(0);
    const t0 = ticks();
    await until("FreeRTOS ticks", () => ticks() > t0 + 5);
    await until("the idle hook's WFI", () => (emulatedMachine(rproc)?.model as unknown as { waiting: boolean }).waiting);
    assert.equal(rproc.crashCnt, 0);
    assert.equal(rproc.state, RprocState.RUNNING);
  } finally {
    await rproc.shutdown();
  }
});

test("rproc boot of a firmware that faults at once: a crash loop, exit 1, first fault decoded, segments listed once", { skip: needsUnicorn }, async () => {
  const r = await runCli(main, ["boot", "fixtures/emulated/crash-loop-m4.elf", "--platform", "stm32mp157", "--driver", "emulated", "--run-ms", "150"]);
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /crash loop: \d+ crashes during the run \(the firmware faulted again after each recovery\)/);
  assert.match(r.out, /first fault: cortex-m4 m4: read of unmapped address 0x60000000 at pc 0x/);
  assert.match(r.out, /fault status: cfsr 0x8200 hfsr 0x40000000 .*bfar 0x60000000 \(PRECISERR, BFARVALID, FORCED\)/);
  assert.match(r.out, /state: crash-loop/);
  assert.doesNotMatch(r.out, /state: running/);
  assert.equal((r.out.match(/\[0\] da 0x0 -> pa 0x38000000/g) ?? []).length, 1, "segment list printed once");
  assert.match(r.err, /crash loop/);
  const j = await runCli(main, ["boot", "fixtures/emulated/crash-loop-m4.elf", "--platform", "stm32mp157", "--driver", "emulated", "--run-ms", "150", "--json"]);
  assert.equal(j.code, 1);
  const report = JSON.parse(j.out);
  assert.equal(report.crashes.loop, true);
  assert.ok(report.crashes.count >= 2);
  assert.equal(report.crashes.first.fault.kind, "mmufault");
  assert.equal(report.crashes.first.fault.status.bfar, "0x60000000");
  assert.equal(report.state, "crash-loop");
});

test("rproc boot of Zephyr: the report says running, exit 0, no crash section", { skip: needsUnicorn }, async () => {
  const r = await runCli(main, ["boot", "fixtures/real-firmware/st/stm32mp157c-dk2_zephyr-hello.elf", "--platform", "stm32mp157", "--driver", "emulated", "--run-ms", "300"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /\| \*\*\* Booting Zephyr OS build v3\.6\.0 \*\*\*\n/);
  assert.doesNotMatch(r.out, /crash/);
  assert.match(r.out, /state: running \(shut down after the dry run: offline\)/);
});
