/**
 * Exactly-once RELEASE_FW through the TEE driver, counted per TA command
 * kind: every TA command failing in turn and every core step failing in
 * turn, on boot, shutdown and recovery. The expected lists are the whole TA
 * sequence, so an extra LOAD, STOP or RELEASE anywhere fails the test.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Platform } from "../../src/platform/platform.js";
import { createRproc, loadDriver } from "../../src/drivers/registry.js";
import { rprocCrashFlush } from "../../src/core/crash.js";
import { RprocState } from "../../src/core/state.js";
import { recordEvents } from "../../src/core/events.js";
import { createPlatformTa } from "../../src/drivers/tee/driver.js";
import { loadSigningKey } from "../../src/tee/crypto.js";
import { signFirmware } from "../../src/tee/sign.js";
import { failAtStep, forwardSteps, leftovers } from "../harness/fault.js";
import { REPO, VECTORS, recordTaCalls } from "./helpers.js";

// The composition root imports this driver on first use (src/drivers/registry.ts).
await loadDriver("tee");

const signed = signFirmware([{ name: "m4", bytes: readFileSync(resolve(VECTORS, "fw_demo_m4.elf")) }], {
  key: loadSigningKey(readFileSync(resolve(REPO, "platforms/keys/rproc-test-rsa2048.pem"))),
});

const LOAD = "LOAD_FW";
const RSC = "GET_RSC_TABLE";
const START = "START_FW";
const STOP = "STOP_FW";
const RELEASE = "RELEASE_FW";
const BOOT_OK = [LOAD, RSC, LOAD, RSC, START];

/** A TEE-driven stm32mp157 M4 whose TA fails the nth call of `fail.cmd` (counted over the rproc's life); every call recorded. */
function setup(fail?: { cmd: number; nth: number }, image: Uint8Array = signed) {
  const dir = mkdtempSync(join(tmpdir(), "rproc-tee-rel-"));
  writeFileSync(join(dir, "fw.sig"), image);
  const platform = Platform.load("stm32mp157");
  const ta = createPlatformTa(platform, platform.processor());
  const calls = recordTaCalls(ta, fail);
  const rproc = createRproc(platform, undefined, { driver: "tee", firmware: "fw.sig", searchPath: [dir], driverOptions: { ta } });
  const rec = recordEvents(rproc.events);
  return { dir, platform, ta, rproc, calls, events: rec.events };
}

const ID: Record<string, number> = { [LOAD]: 1, [START]: 2, [STOP]: 3, [RSC]: 4, [RELEASE]: 6 };
const wiped = (platform: Platform) => platform.secureRead(0x38000000, 0x10000).every((b) => b === 0) && platform.secureRead(0x10000000, 0x40000).every((b) => b === 0);

test("boot: each TA command failing in turn gives the whole expected TA sequence, one RELEASE_FW, memory wiped", async () => {
  const cases: [string, number, string[]][] = [
    [LOAD, 1, [LOAD, RELEASE]],
    [RSC, 1, [LOAD, RSC, RELEASE]],
    [LOAD, 2, [LOAD, RSC, LOAD, RELEASE]],
    [RSC, 2, [LOAD, RSC, LOAD, RSC, RELEASE]],
    [START, 1, [...BOOT_OK, RELEASE]],
  ];
  for (const [cmd, nth, want] of cases) {
    const { rproc, calls, ta, events, platform } = setup({ cmd: ID[cmd]!, nth });
    await assert.rejects(rproc.boot(), { code: "EIO" }, `${cmd} #${nth}`);
    assert.deepEqual(calls, want, `${cmd} #${nth}`);
    assert.equal(rproc.state, RprocState.OFFLINE);
    // A LOAD_FW that fails before reaching the TA leaves no context (the RELEASE_FW then gets BAD_PARAMETERS, harmlessly).
    assert.ok(ta.state(0) === "OFF" || (ta.state(0) === undefined && nth === 1 && cmd === LOAD), `${cmd} #${nth}: TA ${ta.state(0)}`);
    assert.ok(wiped(platform), `${cmd} #${nth}: firmware memory wiped`);
    assert.deepEqual(leftovers(rproc, events), [], `${cmd} #${nth}`);
    // The next boot is a fresh load/release cycle: still one RELEASE per load.
    await rproc.boot();
    await rproc.shutdown();
    assert.deepEqual(calls.slice(want.length), [...BOOT_OK, STOP, RELEASE], `${cmd} #${nth}: next cycle`);
  }
});

test("boot: a LOAD_FW that fails in the TA after writing a segment is released once, wiping what it wrote", async () => {
  // Segment 1 (at 0x10000000) tampered: segment 0 lands in RETRAM first, then the hash check fails.
  const bad = Uint8Array.from(signed);
  const imgs = bad.length - 9360;
  bad[imgs + 0x2000 + 0x20] ^= 1;
  const { rproc, calls, ta, platform, events } = setup(undefined, bad);
  const seen: boolean[] = [];
  const off = rproc.events.on((e) => {
    if (e.step === "tee_load_fw" && e.phase === "fail") seen.push(platform.secureRead(0x38000000, 92).some((b) => b !== 0));
  });
  await assert.rejects(rproc.boot(), { code: "EIO", teeError: "TEE_ERROR_SECURITY" });
  off();
  assert.deepEqual(seen, [true], "segment 0 was in RETRAM when LOAD_FW failed");
  assert.deepEqual(calls, [LOAD, RELEASE]);
  assert.equal(ta.state(0), "OFF");
  assert.ok(wiped(platform));
  assert.deepEqual(leftovers(rproc, events), []);
});

test("boot: every core step failing in turn releases once after parse_fw and never before it", async () => {
  const probe = setup();
  const steps = await forwardSteps(probe.rproc, () => probe.rproc.boot());
  const parseAt = steps.indexOf("parse_fw");
  assert.ok(parseAt > 0 && steps.length > parseAt + 3, steps.join(","));
  for (let k = 1; k <= steps.length; k++) {
    const { rproc, calls, events, platform } = setup();
    const disarm = failAtStep(rproc, k);
    await assert.rejects(rproc.boot(), Error, `step ${k} (${steps[k - 1]})`);
    disarm();
    const released = calls.filter((c) => c === RELEASE).length;
    const loaded = calls.includes(LOAD);
    assert.equal(released, loaded ? 1 : 0, `step ${k} (${steps[k - 1]}): ${calls.join(",")}`);
    if (loaded) assert.equal(calls.at(-1), RELEASE, `step ${k} (${steps[k - 1]}): release is the last TA call`);
    assert.ok(wiped(platform), `step ${k} (${steps[k - 1]})`);
    assert.equal(rproc.state, RprocState.OFFLINE);
    assert.deepEqual(leftovers(rproc, events), [], `step ${k} (${steps[k - 1]})`);
  }
});

test("shutdown: STOP_FW failing keeps it running, unreleased; the retry stops and releases once", async () => {
  const { rproc, calls, platform } = setup({ cmd: ID[STOP]!, nth: 1 });
  await rproc.boot();
  await assert.rejects(rproc.shutdown(), { code: "EIO" });
  assert.equal(rproc.state, RprocState.RUNNING);
  assert.deepEqual(calls, [...BOOT_OK, STOP]);
  await rproc.shutdown();
  assert.deepEqual(calls, [...BOOT_OK, STOP, STOP, RELEASE]);
  assert.equal(rproc.state, RprocState.OFFLINE);
  assert.ok(wiped(platform));
});

test("shutdown: RELEASE_FW failing is sent once, not retried by a later shutdown or boot", async () => {
  const { rproc, calls, ta } = setup({ cmd: ID[RELEASE]!, nth: 1 });
  await rproc.boot();
  await rproc.shutdown().catch(() => undefined);
  assert.equal(rproc.state, RprocState.OFFLINE);
  assert.deepEqual(calls, [...BOOT_OK, STOP, RELEASE]);
  assert.equal(ta.state(0), "OFF");
  await rproc.boot();
  await rproc.shutdown();
  assert.deepEqual(calls.slice(7), [...BOOT_OK, STOP, RELEASE]);
});

test("recovery: no RELEASE between STOP and the re-LOAD; each TA failure on the restart releases once; a later shutdown adds none", async () => {
  {
    const { rproc, calls, ta } = setup();
    await rproc.boot();
    rproc.reportCrash(2);
    await rprocCrashFlush(rproc);
    assert.deepEqual(calls, [...BOOT_OK, STOP, LOAD, RSC, START]);
    assert.equal(rproc.state, RprocState.RUNNING);
    assert.equal(ta.state(0), "STARTED");
    await rproc.shutdown();
    assert.deepEqual(calls.slice(9), [STOP, RELEASE]);
  }
  const cases: [string, number, string[]][] = [
    [LOAD, 3, [STOP, LOAD, RELEASE]],
    [RSC, 3, [STOP, LOAD, RSC, RELEASE]],
    [START, 2, [STOP, LOAD, RSC, START, RELEASE]],
  ];
  for (const [cmd, nth, want] of cases) {
    const { rproc, calls, platform } = setup({ cmd: ID[cmd]!, nth });
    await rproc.boot();
    rproc.reportCrash(2);
    await rprocCrashFlush(rproc);
    assert.equal(rproc.state, RprocState.OFFLINE, `${cmd} #${nth}`);
    assert.deepEqual(calls.slice(BOOT_OK.length), want, `${cmd} #${nth}`);
    assert.ok(wiped(platform), `${cmd} #${nth}`);
    // The kernel refuses to shut down a processor that is not running: no second release.
    await assert.rejects(rproc.shutdown(), { code: "EINVAL" });
    assert.equal(calls.filter((c) => c === RELEASE).length, 1, `${cmd} #${nth}: ${calls.join(",")}`);
  }
});

test("recovery: STOP_FW failing leaves it crashed and loaded, with no RELEASE_FW", async () => {
  const { rproc, calls, ta } = setup({ cmd: ID[STOP]!, nth: 1 });
  await rproc.boot();
  rproc.reportCrash(2);
  await rprocCrashFlush(rproc);
  assert.equal(rproc.state, RprocState.CRASHED);
  assert.deepEqual(calls, [...BOOT_OK, STOP]);
  assert.equal(ta.state(0), "STARTED");
});

// The v22 series releases only after a failed rproc_start; rproc also releases when the
// firmware cannot be requested again at recovery (src/core/recovery.ts says why).
test("recovery: the firmware file gone at the restart still releases the stopped image once", async () => {
  const { rproc, calls, platform, dir } = setup();
  await rproc.boot();
  rmSync(join(dir, "fw.sig"));
  rproc.reportCrash(2);
  await rprocCrashFlush(rproc);
  assert.equal(rproc.state, RprocState.OFFLINE);
  assert.deepEqual(calls, [...BOOT_OK, STOP, RELEASE]);
  assert.ok(wiped(platform));
});
