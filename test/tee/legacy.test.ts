// ST's older downstream signed layouts (spec optee-rproc §1.8) reuse magic 0x3543A468 and version 1:
// they must be recognised and refused with a message saying which layout it is, everywhere.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { createHash, createSign } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseSignedImage } from "../../src/formats/signed-image.js";
import { TEE_RESULT } from "../../src/formats/signed-image-errors.js";
import { inspect, isRejection } from "../../src/inspect.js";
import { verifySignedImage } from "../../src/tee/verify.js";
import { TA_RPROC_CMD_LOAD_FW, TEE_PARAM_TYPE_MEMREF_INPUT, TEE_PARAM_TYPE_VALUE_INPUT, teeParamTypes } from "../../src/tee/ta.js";
import { VECTORS, makeTa } from "./helpers.js";

const file = (n: string) => readFileSync(resolve(VECTORS, n));
const MAGIC = 0x3543a468;

function words(...w: number[]): Buffer {
  const b = Buffer.alloc(4 * w.length);
  w.forEach((x, i) => b.writeUInt32LE(x >>> 0, 4 * i));
  return b;
}

function rsaSign(message: Uint8Array): Buffer {
  return createSign("sha256").update(message).sign(file("keys/rsa2048_priv.pem"));
}

/** ST 2020: 56-byte header of 14 u32 with offsets, then hash table, key info, signature, raw ELF; signed = header || hash || key info. */
function st2020(elf: Buffer): Buffer {
  const hash = createHash("sha256").update(elf).digest();
  const keyInfo = Buffer.from("KEYID:st");
  const hashOff = 56;
  const keyOff = hashOff + hash.length;
  const signOff = keyOff + keyInfo.length;
  const imgOff = signOff + 256;
  const header = words(MAGIC, 1, 56, 256, signOff, 1, hash.length, hashOff, 1, keyInfo.length, keyOff, elf.length, imgOff, 1);
  const signed = Buffer.concat([header, hash, keyInfo]);
  return Buffer.concat([signed, rsaSign(signed), elf]);
}

/** ST "trailer": 24-byte header (magic, version, sign_len, img_len, tlv_len, plat_tlv_len), signature, ELF, then TLV blocks {u32 magic, u32 size} of {u8 type, u8 0, u16 length} records. */
function stTrailer(elf: Buffer): Buffer {
  const rec = (type: number, value: Buffer) => Buffer.concat([Buffer.from([type, 0]), Buffer.from([value.length & 0xff, value.length >> 8]), value]);
  const generic = rec(1, Buffer.from([1]));
  const platform = rec(2, Buffer.from("m4"));
  const blocks = Buffer.concat([words(0x6907, generic.length), generic, words(0x6908, platform.length), platform]);
  const header = words(MAGIC, 1, 256, elf.length, 8 + generic.length, 8 + platform.length);
  return Buffer.concat([header, rsaSign(Buffer.concat([header, elf, blocks])), elf, blocks]);
}

const LAYOUTS: [string, (elf: Buffer) => Buffer, RegExp][] = [
  ["ST 2020", st2020, /ST's 2020 downstream layout .*no longer loads/],
  ["ST trailer", stTrailer, /ST's downstream 'trailer' layout .*does not load/],
];

for (const [name, build, says] of LAYOUTS) {
  test(`${name} layout: recognised and refused by the parser, verify, the TA and inspect, saying which layout`, () => {
    // The demo ELF (9356 bytes, not a multiple of 8) and a padded copy: recognition must not depend on it.
    for (const elf of [file("fw_demo_m4.elf"), Buffer.concat([file("fw_demo_m4.elf"), Buffer.alloc(4)])]) {
      const img = Uint8Array.from(build(elf));
      assert.deepEqual([...img.subarray(0, 4)], [0x68, 0xa4, 0x43, 0x35], "same magic as the current format");
      assert.throws(() => parseSignedImage(img), (e: unknown) => {
        const err = e as { code: string; teeError: string; field: string; message: string };
        assert.equal(err.teeError, "TEE_ERROR_BAD_PARAMETERS");
        assert.equal(err.code, "EINVAL");
        assert.equal(err.field, "header");
        assert.match(err.message, says);
        assert.match(err.message, /re-sign with sign_rproc_fw\.py or `rproc sign`/);
        return true;
      });
      const v = verifySignedImage(img, file("keys/rsa2048_pub.pem"));
      assert.equal(v.valid, false);
      assert.match(v.error!.message, says);
      const { ta } = makeTa();
      const s = ta.openSession(teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT), [{ a: 0 }]);
      const r = ta.invoke(s, TA_RPROC_CMD_LOAD_FW, teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT, TEE_PARAM_TYPE_MEMREF_INPUT), [{ a: 0 }, { buffer: img }]);
      assert.equal(r.result, TEE_RESULT.TEE_ERROR_BAD_PARAMETERS);
      assert.equal(ta.state(0), "OFF");
      const i = inspect(img, { file: "legacy.bin" });
      assert.ok(isRejection(i));
      assert.match(i.error.message, says);
      assert.equal(i.error.teeError, "TEE_ERROR_BAD_PARAMETERS");
    }
  });
}

test("a plain truncated or extended current-format image is not mistaken for a legacy layout", () => {
  const b = Uint8Array.from(file("fw_demo_m4.rsa2048.bin"));
  for (const [bytes, why] of [
    [b.subarray(0, b.length - 8), /\(truncated\)$/],
    [Uint8Array.from([...b, 0, 0, 0, 0, 0, 0, 0, 0]), /\(trailing bytes\)$/],
  ] as const) {
    assert.throws(() => parseSignedImage(bytes), (e: unknown) => {
      const m = (e as Error).message;
      assert.match(m, why);
      assert.doesNotMatch(m, /downstream/);
      return true;
    });
  }
});
