// Fails each step of the crash → boot-recovery sequence in turn (through the
// core's injectFault hook, the same step names as --trace) and checks where
// the kernel would leave the processor, and that resources are released once.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { RprocCrashType, RprocDumpMechanism, RprocState } from "../../src/core/state.js";
import { rprocCrashFlush, rprocCrashStatus } from "../../src/core/crash.js";
import { RprocError } from "../../src/errors.js";
import { balance, makeBoard } from "./helpers.js";

async function recoverySteps(): Promise<string[]> {
  const b = makeBoard();
  b.rproc.dumpConf = RprocDumpMechanism.ENABLED;
  await b.rproc.boot();
  const from = b.events.length;
  b.rproc.reportCrash(RprocCrashType.WATCHDOG);
  await rprocCrashFlush(b.rproc);
  return [...new Set(b.events.slice(from).filter((e) => e.phase === "begin").map((e) => e.step))];
}

test("every step of boot recovery failed in turn", async () => {
  const steps = await recoverySteps();
  assert.ok(steps.includes("rproc_stop") && steps.includes("load") && steps.includes("request_firmware") && steps.includes("coredump"), steps.join(","));
  for (const step of steps) {
    const b = makeBoard();
    b.rproc.dumpConf = RprocDumpMechanism.ENABLED;
    await b.rproc.boot();
    let armed = true;
    b.rproc.injectFault = (s) => {
      if (armed && s === step) {
        armed = false;
        throw new RprocError("EIO", `injected at ${s}`);
      }
    };
    b.rproc.reportCrash(RprocCrashType.WATCHDOG);
    await rprocCrashFlush(b.rproc);
    b.rproc.injectFault = undefined;
    if (armed) {
      // not a fault point (an event of the crash work itself, not a step the core runs)
      assert.ok(["rproc_crash_handler_work", "rproc_coredump"].includes(step), `${step} should be injectable`);
      continue;
    }
    const st = b.rproc.state;
    const err = rprocCrashStatus(b.rproc).lastRecoveryError;
    assert.equal(b.rproc.power, 1, `${step}: power is never touched by recovery`);
    assert.equal(b.rproc.lock.locked, false, `${step}: lock released`);
    if (step === "coredump" || step === "rproc_coredump") {
      // ops->coredump is void in the kernel: recovery goes on without a dump
      assert.equal(st, RprocState.RUNNING, step);
      continue;
    }
    assert.ok(err, `${step}: the recovery error is kept`);
    if (st === RprocState.CRASHED) {
      // failed before the processor was stopped: `recover` retries
      await b.rproc.triggerRecovery();
      assert.equal(b.rproc.state, RprocState.RUNNING, `${step}: recover after failure`);
    } else {
      // stopped, then failed: OFFLINE with power still 1 (kernel quirk §11.9); shutdown refuses OFFLINE
      assert.equal(st, RprocState.OFFLINE, `${step}: state ${st}`);
      await assert.rejects(b.rproc.shutdown(), (e: RprocError) => e.code === "EINVAL");
      continue;
    }
    await b.rproc.shutdown();
    for (const [kind, n] of Object.entries(balance(b.events))) assert.equal(n, 0, `${step}: ${kind} released exactly once`);
  }
});
