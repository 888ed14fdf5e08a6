import { test } from "node:test";
import * as assert from "node:assert/strict";
import { RprocCrashType, RprocDumpMechanism, RprocState, RPROC_FEAT_ATTACH_ON_RECOVERY } from "../../src/core/state.js";
import { rprocCrashFlush, rprocCrashStatus } from "../../src/core/crash.js";
import { coredumpShow, coredumpStore, recoveryShow, recoveryStore, rprocPanicNotify, rprocSetFeature } from "../../src/core/recovery.js";
import { setCoredumpSettings, dumpBytes } from "../../src/core/coredump-store.js";
import { rprocCoredumpUsingSections } from "../../src/core/coredump.js";
import { readCoreFile } from "../../src/formats/core-file-reader.js";
import { RprocError } from "../../src/errors.js";
import { balance, makeBoard, SRAM_DA, trail } from "./helpers.js";

/** Every test has its own time limit, so a stuck crash sequence fails instead of hanging `npm test`. */
const T = { timeout: 10_000 };

const STEPS = ["rproc_report_crash", "rproc_crash_handler_work", "rproc_trigger_recovery", "rproc_stop", "coredump", "rproc_coredump", "request_firmware", "rproc_start"];

test("crash with recovery enabled: stop(crashed), dump, reload, start; RUNNING again", T, async () => {
  const b = makeBoard();
  b.rproc.dumpConf = RprocDumpMechanism.ENABLED;
  await b.rproc.boot();
  b.mem(SRAM_DA, 4); // firmware loaded
  b.calls.length = 0;
  const from = b.events.length;
  b.rproc.reportCrash(RprocCrashType.WATCHDOG);
  assert.equal(b.rproc.state, RprocState.RUNNING, "reportCrash returns before the work runs");
  await rprocCrashFlush(b.rproc);
  const crashEvents = b.events.slice(from);
  assert.equal(b.rproc.state, RprocState.RUNNING);
  assert.equal(b.rproc.crashCnt, 1);
  assert.equal(b.rproc.power, 1);
  assert.deepEqual(b.calls, ["stop", "load", "start"]);
  const t = trail(crashEvents, STEPS).filter((x) => !x.startsWith("rproc_stop:") && !x.startsWith("rproc_start:"));
  assert.deepEqual(t.slice(0, 4), ["rproc_report_crash:info", "rproc_crash_handler_work:begin", "rproc_crash_handler_work:info", "rproc_trigger_recovery:begin"]);
  const order = crashEvents.map((e) => e.step).filter((s) => ["rproc_stop", "rproc_coredump", "request_firmware", "rproc_start"].includes(s));
  assert.deepEqual([...new Set(order)], ["rproc_stop", "rproc_coredump", "request_firmware", "rproc_start"]);
  const dump = b.rproc.lastDump!;
  assert.equal(dump.mode, "enabled");
  const core = readCoreFile(dumpBytes(dump));
  assert.deepEqual(core.segments.map((s) => [s.da, s.size]), [[0, 0x100], [SRAM_DA, 0x1000]]);
  assert.deepEqual([...dumpBytes(dump).subarray(core.segments[1]!.offset, core.segments[1]!.offset + 4)], [1, 2, 3, 4]);
  assert.equal(rprocCrashStatus(b.rproc).wakeupActive, false);
  await b.rproc.shutdown();
  assert.deepEqual(balance(b.events), { dump_segment: 0 });
});

test("recovery reloads the image found by the search path: a fixed image dropped in place comes back", T, async () => {
  const b = makeBoard();
  await b.rproc.boot();
  b.rproc.recoveryDisabled = true;
  b.rproc.reportCrash(RprocCrashType.FATAL_ERROR);
  await rprocCrashFlush(b.rproc);
  assert.equal(b.rproc.state, RprocState.CRASHED);
  b.writeFirmware(Uint8Array.of(9, 9, 9, 9));
  await b.rproc.triggerRecovery();
  assert.equal(b.rproc.state, RprocState.RUNNING);
  assert.deepEqual([...b.mem(SRAM_DA, 4)], [9, 9, 9, 9]);
});

test("recovery disabled: stays CRASHED; shutdown refuses (EINVAL) as mainline; `recover` brings it back", T, async () => {
  const b = makeBoard();
  await b.rproc.boot();
  await recoveryStore(b.rproc, "disabled\n");
  assert.equal(recoveryShow(b.rproc), "disabled\n");
  b.rproc.reportCrash(RprocCrashType.MMUFAULT);
  await rprocCrashFlush(b.rproc);
  assert.equal(b.rproc.state, RprocState.CRASHED);
  assert.equal(b.rproc.crashCnt, 1);
  await assert.rejects(b.rproc.shutdown(), (e: RprocError) => e.code === "EINVAL");
  assert.throws(() => coredumpStore(b.rproc, "enabled"), (e: RprocError) => e.code === "EBUSY");
  // a second report while crashed is ignored, and (kernel quirk) its wakeup hold is never relaxed
  b.rproc.reportCrash(RprocCrashType.MMUFAULT);
  await rprocCrashFlush(b.rproc);
  assert.equal(b.rproc.crashCnt, 1);
  assert.equal(rprocCrashStatus(b.rproc).wakeupActive, true);
  await recoveryStore(b.rproc, "recover");
  assert.equal(b.rproc.state, RprocState.RUNNING);
  assert.equal(b.rproc.recoveryDisabled, true);
  await assert.rejects(recoveryStore(b.rproc, "bogus"), (e: RprocError) => e.code === "EINVAL");
  await b.rproc.shutdown();
  assert.equal(b.rproc.state, RprocState.OFFLINE);
});

test("coredump sysfs words", T, () => {
  const b = makeBoard();
  assert.equal(coredumpShow(b.rproc), "disabled\n");
  coredumpStore(b.rproc, "inline\n");
  assert.equal(b.rproc.dumpConf, RprocDumpMechanism.INLINE);
  coredumpStore(b.rproc, "enabled");
  assert.equal(coredumpShow(b.rproc), "enabled\n");
  assert.throws(() => coredumpStore(b.rproc, "default"), (e: RprocError) => e.code === "EINVAL");
});

test("inline: recovery waits until the dump is read; the streamed bytes equal an enabled dump", T, async () => {
  const b = makeBoard();
  await b.rproc.boot();
  b.rproc.dumpConf = RprocDumpMechanism.INLINE;
  b.rproc.reportCrash(RprocCrashType.WATCHDOG);
  let flushed = false;
  const flush = rprocCrashFlush(b.rproc).then(() => (flushed = true));
  while (!b.rproc.lastDump) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(flushed, false);
  assert.equal(b.rproc.state, RprocState.OFFLINE, "stopped, not yet restarted");
  assert.equal(b.rproc.lock.locked, true, "recovery holds the lock while it waits");
  const inlineBytes = b.rproc.lastDump.reader!.readAll(100);
  await flush;
  assert.equal(b.rproc.state, RprocState.RUNNING);
  // the same crash with `enabled` gives the same file
  b.rproc.dumpConf = RprocDumpMechanism.ENABLED;
  b.rproc.reportCrash(RprocCrashType.WATCHDOG);
  await rprocCrashFlush(b.rproc);
  assert.deepEqual(Buffer.from(inlineBytes), Buffer.from(dumpBytes(b.rproc.lastDump!)));
  assert.equal(b.rproc.dumps.length, 2);
});

test("inline: an unread dump is freed by the timeout and recovery goes on", T, async () => {
  const b = makeBoard();
  await b.rproc.boot();
  b.rproc.dumpConf = RprocDumpMechanism.INLINE;
  // nothing else keeps this test's process busy while recovery waits: let the timeout hold it open
  setCoredumpSettings(b.rproc, { inlineTimeoutMs: 30, inlineTimeoutKeepsAlive: true });
  b.rproc.reportCrash(RprocCrashType.WATCHDOG);
  await rprocCrashFlush(b.rproc);
  assert.equal(b.rproc.state, RprocState.RUNNING);
  assert.equal(b.rproc.lastDump!.reader!.freedBy, "timeout");
  assert.throws(() => b.rproc.lastDump!.reader!.read(0, 10), (e: RprocError) => e.code === "ENODEV");
  const end = b.events.find((e) => e.step === "rproc_coredump" && e.phase === "end");
  assert.equal(end?.args?.freedBy, "timeout");
});

test("no segments → no dump, said as an event and a diagnostic; class unset → 'Elf class is not set'", T, async () => {
  const b = makeBoard({ segments: false });
  b.rproc.dumpConf = RprocDumpMechanism.ENABLED;
  await b.rproc.boot();
  b.rproc.reportCrash(RprocCrashType.WATCHDOG);
  await rprocCrashFlush(b.rproc);
  assert.equal(b.rproc.dumps.length, 0);
  assert.ok(b.events.some((e) => e.step === "rproc_coredump" && e.args?.code === "coredump-no-segments"));
  assert.ok(b.rproc.diagnostics.some((d) => d.code === "coredump-no-segments"));
  assert.equal(b.rproc.state, RprocState.RUNNING);

  const c = makeBoard();
  c.rproc.elfClass = 0;
  c.rproc.dumpConf = RprocDumpMechanism.ENABLED;
  await c.rproc.boot();
  c.rproc.reportCrash(RprocCrashType.WATCHDOG);
  await rprocCrashFlush(c.rproc);
  assert.equal(c.rproc.dumps.length, 0);
  assert.ok(c.events.some((e) => e.step === "rproc_coredump" && e.phase === "fail" && e.message === "Elf class is not set"));
  assert.equal(c.rproc.state, RprocState.RUNNING);
});

test("section variant as the driver's ops.coredump", T, async () => {
  const b = makeBoard({
    ops: {
      coredump: rprocCoredumpUsingSections,
    },
  });
  b.rproc.dumpConf = RprocDumpMechanism.ENABLED;
  await b.rproc.boot();
  for (const s of b.rproc.dumpSegments) s.priv = s.da === 0 ? "retram" : "mcuram2";
  b.rproc.reportCrash(RprocCrashType.WATCHDOG);
  await rprocCrashFlush(b.rproc);
  const core = readCoreFile(dumpBytes(b.rproc.lastDump!));
  assert.equal(core.variant, "sections");
  assert.deepEqual(core.segments.map((s) => s.name), ["retram", "mcuram2"]);
});

test("reports while the work is pending are absorbed; a report during recovery is handled after it", T, async () => {
  const b = makeBoard();
  await b.rproc.boot();
  b.rproc.reportCrash(RprocCrashType.WATCHDOG);
  b.rproc.reportCrash(RprocCrashType.WATCHDOG);
  b.rproc.reportCrash(RprocCrashType.WATCHDOG);
  await rprocCrashFlush(b.rproc);
  assert.equal(b.rproc.crashCnt, 1);
  // the driver sees the new image crash again while it is being started
  let again = true;
  b.rproc.ops.start = () => {
    b.calls.push("start");
    if (again) {
      again = false;
      b.rproc.reportCrash(RprocCrashType.FATAL_ERROR);
    }
  };
  b.rproc.reportCrash(RprocCrashType.WATCHDOG);
  await rprocCrashFlush(b.rproc);
  assert.equal(b.rproc.crashCnt, 3);
  assert.equal(b.rproc.state, RprocState.RUNNING);
});

test("a crash reported while booting is handled after the boot; while shutting down it is dropped (OFFLINE)", T, async () => {
  const b = makeBoard();
  let starts = 0;
  b.rproc.ops.start = () => {
    b.calls.push("start");
    if (starts++ === 0) b.rproc.reportCrash(RprocCrashType.WATCHDOG); // lock held by rproc_boot
  };
  await b.rproc.boot();
  const steps = b.events.map((e) => `${e.step}:${e.phase}`);
  assert.ok(steps.indexOf("rproc_crash_handler_work:begin") > steps.indexOf("running:info"), "the work waited for the boot's lock");
  await rprocCrashFlush(b.rproc);
  assert.equal(b.rproc.crashCnt, 1);
  assert.equal(b.rproc.state, RprocState.RUNNING);
  b.rproc.ops.start = () => void b.calls.push("start");
  b.rproc.ops.stop = () => {
    b.calls.push("stop");
    b.rproc.reportCrash(RprocCrashType.WATCHDOG);
  };
  await b.rproc.shutdown();
  await rprocCrashFlush(b.rproc);
  assert.equal(b.rproc.state, RprocState.OFFLINE);
  assert.equal(b.rproc.crashCnt, 1);
  assert.equal(rprocCrashStatus(b.rproc).wakeupActive, false);
});

test("firmware gone at recovery: OFFLINE with power still 1 (kernel quirk); failed start → release_fw once", T, async () => {
  const b = makeBoard();
  await b.rproc.boot();
  b.rproc.firmware = "missing.bin";
  b.rproc.reportCrash(RprocCrashType.WATCHDOG);
  await rprocCrashFlush(b.rproc);
  assert.equal(b.rproc.state, RprocState.OFFLINE);
  assert.equal(b.rproc.power, 1);
  assert.equal(rprocCrashStatus(b.rproc).lastRecoveryError?.code, "ENOENT");

  const c = makeBoard();
  await c.rproc.boot();
  c.calls.length = 0;
  c.rproc.ops.start = () => {
    throw new RprocError("EIO", "start refused");
  };
  c.rproc.reportCrash(RprocCrashType.WATCHDOG);
  await rprocCrashFlush(c.rproc);
  assert.equal(c.calls.filter((x) => x === "release_fw").length, 1);
  assert.notEqual(c.rproc.state, RprocState.RUNNING);
});

test("ATTACH_ON_RECOVERY: detach then attach, no firmware, no dump", T, async () => {
  const b = makeBoard({ ops: { attach: () => void 0, detach: () => void 0 } });
  rprocSetFeature(b.rproc, RPROC_FEAT_ATTACH_ON_RECOVERY);
  assert.throws(() => rprocSetFeature(b.rproc, 1), (e: RprocError) => e.code === "EINVAL");
  b.rproc.dumpConf = RprocDumpMechanism.ENABLED;
  await b.rproc.boot();
  b.calls.length = 0;
  b.rproc.reportCrash(RprocCrashType.WATCHDOG);
  await rprocCrashFlush(b.rproc);
  assert.equal(b.rproc.state, RprocState.ATTACHED);
  assert.equal(b.rproc.dumps.length, 0);
  assert.ok(!b.calls.includes("load"));
});

test("panic notifier: only RUNNING/ATTACHED processors with ops.panic; the largest delay", T, async () => {
  const a = makeBoard({ ops: { panic: () => 200 } });
  const b = makeBoard({ ops: { panic: () => 500 } });
  await a.rproc.boot();
  assert.equal(rprocPanicNotify([a.rproc, b.rproc]), 200);
  await b.rproc.boot();
  assert.equal(rprocPanicNotify([a.rproc, b.rproc]), 500);
});

test("a crash reported during a boot that then fails is dropped (OFFLINE) and its wakeup hold relaxed", T, async () => {
  const b = makeBoard();
  b.rproc.ops.start = () => {
    b.calls.push("start");
    b.rproc.reportCrash(RprocCrashType.FATAL_ERROR); // lock held by rproc_boot
    throw new RprocError("EIO", "start refused");
  };
  await assert.rejects(b.rproc.boot(), (e: RprocError) => e.code === "EIO");
  await rprocCrashFlush(b.rproc);
  assert.equal(b.rproc.state, RprocState.OFFLINE);
  assert.equal(b.rproc.crashCnt, 0);
  assert.equal(b.rproc.power, 0);
  assert.equal(rprocCrashStatus(b.rproc).wakeupActive, false);
  const end = b.events.find((e) => e.step === "rproc_crash_handler_work" && e.phase === "end");
  assert.equal(end?.args?.handled, false);
  assert.deepEqual(balance(b.events), { dump_segment: 0 });
});
