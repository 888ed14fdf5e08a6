import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { TEE_RESULT } from "../../src/formats/signed-image-errors.js";
import { loadSigningKey } from "../../src/tee/crypto.js";
import { signFirmware } from "../../src/tee/sign.js";
import {
  TA_RPROC_CMD_GET_COREDUMP,
  TA_RPROC_CMD_GET_RSC_TABLE,
  TA_RPROC_CMD_LOAD_FW,
  TA_RPROC_CMD_RELEASE_FW,
  TA_RPROC_CMD_START_FW,
  TA_RPROC_CMD_STOP_FW,
  TEE_PARAM_TYPE_MEMREF_INPUT,
  TEE_PARAM_TYPE_VALUE_INPUT,
  TEE_PARAM_TYPE_VALUE_OUTPUT,
  teeParamTypes,
  type RemoteprocTa,
  type TeeParam,
} from "../../src/tee/ta.js";
import { REPO, VECTORS, makeTa, vector } from "./helpers.js";

const PT_ID = teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT);
const PT_LOAD = teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT, TEE_PARAM_TYPE_MEMREF_INPUT);
const PT_RSC = teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT, TEE_PARAM_TYPE_VALUE_OUTPUT, TEE_PARAM_TYPE_VALUE_OUTPUT);

function open(ta: RemoteprocTa, id = 0): number {
  return ta.openSession(PT_ID, [{ a: id }]);
}
const load = (ta: RemoteprocTa, s: number, buf: Uint8Array, id = 0) => ta.invoke(s, TA_RPROC_CMD_LOAD_FW, PT_LOAD, [{ a: id }, { buffer: buf }]);
const simple = (ta: RemoteprocTa, s: number, cmd: number, id = 0) => ta.invoke(s, cmd, PT_ID, [{ a: id }]);
function rsc(ta: RemoteprocTa, s: number): { result: number; pa: number; size: number } {
  const p: TeeParam[] = [{ a: 0 }, {}, {}];
  const r = ta.invoke(s, TA_RPROC_CMD_GET_RSC_TABLE, PT_RSC, p);
  return { result: r.result, pa: (p[1]!.a ?? 0) + (p[1]!.b ?? 0) * 2 ** 32, size: (p[2]!.a ?? 0) + (p[2]!.b ?? 0) * 2 ** 32 };
}

test("LOAD, GET_RSC_TABLE, START, STOP, RELEASE: states, memory contents and wipe", () => {
  const { ta, platform } = makeTa();
  const s = open(ta);
  const img = vector("fw_demo_m4.rsa2048.bin");
  assert.equal(rsc(ta, s).result, TEE_RESULT.TEE_ERROR_BAD_PARAMETERS, "never loaded");
  assert.equal(load(ta, s, img).result, 0);
  assert.equal(ta.state(0), "LOADED");
  // Segment 0: da 0 -> RETRAM 0x38000000; segment 1: da 0x10000000, 144 bytes then zeroed to memsz 1168.
  assert.deepEqual(Buffer.from(platform.secureRead(0x38000000, 92)), Buffer.from(img.subarray(492 + 0x1000, 492 + 0x1000 + 92)));
  assert.deepEqual(Buffer.from(platform.secureRead(0x10000000, 144)), Buffer.from(img.subarray(492 + 0x2000, 492 + 0x2000 + 144)));
  assert.ok(platform.secureRead(0x10000000 + 144, 1168 - 144).every((b) => b === 0));
  assert.deepEqual(rsc(ta, s), { result: 0, pa: 0x10000000, size: 140 });
  assert.equal(simple(ta, s, TA_RPROC_CMD_STOP_FW).result, TEE_RESULT.TEE_ERROR_BAD_STATE, "STOP in LOADED");
  assert.equal(simple(ta, s, TA_RPROC_CMD_START_FW).result, 0);
  assert.equal(simple(ta, s, TA_RPROC_CMD_START_FW).result, 0, "START while STARTED is a no-op");
  assert.equal(load(ta, s, img).result, TEE_RESULT.TEE_ERROR_BAD_STATE, "LOAD in STARTED");
  assert.equal(simple(ta, s, TA_RPROC_CMD_RELEASE_FW).result, TEE_RESULT.TEE_ERROR_BAD_STATE, "RELEASE in STARTED");
  assert.equal(simple(ta, s, TA_RPROC_CMD_STOP_FW).result, 0);
  assert.equal(ta.state(0), "OFF");
  assert.equal(rsc(ta, s).result, TEE_RESULT.TEE_ERROR_BAD_STATE, "GET_RSC_TABLE in OFF");
  assert.equal(simple(ta, s, TA_RPROC_CMD_START_FW).result, TEE_RESULT.TEE_ERROR_BAD_STATE, "START in OFF");
  assert.equal(simple(ta, s, TA_RPROC_CMD_STOP_FW).result, 0, "STOP in OFF is a no-op");
  assert.ok(platform.secureRead(0x38000000, 92).some((b) => b !== 0), "memory still holds the image after STOP");
  assert.equal(simple(ta, s, TA_RPROC_CMD_RELEASE_FW).result, 0);
  assert.ok(platform.secureRead(0x38000000, 0x10000).every((b) => b === 0), "RELEASE zero-fills RETRAM");
  assert.ok(platform.secureRead(0x10000000, 0x40000).every((b) => b === 0), "RELEASE zero-fills MCU SRAM");
  assert.equal(simple(ta, s, TA_RPROC_CMD_RELEASE_FW).result, 0, "a double release is tolerated");
});

test("LOAD_FW while LOADED succeeds without reading the new buffer", () => {
  const { ta } = makeTa();
  const s = open(ta);
  assert.equal(load(ta, s, vector("fw_demo_m4.rsa2048.bin")).result, 0);
  assert.equal(load(ta, s, new Uint8Array([1, 2, 3])).result, 0);
  assert.equal(load(ta, s, vector("fw_demo_m4.ecp256.bin")).result, 0);
});

test("parameter types, unknown commands, GET_COREDUMP and sessions", () => {
  const { ta } = makeTa();
  assert.throws(() => ta.openSession(PT_LOAD, [{ a: 0 }, {}]), { teeError: "TEE_ERROR_BAD_PARAMETERS" });
  assert.throws(() => ta.openSession(PT_ID, [{ a: 7 }]), { teeError: "TEE_ERROR_NOT_SUPPORTED" });
  const s = open(ta);
  assert.equal(ta.invoke(s, TA_RPROC_CMD_LOAD_FW, PT_ID, [{ a: 0 }]).result, TEE_RESULT.TEE_ERROR_BAD_PARAMETERS);
  assert.equal(load(ta, s, new Uint8Array(0)).result, TEE_RESULT.TEE_ERROR_BAD_PARAMETERS);
  assert.equal(ta.invoke(s, TA_RPROC_CMD_GET_COREDUMP, 0, []).result, TEE_RESULT.TEE_ERROR_NOT_IMPLEMENTED);
  assert.equal(ta.invoke(s, 99, PT_ID, [{ a: 0 }]).result, TEE_RESULT.TEE_ERROR_BAD_PARAMETERS);
  assert.equal(ta.invoke(s, TA_RPROC_CMD_START_FW, PT_LOAD, [{ a: 0 }, {}]).result, TEE_RESULT.TEE_ERROR_BAD_PARAMETERS);
  const misaligned = new Uint8Array(vector("fw_demo_m4.rsa2048.bin").length + 1).subarray(1);
  misaligned.set(vector("fw_demo_m4.rsa2048.bin"));
  assert.equal(load(ta, s, misaligned).result, TEE_RESULT.TEE_ERROR_BAD_PARAMETERS);
  ta.closeSession(s);
  assert.equal(load(ta, s, vector("fw_demo_m4.rsa2048.bin")).result, TEE_RESULT.TEE_ERROR_BAD_PARAMETERS, "closed session");
});

test("the STM32MP1 PTA refuses ECDSA images; an untrusted key gives SIGNATURE_INVALID", () => {
  const { ta } = makeTa();
  const s = open(ta);
  assert.equal(load(ta, s, vector("fw_demo_m4.ecp256.bin")).result, TEE_RESULT.TEE_ERROR_NOT_SUPPORTED);
  const other = loadSigningKey(readFileSync(resolve(REPO, "platforms/keys/rproc-test-rsa2048.pem")));
  const img = signFirmware([{ name: "m4", bytes: readFileSync(resolve(VECTORS, "fw_demo_m4.elf")) }], { key: other });
  assert.equal(load(ta, s, img).result, TEE_RESULT.TEE_ERROR_SIGNATURE_INVALID);
  assert.equal(ta.state(0), "OFF");
});

test("firewall: host locked out of firmware memory from LOAD_FW to RELEASE_FW, resource table still readable", () => {
  const { ta, platform } = makeTa("stm32mp157-firewall");
  const s = open(ta);
  platform.hostWrite(0x38000000, Uint8Array.of(1));
  assert.equal(load(ta, s, vector("fw_demo_m4.rsa2048.bin")).result, 0);
  assert.throws(() => platform.hostRead(0x38000000, 4), { code: "EACCES" });
  assert.throws(() => platform.hostWrite(0x10000100, Uint8Array.of(1)), { code: "EACCES" });
  assert.throws(() => platform.hostRead(0x30000100, 4), { code: "EACCES" }, "the alias of the same SRAM is locked too");
  assert.equal(platform.hostRead(0x10000000, 140).length, 140, "the resource table stays readable");
  platform.hostWrite(0x10000000, platform.hostRead(0x10000000, 4));
  platform.hostRead(0x10040000, 16); // vrings are not firmware memory
  assert.equal(platform.secureRead(0x38000000, 4).length, 4, "the TEE itself still reads");
  assert.equal(simple(ta, s, TA_RPROC_CMD_RELEASE_FW).result, 0);
  assert.equal(platform.hostRead(0x38000000, 4).length, 4);
});

test("without a firewall the host keeps access (upstream STM32MP1)", () => {
  const { ta, platform } = makeTa("stm32mp157");
  const s = open(ta);
  assert.equal(load(ta, s, vector("fw_demo_m4.rsa2048.bin")).result, 0);
  assert.equal(platform.hostRead(0x38000000, 4).length, 4);
});

test("encrypted image: the TA checks the ciphertext hash, then decrypts in place; without the platform key it refuses the image type", () => {
  const key = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);
  const elf = readFileSync(resolve(VECTORS, "fw_demo_m4.elf"));
  const priv = loadSigningKey(readFileSync(resolve(VECTORS, "keys/rsa2048_priv.pem")));
  const enc = signFirmware([{ name: "m4", bytes: elf }], { key: priv, encryptKey: key });
  const plain = makeTa("stm32mp157");
  assert.equal(load(plain.ta, open(plain.ta), enc).error?.teeError, "TEE_ERROR_BAD_FORMAT");
  const { ta, platform } = makeTa("stm32mp157", { encryptionKey: key });
  const s = open(ta);
  assert.equal(load(ta, s, enc).result, 0);
  assert.deepEqual(Buffer.from(platform.secureRead(0x38000000, 92)), elf.subarray(0x1000, 0x1000 + 92), "segment 0 decrypted in RETRAM");
  assert.deepEqual(Buffer.from(platform.secureRead(0x10000000, 144)), elf.subarray(0x2000, 0x2000 + 144), "segment 1 (with the resource table) decrypted");
  assert.deepEqual(rsc(ta, s), { result: 0, pa: 0x10000000, size: 140 });
  // A flipped ciphertext byte fails the hash before anything is decrypted, and the destination is wiped.
  const bad = Uint8Array.from(enc);
  bad[bad.length - 9360 + 0x1000 + 5] ^= 1;
  const t2 = makeTa("stm32mp157", { encryptionKey: key });
  assert.equal(load(t2.ta, open(t2.ta), bad).error?.teeError, "TEE_ERROR_SECURITY");
  assert.ok(t2.platform.secureRead(0x38000000, 92).every((b) => b === 0));
});
