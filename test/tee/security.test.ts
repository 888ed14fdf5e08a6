import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { TEE_RESULT } from "../../src/formats/signed-image-errors.js";
import { loadSigningKey } from "../../src/tee/crypto.js";
import { signFirmware } from "../../src/tee/sign.js";
import { verifySignedImage } from "../../src/tee/verify.js";
import { inspectSignedImage } from "../../src/tee/inspect-signed.js";
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

test("multi-image vector: every byte change inside the second image's (fw_aux_a) PT_LOAD data is refused at load with the segment wiped", () => {
  const e = expected().find((x) => x.images.length === 2)!;
  const base = vector(e.file);
  const aux = e.images[1]!;
  // The aux image's PT_LOAD hash entries are the ones after image 0's program headers (one entry per program header).
  const segs = e.hash_table.slice(2).filter((h) => h.p_type === 1);
  assert.ok(segs.length > 0 && segs.every((s) => s.p_paddr >= 0x30000000), "aux image segments");
  const load = (b: Uint8Array) => {
    const { ta, platform, pta } = makeTa();
    const s = ta.openSession(teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT), [{ a: 0 }]);
    return { r: ta.invoke(s, TA_RPROC_CMD_LOAD_FW, PT_LOAD, [{ a: 0 }, { buffer: b }]), ta, platform, pta };
  };
  // Control: the untouched vector loads, and the aux segment lands at its address.
  const ok = load(Uint8Array.from(base));
  assert.equal(ok.r.result, 0);
  const seg0 = segs[0]!;
  const pa0 = ok.pta.daToPa(0, seg0.p_paddr, seg0.p_filesz);
  assert.deepEqual(Buffer.from(ok.platform.secureRead(pa0, seg0.p_filesz)), Buffer.from(base.subarray(e.images_offset + aux.offset + seg0.p_offset, e.images_offset + aux.offset + seg0.p_offset + seg0.p_filesz)));
  let n = 0;
  for (const seg of segs) {
    for (let k = 0; k < seg.p_filesz; k++) {
      for (const flip of [0x01, 0x80]) {
        const b = Uint8Array.from(base);
        b[e.images_offset + aux.offset + seg.p_offset + k] ^= flip;
        const { r, ta, platform, pta } = load(b);
        assert.equal(r.result, TEE_RESULT.TEE_ERROR_SECURITY, `aux offset ${seg.p_offset + k} ^${flip}`);
        const pa = pta.daToPa(0, seg.p_paddr, seg.p_filesz);
        assert.ok(platform.secureRead(pa, seg.p_filesz).every((x) => x === 0), "destination wiped");
        assert.equal(ta.state(0), "OFF");
        n++;
      }
    }
  }
  assert.equal(n, 2 * segs.reduce((a, s) => a + s.p_filesz, 0));
});

test("two images whose segments overlap at different addresses are refused (BAD_FORMAT), by the TA and by verify", () => {
  const rsa = loadSigningKey(key("keys/rsa2048_priv.pem"));
  const m4 = key("fw_demo_m4.elf");
  const aux = key("fw_aux_a.elf");
  const ph = aux.readUInt32LE(28);
  const moved = (paddr: number) => {
    const b = Buffer.from(aux);
    b.writeUInt32LE(paddr, ph + 8);
    b.writeUInt32LE(paddr, ph + 12);
    return b;
  };
  // Control: the aux image where it was linked loads beside the M4 image.
  const { ta } = makeTa();
  const s = ta.openSession(teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT), [{ a: 0 }]);
  const ok = signFirmware([{ name: "m4", bytes: m4 }, { name: "aux", bytes: aux }], { key: rsa });
  assert.equal(ta.invoke(s, TA_RPROC_CMD_LOAD_FW, PT_LOAD, [{ a: 0 }, { buffer: ok }]).result, 0);
  // 0x10000080: over the M4 image's .data; 0x10000400: over its .bss (p_memsz); 0x10000490: just past it (fine).
  for (const [paddr, refused] of [[0x10000080, true], [0x10000400, true], [0x10000490, false]] as [number, boolean][]) {
    const img = signFirmware([{ name: "m4", bytes: m4 }, { name: "aux", bytes: moved(paddr) }], { key: rsa });
    const t = makeTa();
    const s2 = t.ta.openSession(teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT), [{ a: 0 }]);
    const r = t.ta.invoke(s2, TA_RPROC_CMD_LOAD_FW, PT_LOAD, [{ a: 0 }, { buffer: img }]);
    const v = verifySignedImage(img, key("keys/rsa2048_pub.pem"));
    if (refused) {
      assert.equal(r.error?.teeError, "TEE_ERROR_BAD_FORMAT", `${paddr.toString(16)}: ${r.error?.message}`);
      assert.equal(r.error?.field, "images[1].elf.programHeaders[0].p_paddr");
      assert.equal(v.error?.teeError, "TEE_ERROR_BAD_FORMAT");
      assert.equal(t.ta.state(0), "OFF");
      assert.ok(inspectSignedImage(img).diagnostics.some((d) => d.code === "signed-segments-overlap" && d.path === "signedImage.images[1].elf.segments[0]"));
    } else {
      assert.equal(r.result, 0, `${paddr.toString(16)}: ${r.error?.message}`);
      assert.equal(v.valid, true);
      assert.ok(!inspectSignedImage(img).diagnostics.some((d) => d.code === "signed-segments-overlap"));
    }
  }
});
