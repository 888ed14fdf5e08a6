/** ECDSA P-256 images through the TA model, with a platform PTA configured with acceptEcdsa. */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { KeyObject } from "node:crypto";
import { Platform } from "../../src/platform/platform.js";
import { TEE_RESULT } from "../../src/formats/signed-image-errors.js";
import { loadSigningKey, loadVerifyKey } from "../../src/tee/crypto.js";
import { PlatformPta } from "../../src/tee/platform-pta.js";
import { signFirmware } from "../../src/tee/sign.js";
import { RemoteprocTa, TA_RPROC_CMD_GET_RSC_TABLE, TA_RPROC_CMD_LOAD_FW, TEE_PARAM_TYPE_MEMREF_INPUT, TEE_PARAM_TYPE_VALUE_INPUT, TEE_PARAM_TYPE_VALUE_OUTPUT, teeParamTypes, type TeeParam } from "../../src/tee/ta.js";
import { REPO, VECTORS, vector } from "./helpers.js";

const PT_ID = teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT);
const PT_LOAD = teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT, TEE_PARAM_TYPE_MEMREF_INPUT);
const PT_RSC = teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT, TEE_PARAM_TYPE_VALUE_OUTPUT, TEE_PARAM_TYPE_VALUE_OUTPUT);

const EC_PUB = loadVerifyKey(readFileSync(resolve(VECTORS, "keys/ecp256_pub.pem"))).key;
const RSA_PUB = loadVerifyKey(readFileSync(resolve(VECTORS, "keys/rsa2048_pub.pem"))).key;
const SIGNATURE_OFFSET = 236; // 20-byte header + R8(tlv_len 216)
const IMAGES_OFFSET = 300; // + R8(sign_len 64)

/** stm32mp157 (the memory the vector's segments were linked for: RETRAM at da 0, MCU SRAM at da 0x10000000). */
function makeEcdsaTa(publicKey: KeyObject, acceptEcdsa: boolean | undefined): { ta: RemoteprocTa; platform: Platform; session: number } {
  const platform = Platform.load("stm32mp157");
  const proc = platform.processor();
  const pta = new PlatformPta(platform, [{ rprocId: proc.tee?.rprocId ?? 0, processor: proc, publicKey, acceptEcdsa }]);
  const ta = new RemoteprocTa(pta);
  return { ta, platform, session: ta.openSession(PT_ID, [{ a: 0 }]) };
}

function load(t: { ta: RemoteprocTa; session: number }, img: Uint8Array): { result: number; teeError?: string } {
  const r = t.ta.invoke(t.session, TA_RPROC_CMD_LOAD_FW, PT_LOAD, [{ a: 0 }, { buffer: img }]);
  return { result: r.result, teeError: r.error?.teeError };
}

test("with acceptEcdsa the OP-TEE ECDSA vector LOAD_FWs: segments in device memory, resource table found", () => {
  const t = makeEcdsaTa(EC_PUB, true);
  const img = vector("fw_demo_m4.ecp256.bin");
  assert.deepEqual(load(t, img), { result: 0, teeError: undefined });
  assert.equal(t.ta.state(0), "LOADED");
  assert.deepEqual(Buffer.from(t.platform.secureRead(0x38000000, 92)), Buffer.from(img.subarray(IMAGES_OFFSET + 0x1000, IMAGES_OFFSET + 0x1000 + 92)));
  assert.deepEqual(Buffer.from(t.platform.secureRead(0x10000000, 144)), Buffer.from(img.subarray(IMAGES_OFFSET + 0x2000, IMAGES_OFFSET + 0x2000 + 144)));
  assert.ok(t.platform.secureRead(0x10000000 + 144, 1168 - 144).every((b) => b === 0), "bss tail zeroed");
  const p: TeeParam[] = [{ a: 0 }, {}, {}];
  assert.equal(t.ta.invoke(t.session, TA_RPROC_CMD_GET_RSC_TABLE, PT_RSC, p).result, 0);
  assert.deepEqual([p[1]!.a, p[2]!.a], [0x10000000, 140]);
});

test("with acceptEcdsa a tampered ECDSA signature or signed area is SIGNATURE_INVALID and nothing is loaded", () => {
  const tamper: [string, (b: Uint8Array) => void][] = [
    ["flipped bit in r", (b) => (b[SIGNATURE_OFFSET + 5]! ^= 0x10)],
    ["flipped bit in s", (b) => (b[SIGNATURE_OFFSET + 40]! ^= 0x01)],
    ["r = 0", (b) => b.fill(0, SIGNATURE_OFFSET, SIGNATURE_OFFSET + 32)],
    // The hash table's last entry ends the TLV area: its SHA-256 is bytes 204..236.
    ["flipped bit in segment 1's signed hash (the TA's digest changes)", (b) => (b[SIGNATURE_OFFSET - 20]! ^= 0x80)],
  ];
  for (const [what, f] of tamper) {
    const t = makeEcdsaTa(EC_PUB, true);
    const img = vector("fw_demo_m4.ecp256.bin");
    f(img);
    assert.deepEqual(load(t, img), { result: TEE_RESULT.TEE_ERROR_SIGNATURE_INVALID, teeError: "TEE_ERROR_SIGNATURE_INVALID" }, what);
    assert.equal(t.ta.state(0), "OFF", what);
    assert.ok(t.platform.secureRead(0x38000000, 92).every((b) => b === 0), `${what}: no segment written`);
  }
});

test("an image freshly signed with ECDSA by rproc's signer loads; the RSA vector fails against the EC key", () => {
  const priv = loadSigningKey(readFileSync(resolve(VECTORS, "keys/ecp256_priv.pem")));
  assert.equal(priv.type, "ECC");
  const img = signFirmware([{ name: "m4", bytes: readFileSync(resolve(VECTORS, "fw_demo_m4.elf")) }], { key: priv });
  assert.equal(load(makeEcdsaTa(EC_PUB, true), img).result, 0);
  // One trusted key per processor: an RSA image cannot verify with the EC key.
  assert.equal(load(makeEcdsaTa(EC_PUB, true), vector("fw_demo_m4.rsa2048.bin")).teeError, "TEE_ERROR_SIGNATURE_INVALID");
});

test("without acceptEcdsa (default) ECDSA stays NOT_SUPPORTED; with it but an RSA trusted key, SIGNATURE_INVALID; RSA unchanged", () => {
  assert.equal(load(makeEcdsaTa(EC_PUB, undefined), vector("fw_demo_m4.ecp256.bin")).teeError, "TEE_ERROR_NOT_SUPPORTED");
  assert.equal(load(makeEcdsaTa(EC_PUB, false), vector("fw_demo_m4.ecp256.bin")).teeError, "TEE_ERROR_NOT_SUPPORTED");
  assert.equal(load(makeEcdsaTa(RSA_PUB, true), vector("fw_demo_m4.ecp256.bin")).teeError, "TEE_ERROR_SIGNATURE_INVALID");
  assert.equal(load(makeEcdsaTa(RSA_PUB, true), vector("fw_demo_m4.rsa2048.bin")).result, 0, "RSA still verifies with acceptEcdsa");
});

test("rproc boot: a platform file with tee.acceptEcdsa boots the ECDSA vector through the TA; without it the TEE refuses", async () => {
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { main } = await import("../../src/cli/main.js");
  const run = (argv: string[], io: Parameters<typeof main>[1]): Promise<number> => main(["boot", ...argv], io);
  const base = JSON.parse(readFileSync(resolve(REPO, "platforms/stm32mp157.json"), "utf8"));
  const dir = mkdtempSync(join(tmpdir(), "rproc-ecdsa-"));
  const platformFile = (accept: boolean): string => {
    const p = structuredClone(base);
    p.name = accept ? "stm32mp157-ecdsa" : "stm32mp157-rsa-only";
    p.processors[0].tee = { rprocId: 0, publicKey: resolve(VECTORS, "keys/ecp256_pub.pem"), ...(accept ? { acceptEcdsa: true } : {}) };
    const f = join(dir, `${p.name}.json`);
    writeFileSync(f, JSON.stringify(p));
    return f;
  };
  const boot = async (platform: string) => {
    let out = "";
    const code = await run([resolve(VECTORS, "fw_demo_m4.ecp256.bin"), "--platform", platform, "--json"], { stdout: (t) => void (out += t), stderr: () => {}, isTTY: false, cwd: REPO, env: {} });
    return { code, report: JSON.parse(out) };
  };
  const ok = await boot(platformFile(true));
  assert.equal(ok.code, 0, JSON.stringify(ok.report.error));
  assert.equal(ok.report.state, "running");
  const refused = await boot(platformFile(false));
  assert.equal(refused.code, 1);
  assert.equal(refused.report.error.teeError, "TEE_ERROR_NOT_SUPPORTED");
});
