/**
 * Every rejection rule of spec optee-rproc §5 (items 1-12; the state errors
 * of item 13 are in ta.test.ts), each checked twice: the TA model's LOAD_FW
 * on stm32mp157 and `rproc verify`'s offline check must both return the TEE
 * error the reference TA returns, and name a field. TLV-level cases are
 * re-signed with the vector key so they get past the signature, as a
 * malicious-but-keyholding signer's image would.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { createPrivateKey, sign as rsaSign } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { TeeErrorName } from "../../src/errors.js";
import { TEE_RESULT } from "../../src/formats/signed-image-errors.js";
import { listTlvs, r8, readSignedLayout } from "../../src/formats/signed-image.js";
import { loadSigningKey } from "../../src/tee/crypto.js";
import { signFirmware } from "../../src/tee/sign.js";
import { verifySignedImage } from "../../src/tee/verify.js";
import { TA_RPROC_CMD_LOAD_FW, TEE_PARAM_TYPE_MEMREF_INPUT, TEE_PARAM_TYPE_VALUE_INPUT, teeParamTypes } from "../../src/tee/ta.js";
import { VECTORS, makeTa, vector } from "./helpers.js";

const PRIV = readFileSync(resolve(VECTORS, "keys/rsa2048_priv.pem"));
const PUB = readFileSync(resolve(VECTORS, "keys/rsa2048_pub.pem"));
const BASE = vector("fw_demo_m4.rsa2048.bin");
const LAYOUT = readSignedLayout(BASE);
const IMG = LAYOUT.imagesOffset; // 492
const ELF = readFileSync(resolve(VECTORS, "fw_demo_m4.elf"));

interface Rec {
  type: number;
  value: Uint8Array;
}
const RECORDS: Rec[] = listTlvs(BASE.subarray(20, 20 + LAYOUT.header.tlvLen), LAYOUT.header.tlvLen).map((t) => ({ type: t.type, value: Uint8Array.from(t.value) }));

/** The vector's image area under a new TLV area, signed with the vector key (header fields may be overridden before signing). */
function resign(records: Rec[], opts: { imgLen?: number; images?: Uint8Array } = {}): Uint8Array {
  const tlvLen = records.reduce((a, r) => a + 8 + r8(r.value.length), 0);
  const images = opts.images ?? BASE.subarray(IMG);
  const signOff = 20 + tlvLen;
  const out = new Uint8Array(signOff + 256 + images.length);
  const dv = new DataView(out.buffer);
  [0x3543a468, 1, tlvLen, 256, opts.imgLen ?? LAYOUT.header.imgLen].forEach((v, i) => dv.setUint32(4 * i, v, true));
  let at = 20;
  for (const r of records) {
    dv.setUint32(at, r.type, true);
    dv.setUint32(at + 4, r.value.length, true);
    out.set(r.value, at + 8);
    at += 8 + r8(r.value.length);
  }
  out.set(rsaSign("sha256", out.subarray(0, signOff), createPrivateKey(PRIV)), signOff);
  out.set(images, signOff + 256);
  return out;
}
const withTlv = (type: number, value: Uint8Array | undefined): Rec[] =>
  value === undefined ? RECORDS.filter((r) => r.type !== type) : RECORDS.map((r) => (r.type === type ? { type, value } : r));

/** The vector with bytes changed (not re-signed: for header fields and unauthenticated ELF bytes). */
function patch(edits: [number, number[]][], base: Uint8Array = BASE): Uint8Array {
  const b = Uint8Array.from(base);
  for (const [off, bytes] of edits) b.set(bytes, off);
  return b;
}
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const le16 = (v: number) => [v & 0xff, v >>> 8];
const elfU32 = (off: number) => ELF.readUInt32LE(off);
const SHOFF = elfU32(32);
const RSC_SH = SHOFF + 3 * 40; // section [3] is .resource_table
const PH0 = elfU32(28);

/** A modified input ELF signed by the vector key (so hashes match the changed segment bytes). */
function signedElf(edits: [number, number[]][]): Uint8Array {
  const e = Uint8Array.from(ELF);
  for (const [off, bytes] of edits) e.set(bytes, off);
  return signFirmware([{ name: "m4", bytes: e }], { key: loadSigningKey(PRIV) });
}
const rscFile = elfU32(RSC_SH + 16); // file offset of the table in the ELF

type Case = [string, Uint8Array, TeeErrorName, { taOnly?: boolean }?];
const hashTable = RECORDS.find((r) => r.type === 0x10)!.value;

const CASES: Case[] = [
  // 1-3: buffer, sizes, header
  ["1 empty buffer", new Uint8Array(0), "TEE_ERROR_BAD_PARAMETERS"],
  ["2 size equal to header+TLV+signature", BASE.subarray(0, IMG), "TEE_ERROR_BAD_PARAMETERS"],
  ["2 tlv_len 0", patch([[8, le32(0)]]), "TEE_ERROR_BAD_PARAMETERS"],
  ["2 sign_len 0", patch([[12, le32(0)]]), "TEE_ERROR_BAD_PARAMETERS"],
  ["2 tlv_len near 2^32 (u32 wrap)", patch([[8, le32(0xfffffff9)]]), "TEE_ERROR_BAD_PARAMETERS"],
  ["2 img_len near 2^32 (u32 wrap)", patch([[16, le32(0xfffffffc)]]), "TEE_ERROR_BAD_PARAMETERS"],
  ["3 bad magic", patch([[0, [0x69]]]), "TEE_ERROR_BAD_PARAMETERS"],
  ["3 version 2", patch([[4, le32(2)]]), "TEE_ERROR_BAD_PARAMETERS"],
  ["3 truncated by one byte", BASE.subarray(0, BASE.length - 1), "TEE_ERROR_BAD_PARAMETERS"],
  ["3 one byte appended", Uint8Array.from([...BASE, 0]), "TEE_ERROR_BAD_PARAMETERS"],
  // 4: signature
  ["4 SIGNTYPE missing", resign(withTlv(0x01, undefined)), "TEE_ERROR_BAD_PARAMETERS"],
  ["4 SIGNTYPE length 2", resign(withTlv(0x01, Uint8Array.of(1, 0))), "TEE_ERROR_BAD_PARAMETERS"],
  ["4 SIGNTYPE value 3", resign(withTlv(0x01, Uint8Array.of(3))), "TEE_ERROR_NOT_SUPPORTED"],
  ["4 signature byte flipped", patch([[LAYOUT.signOffset + 17, [BASE[LAYOUT.signOffset + 17]! ^ 1]]]), "TEE_ERROR_SIGNATURE_INVALID"],
  ["4 TLV padding byte set", patch([[20 + 8 + 1, [1]]]), "TEE_ERROR_SIGNATURE_INVALID"],
  ["4 TLV value changed (HASHTYPE)", patch([[20 + 4 * 16 + 8, [2]]]), "TEE_ERROR_SIGNATURE_INVALID"],
  // 6 (the TA checks the first ELF before the hash table): first image not ELF32
  ["8 ELF magic", patch([[IMG, [0]]]), "TEE_ERROR_BAD_FORMAT"],
  ["8 ELFCLASS64", patch([[IMG + 4, [2]]]), "TEE_ERROR_BAD_FORMAT"],
  ["8 EI_VERSION 0", patch([[IMG + 6, [0]]]), "TEE_ERROR_BAD_FORMAT"],
  ["8 e_phentsize 56", patch([[IMG + 42, le16(56)]]), "TEE_ERROR_BAD_FORMAT"],
  ["8 e_shentsize 64", patch([[IMG + 46, le16(64)]]), "TEE_ERROR_BAD_FORMAT"],
  ["8 e_phnum 0", patch([[IMG + 44, le16(0)]]), "TEE_ERROR_BAD_FORMAT"],
  ["8 section table beyond the image", patch([[IMG + 32, le32(LAYOUT.header.imgLen - 39)]]), "TEE_ERROR_BAD_FORMAT"],
  // 5: hash table
  ["5 HASHTABLE missing", resign(withTlv(0x10, undefined)), "TEE_ERROR_NO_DATA"],
  ["5 HASHTABLE empty", resign(withTlv(0x10, new Uint8Array(0))), "TEE_ERROR_NO_DATA"],
  ["5 HASHTABLE 129 bytes", resign(withTlv(0x10, Uint8Array.from([...hashTable, 0]))), "TEE_ERROR_BAD_PARAMETERS"],
  // 6: NUM_IMG
  ["6 NUM_IMG missing", resign(withTlv(0x03, undefined)), "TEE_ERROR_NO_DATA"],
  ["6 NUM_IMG length 2", resign(withTlv(0x03, Uint8Array.of(1, 0))), "TEE_ERROR_BAD_FORMAT"],
  ["6 NUM_IMG 0", resign(withTlv(0x03, Uint8Array.of(0))), "TEE_ERROR_NO_DATA"],
  // 7: IMGTYPE / IMGSIZE
  ["7 IMGTYPE missing", resign(withTlv(0x04, undefined)), "TEE_ERROR_NO_DATA"],
  ["7 IMGTYPE length 2 for 1 image", resign(withTlv(0x04, Uint8Array.of(1, 1))), "TEE_ERROR_BAD_PARAMETERS"],
  ["7 IMGTYPE 3", resign(withTlv(0x04, Uint8Array.of(3))), "TEE_ERROR_BAD_FORMAT"],
  ["7 IMGTYPE 0xff (TA sentinel)", resign(withTlv(0x04, Uint8Array.of(0xff))), "TEE_ERROR_BAD_FORMAT"],
  ["7 IMGSIZE missing", resign(withTlv(0x05, undefined)), "TEE_ERROR_NO_DATA"],
  ["7 IMGSIZE length 8 for 1 image", resign(withTlv(0x05, Uint8Array.from([...le32(9360), 0, 0, 0, 0]))), "TEE_ERROR_BAD_PARAMETERS"],
  ["7 IMGSIZE past img_len", resign(withTlv(0x05, Uint8Array.from(le32(9360 + 8)))), "TEE_ERROR_BAD_PARAMETERS"],
  // 9: program headers and segment data inside the image (program headers are not authenticated)
  ["9 program headers misaligned", patch([[IMG + 28, le32(PH0 + 2)]]), "TEE_ERROR_BAD_FORMAT"],
  ["9 program header past the image", patch([[IMG + 28, le32(LAYOUT.header.imgLen - 16)]]), "TEE_ERROR_BAD_FORMAT"],
  ["9 PT_LOAD data past the image", patch([[IMG + PH0 + 4, le32(LAYOUT.header.imgLen - 8)]]), "TEE_ERROR_BAD_FORMAT"],
  // 10: segment / hash entry pairing
  ["10 PT_LOAD with no hash entry (p_paddr moved)", patch([[IMG + PH0 + 12, le32(0x4000)]]), "TEE_ERROR_NO_DATA"],
  ["10 hash entry not PT_LOAD", resign(withTlv(0x10, patch([[0, le32(2)]], hashTable))), "TEE_ERROR_BAD_PARAMETERS"],
  ["10 p_filesz differs from the hash entry", patch([[IMG + PH0 + 16, le32(88)]]), "TEE_ERROR_BAD_PARAMETERS"],
  ["10 p_memsz differs from the hash entry", patch([[IMG + PH0 + 20, le32(96)]]), "TEE_ERROR_BAD_PARAMETERS"],
  ["10 segment content changed", patch([[IMG + 0x1000 + 3, [BASE[IMG + 0x1000 + 3]! ^ 0x40]]]), "TEE_ERROR_SECURITY"],
  // 11: platform memory ranges (the offline verifier has no platform: TA only)
  ["11 segment outside the firmware memories", signedElf([[PH0 + 8, le32(0x50000000)], [PH0 + 12, le32(0x50000000)]]), "TEE_ERROR_ACCESS_DENIED", { taOnly: true }],
  ["11 resource table outside the firmware memories", patch([[IMG + RSC_SH + 12, le32(0x50000000)]]), "TEE_ERROR_ACCESS_DENIED", { taOnly: true }],
  // 12: resource table (section headers are not authenticated; the table bytes are)
  ["12 resource table truncated (past the image)", patch([[IMG + RSC_SH + 20, le32(LAYOUT.header.imgLen)]]), "TEE_ERROR_BAD_FORMAT"],
  ["12 resource table < 16 bytes", patch([[IMG + RSC_SH + 20, le32(12)]]), "TEE_ERROR_BAD_FORMAT"],
  ["12 resource table misaligned", patch([[IMG + RSC_SH + 16, le32(rscFile + 2)]]), "TEE_ERROR_CORRUPT_OBJECT"],
  ["12 resource table version 2", signedElf([[rscFile, le32(2)]]), "TEE_ERROR_BAD_FORMAT"],
  ["12 resource table reserved word set", signedElf([[rscFile + 12, le32(1)]]), "TEE_ERROR_BAD_FORMAT"],
  ["12 resource table offsets past its end", signedElf([[rscFile + 4, le32(40)]]), "TEE_ERROR_BAD_FORMAT"],
  ["12 e_shstrndx not below e_shnum", patch([[IMG + 50, le16(40)]]), "TEE_ERROR_BAD_FORMAT"],
];

const PT = teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT, TEE_PARAM_TYPE_MEMREF_INPUT);

test("spec §5 rejections: the TA model returns the reference TA's TEE error for each, names a field, and loads nothing it accepted", () => {
  for (const [name, bytes, tee] of CASES) {
    const { ta } = makeTa();
    const s = ta.openSession(teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT), [{ a: 0 }]);
    const buf = Uint8Array.from(bytes); // fresh, 4-aligned
    const r = ta.invoke(s, TA_RPROC_CMD_LOAD_FW, PT, [{ a: 0 }, { buffer: buf }]);
    assert.equal(r.error?.teeError, tee, `${name}: ${r.error?.message}`);
    assert.equal(r.result, TEE_RESULT[tee], name);
    assert.ok((r.error?.field ?? "").length > 0, `${name}: field named`);
    assert.equal(ta.state(0), "OFF", name);
  }
});

test("spec §5 rejections: rproc verify gives the same TEE error offline", () => {
  for (const [name, bytes, tee, opt] of CASES) {
    const v = verifySignedImage(bytes, PUB);
    if (opt?.taOnly) {
      assert.equal(v.valid, true, `${name}: offline verification knows no platform memory map`);
      continue;
    }
    assert.equal(v.valid, false, name);
    assert.equal(v.error?.teeError, tee, `${name}: ${v.error?.message}`);
  }
});

test("the unmodified vector and a re-signed copy of its own TLVs load (control for the cases above)", () => {
  for (const bytes of [BASE, resign(RECORDS)]) {
    assert.deepEqual(Buffer.from(resign(RECORDS)), Buffer.from(BASE), "re-signing the same TLVs is byte-identical");
    const { ta } = makeTa();
    const s = ta.openSession(teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT), [{ a: 0 }]);
    assert.equal(ta.invoke(s, TA_RPROC_CMD_LOAD_FW, PT, [{ a: 0 }, { buffer: Uint8Array.from(bytes) }]).result, 0);
    assert.equal(verifySignedImage(bytes, PUB).valid, true);
  }
});
