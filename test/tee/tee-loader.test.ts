import { test } from "node:test";
import * as assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Platform } from "../../src/platform/platform.js";
import { createRproc } from "../../src/core/create.js";
import { rprocCrashFlush } from "../../src/core/crash.js";
import { RprocState } from "../../src/core/state.js";
import { recordEvents } from "../../src/core/events.js";
import { createPlatformTa } from "../../src/loaders/tee-loader.js";
import { loadSigningKey } from "../../src/tee/crypto.js";
import { signFirmware } from "../../src/tee/sign.js";
import { TA_COMMAND_NAMES, type RemoteprocTa } from "../../src/tee/ta.js";
import { TEE_RESULT } from "../../src/formats/signed-image-errors.js";
import { teeError } from "../../src/formats/signed-image-errors.js";
import { leftovers } from "../harness/fault.js";
import { REPO, VECTORS } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "rproc-tee-"));
writeFileSync(
  join(dir, "fw.sig"),
  signFirmware([{ name: "m4", bytes: readFileSync(resolve(VECTORS, "fw_demo_m4.elf")) }], { key: loadSigningKey(readFileSync(resolve(REPO, "platforms/keys/rproc-test-rsa2048.pem"))) }),
);

/** A TEE-driven stm32mp157 M4 whose TA fails the `failAt`-th call of command `failCmd`; every call is recorded. */
function setup(platformName = "stm32mp157", fail?: { cmd: number; nth: number }, behaviour?: object) {
  const platform = Platform.load(platformName);
  const ta = createPlatformTa(platform, platform.processor());
  const calls: string[] = [];
  const seen = new Map<number, number>();
  const real = ta.invoke.bind(ta);
  (ta as { invoke: RemoteprocTa["invoke"] }).invoke = (s, cmd, pt, params) => {
    const n = (seen.get(cmd) ?? 0) + 1;
    seen.set(cmd, n);
    calls.push(TA_COMMAND_NAMES[cmd]!);
    if (fail !== undefined && fail.cmd === cmd && fail.nth === n) {
      // A LOAD_FW from OFF fails for real (a truncated image), so the TA's context exists as it would.
      if (cmd === 1 && ta.state(0) !== "LOADED") return real(s, cmd, pt, [params[0]!, { buffer: params[1]!.buffer!.subarray(0, params[1]!.buffer!.length - 8) }]);
      return { result: TEE_RESULT.TEE_ERROR_GENERIC, error: teeError("TEE_ERROR_GENERIC", "injected failure") };
    }
    return real(s, cmd, pt, params);
  };
  const rproc = createRproc(platform, undefined, { driver: "tee", firmware: "fw.sig", searchPath: [dir], driverOptions: { ta, ...(behaviour ? { behaviour } : {}) } });
  const rec = recordEvents(rproc.events);
  return { platform, ta, rproc, calls, events: rec.events };
}

const count = (calls: string[], name: string) => calls.filter((c) => c === name).length;

test("boot and shutdown send the TA sequence Linux sends", async () => {
  const { rproc, calls, ta, platform } = setup();
  await rproc.boot();
  assert.equal(rproc.state, RprocState.RUNNING);
  assert.deepEqual(calls, ["LOAD_FW", "GET_RSC_TABLE", "LOAD_FW", "GET_RSC_TABLE", "START_FW"]);
  assert.equal(ta.state(0), "STARTED");
  await rproc.shutdown();
  assert.deepEqual(calls.slice(5), ["STOP_FW", "RELEASE_FW"]);
  assert.equal(ta.state(0), "OFF");
  assert.ok(platform.secureRead(0x38000000, 0x10000).every((b) => b === 0), "RELEASE_FW wiped the firmware memory");
});

test("firewalled platform boots; the host cannot read firmware memory while loaded", async () => {
  const { rproc, platform, calls } = setup("stm32mp157-firewall", undefined, {});
  await rproc.boot();
  assert.throws(() => platform.hostRead(0x38000000, 4), { code: "EACCES" });
  await rproc.shutdown();
  assert.equal(platform.hostRead(0x38000000, 4).length, 4);
  assert.equal(count(calls, "RELEASE_FW"), 1);
});

const BOOT_CMDS: [number, number][] = [
  [1, 1],
  [4, 1],
  [1, 2],
  [4, 2],
  [2, 1],
];

test("fault injection on boot: every TA command failing in turn, RELEASE_FW exactly once, nothing left", async () => {
  for (const [cmd, nth] of BOOT_CMDS) {
    const { rproc, calls, ta, events } = setup("stm32mp157", { cmd, nth });
    await assert.rejects(rproc.boot(), { code: "EIO" }, `${TA_COMMAND_NAMES[cmd]} #${nth}`);
    assert.equal(rproc.state, RprocState.OFFLINE);
    assert.equal(count(calls, "RELEASE_FW"), 1, `${TA_COMMAND_NAMES[cmd]} #${nth}: ${calls.join(",")}`);
    assert.equal(calls[calls.length - 1], "RELEASE_FW");
    assert.equal(ta.state(0), "OFF");
    assert.deepEqual(leftovers(rproc, events), [], `${TA_COMMAND_NAMES[cmd]} #${nth}`);
  }
});

test("fault injection on shutdown: STOP_FW failing keeps it running without a release; RELEASE_FW failing is sent once", async () => {
  {
    const { rproc, calls } = setup("stm32mp157", { cmd: 3, nth: 1 });
    await rproc.boot();
    await assert.rejects(rproc.shutdown(), { code: "EIO" });
    assert.equal(rproc.state, RprocState.RUNNING);
    assert.equal(count(calls, "RELEASE_FW"), 0);
  }
  {
    const { rproc, calls } = setup("stm32mp157", { cmd: 6, nth: 1 });
    await rproc.boot();
    await rproc.shutdown().catch(() => undefined);
    assert.equal(rproc.state, RprocState.OFFLINE);
    assert.equal(count(calls, "RELEASE_FW"), 1);
  }
});

test("recovery re-authenticates from OFF with no RELEASE between STOP and LOAD; a failed restart releases once", async () => {
  {
    const { rproc, calls, ta } = setup();
    await rproc.boot();
    const before = calls.length;
    rproc.reportCrash(2);
    await rprocCrashFlush(rproc);
    assert.deepEqual(calls.slice(before), ["STOP_FW", "LOAD_FW", "GET_RSC_TABLE", "START_FW"]);
    assert.equal(rproc.state, RprocState.RUNNING);
    assert.equal(ta.state(0), "STARTED");
    await rproc.shutdown();
    assert.equal(count(calls, "RELEASE_FW"), 1);
  }
  for (const [cmd, nth] of [
    [1, 3],
    [4, 3],
    [2, 2],
  ] as [number, number][]) {
    const { rproc, calls } = setup("stm32mp157", { cmd, nth });
    await rproc.boot();
    rproc.reportCrash(2);
    await rprocCrashFlush(rproc);
    assert.notEqual(rproc.state, RprocState.RUNNING, `${TA_COMMAND_NAMES[cmd]} #${nth}`);
    assert.equal(count(calls, "RELEASE_FW"), 1, `${TA_COMMAND_NAMES[cmd]} #${nth}: ${calls.join(",")}`);
  }
});
