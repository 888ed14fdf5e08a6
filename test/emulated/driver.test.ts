// The emulated driver through the core: createRproc(..., { driver: "emulated" }),
// boot, the firmware's own trace, kicks both ways, crashes with the kernel's
// crash types, recovery, registers in the coredump, several cores at once.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Platform } from "../../src/platform/platform.js";
import { createRproc, loadDriver } from "../../src/drivers/registry.js";
import type { Rproc } from "../../src/core/rproc.js";
import type { RprocEvent } from "../../src/core/events.js";
import { RprocCrashType, RprocDumpMechanism, RprocState } from "../../src/core/state.js";
import { dumpBytes } from "../../src/core/coredump-store.js";
import { readCoreFile } from "../../src/formats/core-file-reader.js";
import { RprocError } from "../../src/errors.js";
import { defaultScheduler, lastCrash, lastCrashRegisters } from "../../src/drivers/emulated/index.js";
import { A53_PLATFORM, FIXTURES, M4_FW, R5_FW, A53_FW, loadElf, needsUnicorn, stm32Platform, symbol, within } from "./helpers.js";

// The composition root imports this driver on first use (src/drivers/registry.ts).
await loadDriver("emulated");

const OPTIONS = { sliceInsns: 100_000, insnsPerMs: 10_000 };

interface Booted {
  rproc: Rproc;
  events: RprocEvent[];
  trace(): string;
  command(cmd: number): void;
}

async function boot(platform: Platform, processor: string, fw: string, extra: object = {}): Promise<Booted> {
  const rproc = createRproc(platform, processor, {
    driver: "emulated",
    firmware: fw.slice(FIXTURES.length),
    searchPath: [FIXTURES],
    driverOptions: { ...OPTIONS, ...extra },
  });
  const events: RprocEvent[] = [];
  rproc.events.on((e) => events.push(e));
  const cmd = symbol(loadElf(fw), "fw_cmd").addr;
  await rproc.boot();
  return {
    rproc,
    events,
    trace: () => rproc.traceText(0),
    command: (c) => rproc.daToVa(cmd, 4)!.setU32(0, c),
  };
}

async function until(what: string, pred: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

test("stm32mp157 M4: boot runs the firmware; its trace and the host's vring allocation show in the trace buffer", { skip: needsUnicorn }, async () => {
  const b = await boot(stm32Platform(), "m4", M4_FW);
  try {
    assert.equal(b.rproc.state, RprocState.RUNNING);
    await until("the vdev line", () => /vdev status/.test(b.trace()));
    const t = b.trace();
    assert.match(t, /^rproc emulated fixture cortex-m4\/stm32mp157 up\n/);
    // The core allocated the vrings from the vdev0vring0/1 pools and wrote their addresses and notify ids into the
    // loaded table; the firmware read them back from its own memory.
    assert.match(t, /vring0 da 0x10040000 notifyid 0x00000000 vring1 da 0x10041000 notifyid 0x00000001/);
    // The rpmsg driver's first kick reaches the firmware through the IPCC, and the firmware answers on vq1.
    await until("the kick", () => /kick vq0x00000000/.test(b.trace()));
    await until("the reply", () => b.events.some((e) => e.step === "mailbox_rx" && e.args?.vqid === 1));
  } finally {
    await b.rproc.shutdown();
  }
  assert.equal(b.rproc.state, RprocState.OFFLINE);
  assert.equal(defaultScheduler.size, 0, "shutdown removes the core from the scheduler");
});

test("M4 bad access: mmufault crash with the PC, recovery restarts the firmware, the dump carries the registers", { skip: needsUnicorn }, async () => {
  const platform = stm32Platform();
  const b = await boot(platform, "m4", M4_FW);
  b.rproc.dumpConf = RprocDumpMechanism.ENABLED;
  const elf = loadElf(M4_FW);
  try {
    await until("the firmware loop", () => /vdev status/.test(b.trace()));
    b.command(1);
    await until("the crash report", () => b.events.some((e) => e.step === "rproc_report_crash"));
    const report = b.events.find((e) => e.step === "rproc_report_crash")!;
    assert.equal(report.args?.type, RprocCrashType.MMUFAULT);
    const fault = lastCrash(b.rproc)!;
    assert.equal(fault.kind, "mmufault");
    assert.equal(fault.address, 0x60000000);
    assert.ok(within(fault.pc, symbol(elf, "bad_access")));
    const ev = b.events.find((e) => e.step === "emulated_fault")!;
    assert.equal(ev.args?.pc, "0x" + fault.pc.toString(16));
    // Recovery: stop(crashed), coredump, reload, start — the firmware starts over.
    await until("recovery", () => b.rproc.state === RprocState.RUNNING && b.rproc.crashCnt === 1 && /vdev status/.test(b.trace()));
    assert.doesNotMatch(b.trace(), /cmd: bad access/);
    const dump = b.rproc.dumps[0];
    assert.ok(dump, "a coredump was taken");
    const core = readCoreFile(dumpBytes(dump));
    assert.equal(core.machine, 40);
    assert.equal(core.registers?.regs.r15, fault.pc);
    const { orig_r0: _origR0, ...regs } = core.registers!.regs; // the writer adds orig_r0 (0) to the prstatus set
    assert.deepEqual(regs, lastCrashRegisters(b.rproc)?.regs);
    assert.equal(core.registers?.signal, 11);
  } finally {
    await b.rproc.shutdown();
  }
});

test("M4 watchdog starved: a watchdog crash; undefined instruction: a fatal error", { skip: needsUnicorn }, async () => {
  for (const [cmd, type, kind] of [
    [3, RprocCrashType.WATCHDOG, "watchdog"],
    [2, RprocCrashType.FATAL_ERROR, "undefined-instruction"],
  ] as const) {
    const b = await boot(stm32Platform(), "m4", M4_FW);
    b.rproc.recoveryDisabled = true;
    try {
      await until("the firmware loop", () => /vdev status/.test(b.trace()));
      b.command(cmd);
      await until(`the ${kind} crash`, () => b.rproc.state === RprocState.CRASHED);
      assert.equal(b.events.find((e) => e.step === "rproc_report_crash")?.args?.type, type);
      assert.equal(lastCrash(b.rproc)?.kind, kind);
    } finally {
      b.rproc.recoveryDisabled = false;
      await b.rproc.triggerRecovery();
      await b.rproc.shutdown();
    }
  }
});

test("three cores side by side: M4 (stm32mp157), R5F (am64x), A53 — each writes its own trace", { skip: needsUnicorn }, async () => {
  const all = await Promise.all([
    boot(stm32Platform(), "m4", M4_FW),
    boot(Platform.load("am64x"), "r5f0_0", R5_FW),
    boot(Platform.load(A53_PLATFORM), "a53", A53_FW),
  ]);
  try {
    await until("three banners", () => all.every((b) => /vdev status/.test(b.trace())));
    assert.match(all[0].trace(), /cortex-m4\/stm32mp157 up/);
    assert.match(all[1].trace(), /cortex-r5\/am64x up/);
    assert.match(all[2].trace(), /cortex-a53\/emu-a53 up/);
    assert.equal(defaultScheduler.size, 3);
  } finally {
    for (const b of all) await b.rproc.shutdown();
  }
  assert.equal(defaultScheduler.size, 0);
});

test("without libunicorn2 the boot fails with ENODEV naming the package; the simulated driver still boots", async () => {
  const platform = Platform.load("stm32mp157");
  const rproc = createRproc(platform, "m4", {
    driver: "emulated",
    firmware: "fw-m4-stm32mp157.elf",
    searchPath: [FIXTURES],
    driverOptions: { env: { RPROC_UNICORN_LIB: "none" } },
  });
  await assert.rejects(rproc.boot(), (e: unknown) => e instanceof RprocError && e.code === "ENODEV" && /libunicorn2/.test(e.message));
  assert.equal(rproc.state, RprocState.OFFLINE);
  const sim = createRproc(platform, "m4", { firmware: "fw-m4-stm32mp157.elf", searchPath: [FIXTURES] });
  await sim.boot();
  assert.equal(sim.state, RprocState.RUNNING);
  await sim.shutdown();
});

test("attach to a core the boot stage started: it runs from reset; detach leaves it running; shutdown stops it", { skip: needsUnicorn }, async () => {
  const path = new URL("../../platforms/stm32mp157.json", import.meta.url);
  const json = JSON.parse(readFileSync(path, "utf8"));
  json.processors[0] = { ...json.processors[0], initiallyRunning: true, driver: "emulated", firmware: "fw-m4-stm32mp157.elf" };
  const platform = Platform.parse(json, path.pathname);
  const rproc = createRproc(platform, "m4", { searchPath: [FIXTURES], driverOptions: OPTIONS });
  assert.equal(rproc.state, RprocState.DETACHED);
  await rproc.boot();
  assert.equal(rproc.state, RprocState.ATTACHED);
  await until("the banner", () => /cortex-m4\/stm32mp157 up/.test(platform.hostRead(0x10030000, 64).reduce((s, c) => s + String.fromCharCode(c), "")));
  await rproc.detach();
  assert.equal(rproc.state, RprocState.DETACHED);
  assert.equal(defaultScheduler.size, 1, "the remote keeps running after detach");
  await rproc.boot();
  assert.equal(rproc.state, RprocState.ATTACHED);
  assert.equal(defaultScheduler.size, 1, "re-attach finds the running core");
  await rproc.shutdown();
  assert.equal(defaultScheduler.size, 0);
});
