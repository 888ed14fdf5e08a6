import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { TEE_RESULT } from "../../src/formats/signed-image-errors.js";
import { loadSigningKey } from "../../src/tee/crypto.js";
import { signFirmware } from "../../src/tee/sign.js";
import { verifySignedImage } from "../../src/tee/verify.js";
import { TA_RPROC_CMD_LOAD_FW, TEE_PARAM_TYPE_MEMREF_INPUT, TEE_PARAM_TYPE_VALUE_INPUT, teeParamTypes } from "../../src/tee/ta.js";
import { RSA_VECTORS, VECTORS, expected, makeTa, vector } from "./helpers.js";

const key = (n: string) => readFileSync(resolve(VECTORS, n));
const PT_LOAD = teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT, TEE_PARAM_TYPE_MEMREF_INPUT);

test("every single-byte change in header, TLV area (values and padding) and signature is refused", () => {
  for (const e of expected()) {
    const pub = key(e.verify_key);
    const img = vector(e.file);
    for (let i = 0; i < e.images_offset; i++) {
      const b = Uint8Array.from(img);
      b[i] ^= 0xff;
      assert.equal(verifySignedImage(b, pub).valid, false, `${e.file}: byte ${i} changed but accepted`);
    }
  }
});

test("every byte change inside PT_LOAD data is refused at load (TEE_ERROR_SECURITY) with the segment wiped", () => {
  // Exhaustive over the demo firmware's 236 loadable bytes; a new TA per flip is cheap (sparse memory).
  const e = expected()[0]!;
  const base = vector(e.file);
  for (const seg of e.hash_table.filter((h) => h.p_type === 1)) {
    for (let k = 0; k < seg.p_filesz; k++) {
      const { ta, platform, pta } = makeTa();
      const b = Uint8Array.from(base);
      b[e.images_offset + seg.p_offset + k] ^= 0x01;
      const s = ta.openSession(teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT), [{ a: 0 }]);
      const r = ta.invoke(s, TA_RPROC_CMD_LOAD_FW, PT_LOAD, [{ a: 0 }, { buffer: b }]);
      assert.equal(r.result, TEE_RESULT.TEE_ERROR_SECURITY, `offset ${seg.p_offset + k}`);
      const pa = pta.daToPa(0, seg.p_paddr, seg.p_filesz);
      assert.ok(platform.secureRead(pa, seg.p_filesz).every((x) => x === 0), "destination wiped");
      assert.equal(ta.state(0), "OFF");
    }
  }
});

test("bytes outside the authenticated areas (.comment, section headers) may change", () => {
  const e = expected()[0]!;
  const b = vector(e.file);
  const elf = b.subarray(e.images_offset);
  const text = Buffer.from(elf).indexOf("GCC:");
  assert.ok(text > 0, ".comment present");
  elf[text] ^= 0x20;
  assert.equal(verifySignedImage(b, key(e.verify_key)).valid, true);
});

test("truncation, one appended byte, a wrong key are refused", () => {
  for (const f of RSA_VECTORS) {
    const b = vector(f);
    const pub = key("keys/rsa2048_pub.pem");
    assert.equal(verifySignedImage(b.subarray(0, b.length - 1), pub).error?.teeError, "TEE_ERROR_BAD_PARAMETERS");
    const longer = new Uint8Array(b.length + 1);
    longer.set(b);
    assert.equal(verifySignedImage(longer, pub).error?.teeError, "TEE_ERROR_BAD_PARAMETERS");
    assert.equal(verifySignedImage(b, key("keys/ecp256_pub.pem")).error?.teeError, "TEE_ERROR_SIGNATURE_INVALID");
  }
});

test("two images with a segment at the same address, or two resource tables, are refused", () => {
  const rsa = loadSigningKey(key("keys/rsa2048_priv.pem"));
  const m4 = key("fw_demo_m4.elf");
  const twice = signFirmware([{ name: "a", bytes: m4 }, { name: "b", bytes: m4 }], { key: rsa });
  assert.equal(verifySignedImage(twice, key("keys/rsa2048_pub.pem")).error?.teeError, "TEE_ERROR_BAD_FORMAT");
  // Same p_paddr, different content: the first-match hash lookup gives image 0's entry.
  const other = Uint8Array.from(m4);
  other[0x1000] ^= 0xff;
  const overlap = signFirmware([{ name: "a", bytes: m4 }, { name: "b", bytes: other }], { key: rsa });
  assert.equal(verifySignedImage(overlap, key("keys/rsa2048_pub.pem")).error?.teeError, "TEE_ERROR_SECURITY");
});
