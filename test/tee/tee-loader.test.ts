import { test } from "node:test";
import * as assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Platform } from "../../src/platform/platform.js";
import { createRproc, loadDriver } from "../../src/drivers/registry.js";
import { RprocState } from "../../src/core/state.js";
import { createPlatformTa } from "../../src/drivers/tee/driver.js";
import { loadSigningKey } from "../../src/tee/crypto.js";
import { signFirmware } from "../../src/tee/sign.js";
import { REPO, VECTORS, recordTaCalls } from "./helpers.js";

// The composition root imports this driver on first use (src/drivers/registry.ts).
await loadDriver("tee");

const dir = mkdtempSync(join(tmpdir(), "rproc-tee-"));
writeFileSync(
  join(dir, "fw.sig"),
  signFirmware([{ name: "m4", bytes: readFileSync(resolve(VECTORS, "fw_demo_m4.elf")) }], { key: loadSigningKey(readFileSync(resolve(REPO, "platforms/keys/rproc-test-rsa2048.pem"))) }),
);

/** A TEE-driven stm32mp157 M4; every TA call recorded. Fault injection: tee-release.test.ts. */
function setup(platformName = "stm32mp157", behaviour?: object) {
  const platform = Platform.load(platformName);
  const ta = createPlatformTa(platform, platform.processor());
  const calls = recordTaCalls(ta);
  const rproc = createRproc(platform, undefined, { driver: "tee", firmware: "fw.sig", searchPath: [dir], driverOptions: { ta, ...(behaviour ? { behaviour } : {}) } });
  return { platform, ta, rproc, calls };
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
  const { rproc, platform, calls } = setup("stm32mp157-firewall", {});
  await rproc.boot();
  assert.throws(() => platform.hostRead(0x38000000, 4), { code: "EACCES" });
  await rproc.shutdown();
  assert.equal(platform.hostRead(0x38000000, 4).length, 4);
  assert.equal(count(calls, "RELEASE_FW"), 1);
});
