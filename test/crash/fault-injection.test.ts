// Fault injection on the crash paths with the shared harness
// (test/harness/fault.ts): failAtStep fails the k-th fault point, leftovers /
// resourceBalance check state and exact-once release. Every fault point of
// boot recovery and of attach recovery is failed in turn, on the crash
// tests' board and on the sim driver with the STM32MP15 M4 fixture
// (resource table, vdevs, carveouts). Also: a crash reported during attach
// recovery, and a crash reported while DETACHED.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Platform } from "../../src/platform/platform.js";
import { Rproc } from "../../src/core/rproc.js";
import { createSimDriver } from "../../src/drivers/sim/driver.js";
import { requestFirmware } from "../../src/core/firmware.js";
import { recordEvents, type RprocEvent } from "../../src/core/events.js";
import { rprocCrashFlush, rprocCrashStatus } from "../../src/core/crash.js";
import { recoveryStore, rprocSetFeature } from "../../src/core/recovery.js";
import { RPROC_FEAT_ATTACH_ON_RECOVERY, RprocCrashType, RprocDumpMechanism, RprocState, stateString } from "../../src/core/state.js";
import type { RprocError } from "../../src/errors.js";
import { failAtStep, leftovers, resourceBalance } from "../harness/fault.js";
import { makeBoard } from "./helpers.js";

const FW_DIR = fileURLToPath(new URL("../../fixtures/firmware/", import.meta.url));
const T = { timeout: 60_000 };

interface Subject {
  rproc: Rproc;
  crash(): void;
  events: RprocEvent[];
  /** Whether the driver registers dump segments (a dump is expected after rproc_stop). */
  dumps: boolean;
}

/** The crash tests' minimal driver (with releaseFw): no resource table, two dump segments. */
function board(): Subject {
  const b = makeBoard();
  b.stop();
  return { rproc: b.rproc, crash: () => b.rproc.reportCrash(RprocCrashType.WATCHDOG), events: recordEvents(b.rproc.events).events, dumps: true };
}

/** The sim driver; `detached`: started by an earlier boot stage (the rproc attaches), with ATTACH_ON_RECOVERY unless `feature` is false. */
function sim(opts: { detached?: boolean; feature?: boolean } = {}): Subject & { driver: ReturnType<typeof createSimDriver> } {
  const platform = Platform.load("stm32mp157");
  const proc = platform.processor("m4");
  const driver = createSimDriver();
  const rproc = new Rproc({
    name: "m4",
    platform,
    processor: { ...proc, driver: "sim", initiallyRunning: !!opts.detached },
    ops: driver,
    firmware: "stm32mp15-m4.elf",
    searchPath: [FW_DIR],
  });
  if (opts.detached) {
    driver.earlyBoot(rproc, requestFirmware("stm32mp15-m4.elf", [FW_DIR]));
    if (opts.feature !== false) rprocSetFeature(rproc, RPROC_FEAT_ATTACH_ON_RECOVERY);
  }
  return { rproc, driver, crash: () => driver.sim.crash(RprocCrashType.WATCHDOG), events: recordEvents(rproc.events).events, dumps: true };
}

/**
 * The fault points of an action: the step names the core's injectFault hook
 * sees, in order — what failAtStep counts. (The harness's forwardSteps counts
 * `begin` events; on the crash path two of them, the crash work's and the
 * dump builder's, are not fault points, so it would count two too many.)
 */
async function faultPoints(rproc: Rproc, action: () => Promise<void>): Promise<string[]> {
  const points: string[] = [];
  rproc.injectFault = (step) => void points.push(step);
  try {
    await action();
  } finally {
    rproc.injectFault = undefined;
  }
  return points;
}

async function crashAndFlush(s: Subject): Promise<void> {
  s.crash();
  await rprocCrashFlush(s.rproc);
}

/** Resources open now that were not open at `mark` (recovery must not leave new ones behind). */
function newlyOpen(events: RprocEvent[], mark: number): string[] {
  const before = resourceBalance(events.slice(0, mark)).open;
  return [...resourceBalance(events).open].filter(([k, n]) => n > (before.get(k) ?? 0)).map(([k]) => k);
}

function count(events: RprocEvent[], step: string, from: number): number {
  return events.slice(from).filter((e) => e.step === step && e.phase === "begin").length;
}

/** Boot recovery, as the kernel leaves it when fault point `step` fails (spec §5.7, §10.3). */
const BEFORE_STOPPED = ["rproc_trigger_recovery", "rproc_boot_recovery", "rproc_stop", "stop_subdevices", "reset_rsc_table_on_stop", "stop", "unprepare_subdevices"];

for (const [name, make] of [["board", board], ["sim", () => sim()]] as const) {
  test(`${name}: every fault point of boot recovery failed in turn`, T, async () => {
    const probe = make();
    probe.rproc.dumpConf = RprocDumpMechanism.ENABLED;
    await probe.rproc.boot();
    const points = await faultPoints(probe.rproc, () => crashAndFlush(probe));
    assert.deepEqual(points.slice(0, 3), ["rproc_trigger_recovery", "rproc_boot_recovery", "rproc_stop"]);
    for (const s of ["coredump", "request_firmware", "rproc_start", "load", "start"]) assert.ok(points.includes(s), `${s} in ${points.join(",")}`);
    await probe.rproc.shutdown();
    assert.deepEqual(leftovers(probe.rproc, probe.events), []);

    for (let k = 1; k <= points.length; k++) {
      const step = points[k - 1]!;
      const s = make();
      s.rproc.dumpConf = RprocDumpMechanism.ENABLED;
      await s.rproc.boot();
      const mark = s.events.length;
      const disarm = failAtStep(s.rproc, k);
      await crashAndFlush(s);
      disarm();
      const at = `k=${k} (${step})`;
      const err = rprocCrashStatus(s.rproc).lastRecoveryError;
      assert.equal(s.rproc.power, 1, `${at}: recovery never touches power`);
      assert.equal(s.rproc.lock.locked, false, `${at}: lock released`);
      assert.equal(rprocCrashStatus(s.rproc).wakeupActive, false, `${at}: pm_relax`);
      assert.deepEqual(resourceBalance(s.events).doubleReleased, [], at);
      assert.deepEqual(newlyOpen(s.events, mark), [], `${at}: nothing acquired and kept`);
      const releaseFw = count(s.events, "release_fw", mark);
      if (step === "coredump") {
        // ops->coredump is void: recovery goes on without a dump
        assert.equal(s.rproc.state, RprocState.RUNNING, at);
        assert.equal(err, undefined, at);
        assert.equal(s.rproc.dumps.length, 0, at);
      } else if (BEFORE_STOPPED.includes(step)) {
        // rproc_stop failed (or never ran): still CRASHED, no dump; `recover` retries
        assert.equal(s.rproc.state, RprocState.CRASHED, at);
        assert.equal(err?.code, "EIO", at);
        assert.equal(s.rproc.dumps.length, 0, at);
        await recoveryStore(s.rproc, "recover");
        assert.equal(s.rproc.state, RprocState.RUNNING, `${at}: recovered by 'recover'`);
      } else {
        // stopped and dumped, then request_firmware or rproc_start failed: OFFLINE with power 1 (§11.9);
        // release_fw after a failed rproc_start (§10.3) and, beyond the series, after a failed
        // request_firmware (see recovery.ts); shutdown refuses OFFLINE.
        assert.equal(s.rproc.state, RprocState.OFFLINE, at);
        assert.equal(err?.code, "EIO", at);
        assert.equal(s.rproc.dumps.length, s.dumps ? 1 : 0, at);
        if (s.rproc.ops.releaseFw) assert.equal(releaseFw, 1, `${at}: release_fw`);
        await assert.rejects(s.rproc.shutdown(), (e: RprocError) => e.code === "EINVAL", at);
        continue;
      }
      await s.rproc.shutdown();
      assert.equal(s.rproc.state, RprocState.OFFLINE, at);
      assert.deepEqual(leftovers(s.rproc, s.events), [], at);
    }
  });
}

/**
 * After an attach recovery the processor cannot be detached: __rproc_detach in
 * the recovery consumed the clean resource table (rproc_reset_rsc_table_on_detach
 * frees it) and __rproc_attach does not take a new one (rproc_set_rsc_table runs
 * in rproc_attach only). The kernel's next reset finds the freed pointer; ours
 * finds none and refuses (its WARN_ON → EINVAL, power restored). rproc_shutdown
 * still works: the table copy made by the recovery's detach is the cached table.
 */
async function afterAttachRecovery(s: Subject): Promise<void> {
  await assert.rejects(s.rproc.detach(), (e: RprocError) => e.code === "EINVAL" && /clean resource table/.test(e.message));
  assert.equal(s.rproc.state, RprocState.ATTACHED);
  assert.equal(s.rproc.power, 1);
  await s.rproc.shutdown();
  assert.equal(s.rproc.state, RprocState.OFFLINE);
  assert.deepEqual(leftovers(s.rproc, s.events), []);
}

test("sim: every fault point of attach recovery (ATTACH_ON_RECOVERY) failed in turn", T, async () => {
  const probe = sim({ detached: true });
  await probe.rproc.boot();
  assert.equal(probe.rproc.state, RprocState.ATTACHED);
  const points = await faultPoints(probe.rproc, () => crashAndFlush(probe));
  assert.equal(probe.rproc.state, RprocState.ATTACHED);
  assert.deepEqual(points, ["rproc_trigger_recovery", "rproc_attach_recovery", "stop_subdevices", "reset_rsc_table_on_detach", "detach", "unprepare_subdevices", "prepare_subdevices", "attach", "start_subdevices"]);
  assert.equal(probe.rproc.dumps.length, 0, "attach recovery takes no dump");
  await afterAttachRecovery(probe);

  for (let k = 1; k <= points.length; k++) {
    const step = points[k - 1]!;
    const at = `k=${k} (${step})`;
    const s = sim({ detached: true });
    await s.rproc.boot();
    const mark = s.events.length;
    const disarm = failAtStep(s.rproc, k);
    await crashAndFlush(s);
    disarm();
    assert.equal(s.rproc.power, 1, at);
    assert.equal(s.rproc.lock.locked, false, at);
    assert.equal(rprocCrashStatus(s.rproc).lastRecoveryError?.code, "EIO", at);
    assert.deepEqual(resourceBalance(s.events).doubleReleased, [], at);
    // Only the table copy a completed rproc_reset_rsc_table_on_detach made (fault point 4) may be new; the rproc holds it.
    const fresh = newlyOpen(s.events, mark);
    assert.deepEqual(fresh, k > 4 ? ["cached_table:m4"] : [], at);
    if (fresh.length) assert.ok(s.rproc.cachedTable, at);
    if (k <= 4) {
      // __rproc_detach failed before touching the table or after resetting nothing: retry works
      assert.equal(s.rproc.state, RprocState.CRASHED, at);
      await recoveryStore(s.rproc, "recover");
      assert.equal(s.rproc.state, RprocState.ATTACHED, at);
      await afterAttachRecovery(s);
    } else if (step === "detach" || step === "unprepare_subdevices") {
      // the clean table was consumed by rproc_reset_rsc_table_on_detach: a retry hits its
      // WARN_ON(!clean_table) → EINVAL (the kernel would reuse a freed pointer); stuck CRASHED
      assert.equal(s.rproc.state, RprocState.CRASHED, at);
      await assert.rejects(s.rproc.triggerRecovery(), (e: RprocError) => e.code === "EINVAL", at);
      await assert.rejects(s.rproc.detach(), (e: RprocError) => e.code === "EINVAL", at);
    } else {
      // __rproc_detach completed, __rproc_attach failed: DETACHED with power 1; detach refuses,
      // and boot only counts (power 1 → 2), as rproc_boot does for any state
      assert.equal(s.rproc.state, RprocState.DETACHED, at);
      await assert.rejects(s.rproc.detach(), (e: RprocError) => e.code === "EINVAL", at);
      await s.rproc.boot();
      assert.equal(s.rproc.state, RprocState.DETACHED, at);
      assert.equal(s.rproc.power, 2, at);
    }
  }
});

test("a crash reported during attach recovery is handled after it; the second attach recovery fails (no clean table)", T, async () => {
  const s = sim({ detached: true });
  await s.rproc.boot();
  const attach = s.rproc.ops.attach!;
  let again = true;
  s.rproc.ops.attach = async (r) => {
    await attach(r);
    if (again && s.rproc.crashCnt === 1) {
      again = false;
      s.crash(); // the re-attached core faults at once; the crash work is running, so it is queued again
    }
  };
  const mark = s.events.length;
  await crashAndFlush(s);
  assert.equal(again, false);
  assert.equal(s.rproc.crashCnt, 2, "the second report was not absorbed: the work was running, not pending");
  assert.equal(s.rproc.power, 1);
  assert.equal(rprocCrashStatus(s.rproc).wakeupActive, false);
  const work = s.events.slice(mark).filter((e) => e.step === "rproc_crash_handler_work" && e.phase !== "info");
  assert.deepEqual(work.map((e) => e.phase), ["begin", "end", "begin", "end"], "never re-entrant: the second run starts after the first ends");
  assert.equal(work[1]!.args?.recovered, true, "first attach recovery completed");
  // The second recovery's __rproc_detach finds no clean table (see afterAttachRecovery): stuck CRASHED.
  assert.equal(work[3]!.args?.recovered, false);
  assert.equal(rprocCrashStatus(s.rproc).lastRecoveryError?.code, "EINVAL");
  assert.equal(s.rproc.state, RprocState.CRASHED);
  assert.deepEqual(resourceBalance(s.events).doubleReleased, []);
  await assert.rejects(s.rproc.shutdown(), (e: RprocError) => e.code === "EINVAL");
});

test("a crash reported while DETACHED: the work sets CRASHED (anything but CRASHED/OFFLINE), then the recovery decides", T, async () => {
  // recovery disabled: stays CRASHED; `recover` attaches (ATTACH_ON_RECOVERY) with power still 0
  const a = sim({ detached: true });
  a.rproc.recoveryDisabled = true;
  assert.equal(a.rproc.state, RprocState.DETACHED);
  await crashAndFlush(a);
  assert.equal(a.rproc.state, RprocState.CRASHED);
  assert.equal(a.rproc.crashCnt, 1);
  await a.rproc.triggerRecovery();
  assert.equal(stateString(a.rproc.state), "attached");
  assert.equal(a.rproc.power, 0);
  // rproc_detach's atomic_dec_and_test: 0 → -1 is not "last user", nothing is detached (kernel quirk)
  await a.rproc.detach();
  assert.equal(a.rproc.state, RprocState.ATTACHED);
  assert.equal(a.rproc.power, -1);

  // boot recovery of a processor Linux never started: stop, (no dump: the driver never prepared,
  // so no segments), firmware loaded, RUNNING with power 0; shutdown 0 → -1 stops nothing
  const b = sim({ detached: true, feature: false });
  b.rproc.dumpConf = RprocDumpMechanism.ENABLED;
  const mark = b.events.length;
  await crashAndFlush(b);
  assert.equal(b.rproc.state, RprocState.RUNNING);
  assert.equal(b.rproc.power, 0);
  assert.equal(b.rproc.crashCnt, 1);
  assert.equal(b.rproc.dumps.length, 0);
  assert.ok(b.events.slice(mark).some((e) => e.step === "rproc_coredump" && e.args?.code === "coredump-no-segments"));
  assert.ok(b.events.slice(mark).some((e) => e.step === "load" && e.phase === "end"), "the firmware was loaded by recovery");
  await b.rproc.shutdown();
  assert.equal(b.rproc.state, RprocState.RUNNING);
  assert.equal(b.rproc.power, -1);
  assert.equal(b.driver.sim.running, true);
});
