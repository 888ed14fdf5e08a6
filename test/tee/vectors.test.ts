import { test } from "node:test";
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseSignedImage, tlvName } from "../../src/formats/signed-image.js";
import { loadSigningKey } from "../../src/tee/crypto.js";
import { parsePlatformTlvs, signFirmware } from "../../src/tee/sign.js";
import { verifySignedImage } from "../../src/tee/verify.js";
import { VECTORS, expected, vector } from "./helpers.js";

const file = (n: string) => readFileSync(resolve(VECTORS, n));

test("every vector decodes to the fields of expected.json", () => {
  for (const e of expected()) {
    const bytes = vector(e.file);
    assert.equal(bytes.length, e.size, e.file);
    assert.equal(createHash("sha256").update(bytes).digest("hex"), e.sha256);
    const s = parseSignedImage(bytes);
    assert.equal("0x" + s.layout.header.magic.toString(16), e.header.magic);
    assert.deepEqual([s.layout.header.version, s.layout.header.tlvLen, s.layout.header.signLen, s.layout.header.imgLen], [e.header.version, e.header.tlv_len, e.header.sign_len, e.header.img_len]);
    assert.deepEqual([s.layout.tlvOffset, s.layout.signOffset, s.layout.imagesOffset], [e.tlv_area_offset, e.signature_offset, e.images_offset]);
    assert.equal(s.signType, e.sign_type);
    assert.equal(s.hashType, e.hash_type);
    assert.deepEqual(
      s.tlvs.map((t) => ({ type: "0x" + t.type.toString(16), length: t.length })),
      e.tlvs.map((t) => ({ type: t.type, length: t.length })),
    );
    for (const [i, t] of e.tlvs.entries()) if (t.value_hex !== null) assert.equal(Buffer.from(s.tlvs[i]!.value).toString("hex"), t.value_hex, `${e.file} TLV ${t.type}`);
    assert.deepEqual(s.images.map((im) => ({ offset: im.offset, size: im.size })), e.images);
    assert.deepEqual(
      s.hashTable.map((h) => ({ p_type: h.type, p_offset: h.offset, p_vaddr: h.vaddr, p_paddr: h.paddr, p_filesz: h.filesz, p_memsz: h.memsz, p_flags: h.flags, p_align: h.align, sha256: Buffer.from(h.sha256).toString("hex") })),
      e.hash_table,
    );
    assert.ok(s.tlvs.every((t) => tlvName(t.type) !== "UNKNOWN"));
  }
});

test("every vector verifies with its key, as the TA would load it", () => {
  for (const e of expected()) {
    const r = verifySignedImage(vector(e.file), file(e.verify_key));
    assert.equal(r.valid, true, `${e.file}: ${r.error?.message}`);
    assert.deepEqual(r.segments.map((s) => ({ paddr: s.phdr.paddr, filesz: s.phdr.filesz, memsz: s.phdr.memsz })), e.loaded_segments);
    assert.deepEqual(r.resourceTable === undefined ? [] : [{ da: r.resourceTable.da, size: r.resourceTable.size }], e.resource_tables);
  }
});

test("re-signing reproduces every RSA vector byte for byte", () => {
  const rsa = loadSigningKey(file("keys/rsa2048_priv.pem"));
  const m4 = { name: "fw_demo_m4.elf", bytes: file("fw_demo_m4.elf") };
  const aux = { name: "fw_aux_a.elf", bytes: file("fw_aux_a.elf") };
  assert.deepEqual(Buffer.from(signFirmware([m4], { key: rsa })), file("fw_demo_m4.rsa2048.bin"));
  const tlvs = parsePlatformTlvs([{ id: "0x10001", value: "0x00000041" }, { id: "0x10002", value: "m4-public" }]);
  assert.deepEqual(Buffer.from(signFirmware([m4], { key: rsa, keyInfo: file("keyinfo_public.bin"), platformTlvs: tlvs })), file("fw_demo_m4.rsa2048.tlvs.bin"));
  assert.deepEqual(Buffer.from(signFirmware([m4, aux], { key: rsa })), file("fw_demo_m4+aux_a.rsa2048.multi.bin"));
});

test("ECDSA re-signing differs only in the 64 signature bytes, and verifies", () => {
  const ec = loadSigningKey(file("keys/ecp256_priv.pem"));
  assert.equal(ec.type, "ECC");
  const out = signFirmware([{ name: "m4", bytes: file("fw_demo_m4.elf") }], { key: ec });
  const ref = file("fw_demo_m4.ecp256.bin");
  assert.equal(out.length, ref.length);
  const diff: number[] = [];
  for (let i = 0; i < out.length; i++) if (out[i] !== ref[i]) diff.push(i);
  assert.ok(diff.every((i) => i >= 236 && i < 300), `differences outside the signature: ${diff.filter((i) => i < 236 || i >= 300)}`);
  assert.equal(verifySignedImage(out, file("keys/ecp256_pub.pem")).valid, true);
});

test("a passphrase-protected key signs identically; a public key cannot sign; --key-type must match", async () => {
  const { createPrivateKey } = await import("node:crypto");
  const enc = createPrivateKey(file("keys/rsa2048_priv.pem")).export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" });
  const k = loadSigningKey(enc, { password: "pw" });
  assert.deepEqual(Buffer.from(signFirmware([{ name: "m4", bytes: file("fw_demo_m4.elf") }], { key: k })), file("fw_demo_m4.rsa2048.bin"));
  assert.throws(() => loadSigningKey(enc, { password: "wrong" }), { code: "EACCES" });
  assert.throws(() => loadSigningKey(file("keys/rsa2048_pub.pem")), /cannot be used for signing/);
  assert.throws(() => loadSigningKey(file("keys/rsa2048_priv.pem"), { keyType: "ECC" }), { code: "EINVAL" });
});

test("platform TLVs follow the script: dict order, last value wins, range and width checked", () => {
  const t = parsePlatformTlvs([
    { id: "0x10002", value: "a" },
    { id: "65537", value: "0x41" },
    { id: "0x10002", value: "bb" },
    { id: "0x1_0003", value: "0X41" },
  ]);
  assert.deepEqual(t.map((x) => [x.type, Buffer.from(x.value).toString("hex")]), [
    [0x10002, "6262"],
    [0x10001, "41000000"],
    [0x10003, Buffer.from("0X41").toString("hex")],
  ]);
  assert.throws(() => parsePlatformTlvs([{ id: "0x20000", value: "x" }]), /not in range/);
  assert.throws(() => parsePlatformTlvs([{ id: "0x10001", value: "0x100000000" }]), { code: "EOVERFLOW" });
  assert.throws(() => parsePlatformTlvs([{ id: "010001", value: "x" }]), /not an integer/);
});

test("non-ARM ELF input is refused like the script's assertion", () => {
  const elf = Uint8Array.from(file("fw_demo_m4.elf"));
  elf[18] = 183;
  const rsa = loadSigningKey(file("keys/rsa2048_priv.pem"));
  assert.throws(() => signFirmware([{ name: "x.elf", bytes: elf }], { key: rsa }), /not ARM/);
});
