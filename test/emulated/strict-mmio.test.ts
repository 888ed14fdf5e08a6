// The platform's `unmodelledMmio`: "log" (default) reads an unmodelled
// peripheral as zero and reports each address once; "fault" turns the access
// into an MMU fault crash naming the address. And an R5F crash recovered
// through the emulated driver on am64x, whose driver registers no dump segments.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Platform } from "../../src/platform/platform.js";
import { createRproc, loadDriver } from "../../src/drivers/registry.js";
import type { Rproc } from "../../src/core/rproc.js";
import type { RprocEvent } from "../../src/core/events.js";
import { RprocCrashType, RprocDumpMechanism, RprocState } from "../../src/core/state.js";
import { lastCrash } from "../../src/drivers/emulated/index.js";
import { FIXTURES, M4_FW, R5_FW, loadElf, needsUnicorn, symbol } from "./helpers.js";

// The composition root imports this driver on first use (src/drivers/registry.ts).
await loadDriver("emulated");

function platform(name: "am64x" | "stm32mp157", unmodelledMmio?: "log" | "fault"): Platform {
  const path = fileURLToPath(new URL(`../../platforms/${name}.json`, import.meta.url));
  const json = JSON.parse(readFileSync(path, "utf8"));
  if (unmodelledMmio) json.processors[0].unmodelledMmio = unmodelledMmio;
  return Platform.parse(json, path);
}

async function boot(p: Platform, fw: string): Promise<{ rproc: Rproc; events: RprocEvent[]; command(c: number): void }> {
  const rproc = createRproc(p, undefined, { driver: "emulated", firmware: fw.slice(FIXTURES.length), searchPath: [FIXTURES], driverOptions: { sliceInsns: 100_000 } });
  const events: RprocEvent[] = [];
  rproc.events.on((e) => events.push(e));
  await rproc.boot();
  const da = symbol(loadElf(fw), "fw_cmd").addr;
  return { rproc, events, command: (c) => rproc.daToVa(da, 4)!.setU32(0, c) };
}

async function until(what: string, pred: () => boolean): Promise<void> {
  for (let i = 0; i < 2500 && !pred(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(pred(), `timed out waiting for ${what}`);
}

test("unmodelledMmio log (default): the R5F reads UART0 as 0, the write is ignored, each address reported once", { skip: needsUnicorn }, async () => {
  const b = await boot(platform("am64x"), R5_FW);
  try {
    b.command(6);
    await until("the peripheral line", () => /cmd: peripheral read 0x00000000\n/.test(b.rproc.traceText(0)));
    b.command(6);
    await until("the second peripheral line", () => (b.rproc.traceText(0).match(/cmd: peripheral read/g) ?? []).length === 2);
    const reported = b.events.filter((e) => e.step === "emulated_unmodelled_mmio").map((e) => `${e.args?.access} ${e.args?.da}`);
    assert.deepEqual(reported, ["read 0x2800000", "write 0x2800004"], "once per address, though accessed twice");
    assert.equal(b.rproc.state, RprocState.RUNNING);
    assert.equal(b.rproc.crashCnt, 0);
  } finally {
    await b.rproc.shutdown();
  }
});

for (const [name, fw, address] of [
  ["am64x", R5_FW, 0x02800000],
  ["stm32mp157", M4_FW, 0xe0001000],
] as const) {
  test(`unmodelledMmio fault on ${name}: the firmware runs normally, then its unmodelled peripheral read is an mmufault crash at ${"0x" + address.toString(16)}`, { skip: needsUnicorn }, async () => {
    const b = await boot(platform(name, "fault"), fw);
    b.rproc.recoveryDisabled = true;
    try {
      await until("the vdev line", () => /vdev status/.test(b.rproc.traceText(0)));
      assert.equal(b.rproc.crashCnt, 0, "the modelled mailbox and watchdog do not fault");
      b.command(6);
      await until("the crash", () => b.rproc.state === RprocState.CRASHED);
      assert.equal(b.events.find((e) => e.step === "rproc_report_crash")?.args?.type, RprocCrashType.MMUFAULT);
      const f = lastCrash(b.rproc)!;
      assert.equal(f.kind, "mmufault");
      assert.equal(f.address, address);
      assert.equal(f.access, "read");
      assert.equal(f.unmodelled, true);
      assert.match(f.message, /unmodelled peripheral address .*unmodelledMmio: fault/);
      assert.ok(!b.events.some((e) => e.step === "emulated_unmodelled_mmio"), "faulted, not logged");
    } finally {
      b.rproc.recoveryDisabled = false;
      await b.rproc.triggerRecovery();
      await b.rproc.shutdown();
    }
  });
}

test("am64x R5F undefined instruction: fatal error, recovery restarts the firmware, no dump (no segments registered)", { skip: needsUnicorn }, async () => {
  const b = await boot(platform("am64x"), R5_FW);
  b.rproc.dumpConf = RprocDumpMechanism.ENABLED; // asked for, as `rproc crash` does: the driver still gives nothing to dump
  b.rproc.recoveryDisabled = false; // ti_k3_r5's probe disables recovery; asked for here, as the sysfs `recovery enabled` word does
  try {
    await until("the vdev line", () => /vdev status/.test(b.rproc.traceText(0)));
    b.command(2);
    await until("recovery", () => b.rproc.crashCnt === 1 && b.rproc.state === RprocState.RUNNING && /vdev status/.test(b.rproc.traceText(0)));
    assert.equal(b.events.find((e) => e.step === "rproc_report_crash")?.args?.type, RprocCrashType.FATAL_ERROR);
    assert.equal(lastCrash(b.rproc)?.kind, "undefined-instruction");
    assert.doesNotMatch(b.rproc.traceText(0), /cmd: undefined instruction/, "the trace is the restarted firmware's");
    assert.equal(b.rproc.dumps.length, 0);
    assert.ok(b.events.some((e) => e.step === "rproc_coredump" && e.args?.skipped === "no-segments"), JSON.stringify(b.events.filter((e) => /coredump/.test(e.step))));
    assert.ok(b.rproc.diagnostics.some((d) => d.code === "coredump-no-segments"), JSON.stringify(b.rproc.diagnostics));
  } finally {
    await b.rproc.shutdown();
  }
});
