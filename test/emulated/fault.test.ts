// The lifecycle harness's fault injection with the emulated driver: a failure
// at every forward step of boot and shutdown releases everything exactly once
// and never leaves an emulated core running; a firmware crash followed by
// recovery and shutdown leaves nothing behind either.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Platform } from "../../src/platform/platform.js";
import { RprocState } from "../../src/core/state.js";
import { makeRproc } from "../harness/setup.js";
import { loadDriver } from "../../src/drivers/registry.js";
import { failAtStep, forwardSteps, leftovers } from "../harness/fault.js";
import { defaultScheduler, emulatedMachine } from "../../src/drivers/emulated/index.js";
import { M4_FW, R5_FW, loadElf, needsUnicorn, stm32Platform, symbol } from "./helpers.js";

// The composition root imports this driver on first use (src/drivers/registry.ts).
await loadDriver("emulated");

const OPTIONS = { driver: "emulated", driverOptions: { sliceInsns: 50_000, insnsPerMs: 10_000 } };
const cases = [
  { name: "stm32mp157 M4", make: () => makeRproc(stm32Platform(), M4_FW, OPTIONS) },
  { name: "am64x R5F", make: () => makeRproc(Platform.load("am64x"), R5_FW, OPTIONS) },
];

for (const c of cases) {
  test(`emulated boot: a failure at every step k releases everything once and leaves no core running — ${c.name}`, { skip: needsUnicorn }, async () => {
    const probe = c.make();
    const n = (await forwardSteps(probe.rproc, () => probe.rproc.boot())).length;
    await probe.rproc.shutdown();
    assert.ok(n >= 10, `${n} steps`);
    for (let k = 1; k <= n; k++) {
      const { rproc, events } = c.make();
      const disarm = failAtStep(rproc, k);
      await assert.rejects(rproc.boot());
      disarm();
      assert.equal(rproc.state, RprocState.OFFLINE, `k=${k}`);
      assert.deepEqual(leftovers(rproc, events), [], `k=${k}`);
      assert.equal(emulatedMachine(rproc), undefined, `k=${k}: no emulated core left`);
      assert.equal(defaultScheduler.size, 0, `k=${k}: nothing scheduled`);
    }
  });

  test(`emulated shutdown: a failure at every step k keeps the core running; the retry stops it — ${c.name}`, { skip: needsUnicorn }, async () => {
    const probe = c.make();
    await probe.rproc.boot();
    const n = (await forwardSteps(probe.rproc, () => probe.rproc.shutdown())).length;
    for (let k = 1; k <= n; k++) {
      const { rproc, events } = c.make();
      await rproc.boot();
      const disarm = failAtStep(rproc, k);
      await assert.rejects(rproc.shutdown());
      disarm();
      assert.equal(rproc.state, RprocState.RUNNING, `k=${k}`);
      await rproc.shutdown();
      assert.deepEqual(leftovers(rproc, events), [], `k=${k}`);
      assert.equal(defaultScheduler.size, 0, `k=${k}`);
    }
  });
}

test("a firmware crash, recovery, then shutdown: everything released exactly once", { skip: needsUnicorn }, async () => {
  const { rproc, events } = makeRproc(stm32Platform(), M4_FW, OPTIONS);
  await rproc.boot();
  const cmd = symbol(loadElf(M4_FW), "fw_cmd").addr;
  for (let i = 0; i < 50 && !/vdev status/.test(rproc.traceText(0)); i++) await new Promise((r) => setTimeout(r, 5));
  rproc.daToVa(cmd, 4)!.setU32(0, 2);
  for (let i = 0; i < 400 && rproc.crashCnt === 0; i++) await new Promise((r) => setTimeout(r, 5));
  for (let i = 0; i < 400 && rproc.state !== RprocState.RUNNING; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(rproc.crashCnt, 1);
  assert.equal(rproc.state, RprocState.RUNNING);
  assert.ok(emulatedMachine(rproc), "recovery started a fresh core");
  await rproc.shutdown();
  assert.deepEqual(leftovers(rproc, events), []);
  assert.equal(defaultScheduler.size, 0);
});
