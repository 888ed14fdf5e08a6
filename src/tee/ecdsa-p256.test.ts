import { test } from "node:test";
import * as assert from "node:assert/strict";
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { P256, P256_G, isOnCurve, p256Mul, p256MulAdd, p256PublicPoint, verifyEcdsaP256Digest } from "./ecdsa-p256.js";

const VECTORS = resolve(dirname(fileURLToPath(import.meta.url)), "../../fixtures/vectors/optee");
const sha256 = (b: Uint8Array): Uint8Array => createHash("sha256").update(b).digest();
const big = (b: Uint8Array): bigint => BigInt("0x" + Buffer.from(b).toString("hex"));
const be32 = (v: bigint): Uint8Array => Buffer.from(v.toString(16).padStart(64, "0"), "hex");
const nodeVerify = (key: KeyObject, msg: Uint8Array, sig: Uint8Array): boolean => verify("sha256", msg, { key, dsaEncoding: "ieee-p1363" }, sig);

function flipBit(b: Uint8Array, bit: number): Uint8Array {
  const c = Uint8Array.from(b);
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
}

test("point arithmetic: G on the curve, n·G = infinity, (n−1)·G = −G, G + G = 2·G, d·G = the key's public point", () => {
  assert.ok(isOnCurve(P256_G));
  assert.equal(p256Mul(P256.n), undefined);
  assert.deepEqual(p256Mul(P256.n - 1n), { x: P256.gx, y: P256.p - P256.gy });
  const twoG = p256Mul(2n)!;
  assert.ok(isOnCurve(twoG));
  assert.deepEqual(p256MulAdd(1n, P256_G, 1n, P256_G), twoG, "the addition's doubling case");
  assert.equal(p256MulAdd(1n, P256_G, P256.n - 1n, P256_G), undefined, "G + (−G)");
  for (let i = 0; i < 8; i++) {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = privateKey.export({ format: "jwk" });
    const d = big(Buffer.from(jwk.d!, "base64url"));
    assert.deepEqual(p256Mul(d), { x: big(Buffer.from(jwk.x!, "base64url")), y: big(Buffer.from(jwk.y!, "base64url")) });
  }
});

test("agrees with node:crypto on random keys and messages, valid and tampered", () => {
  const keys = Array.from({ length: 12 }, () => generateKeyPairSync("ec", { namedCurve: "P-256" }));
  let valid = 0;
  let checked = 0;
  for (const [k, { privateKey, publicKey }] of keys.entries()) {
    const other = keys[(k + 1) % keys.length]!.publicKey;
    for (let m = 0; m < 4; m++) {
      const msg = randomBytes(1 + ((k * 31 + m * 17) % 300));
      const sig = sign("sha256", msg, { key: privateKey, dsaEncoding: "ieee-p1363" });
      const digest = sha256(msg);
      const r = big(sig.subarray(0, 32));
      const s = big(sig.subarray(32));
      const cases: { what: string; msg: Uint8Array; sig: Uint8Array; key: KeyObject; expect: boolean }[] = [
        { what: "valid", msg, sig, key: publicKey, expect: true },
        // ECDSA is malleable: (r, n − s) verifies too, and OpenSSL accepts it.
        { what: "(r, n−s)", msg, sig: Buffer.concat([be32(r), be32(P256.n - s)]), key: publicKey, expect: true },
        { what: "flipped message bit", msg: flipBit(msg, (m * 7) % (msg.length * 8)), sig, key: publicKey, expect: false },
        { what: "flipped r bit", msg, sig: flipBit(sig, (k * 13 + m) % 256), key: publicKey, expect: false },
        { what: "flipped s bit", msg, sig: flipBit(sig, 256 + ((k * 11 + m) % 256)), key: publicKey, expect: false },
        { what: "r = 0", msg, sig: Buffer.concat([be32(0n), be32(s)]), key: publicKey, expect: false },
        { what: "s = 0", msg, sig: Buffer.concat([be32(r), be32(0n)]), key: publicKey, expect: false },
        { what: "s = n", msg, sig: Buffer.concat([be32(r), be32(P256.n)]), key: publicKey, expect: false },
        { what: "r + n", msg, sig: Buffer.concat([be32(r + P256.n < 2n ** 256n ? r + P256.n : P256.n), be32(s)]), key: publicKey, expect: false },
        { what: "random signature", msg, sig: randomBytes(64), key: publicKey, expect: false },
        { what: "wrong key", msg, sig, key: other, expect: false },
      ];
      for (const c of cases) {
        const ours = verifyEcdsaP256Digest(c.key, sha256(c.msg), c.sig);
        assert.equal(ours, nodeVerify(c.key, c.msg, c.sig), `key ${k} msg ${m}: ${c.what} disagrees with node:crypto`);
        assert.equal(ours, c.expect, `key ${k} msg ${m}: ${c.what}`);
        checked++;
        if (ours) valid++;
      }
      // The flipped digest bit (the PTA sees only the digest): the same signature fails.
      assert.equal(verifyEcdsaP256Digest(publicKey, flipBit(digest, (k + m * 5) % 256), sig), false, `key ${k} msg ${m}: flipped digest bit`);
    }
  }
  assert.equal(checked, 12 * 4 * 11);
  assert.equal(valid, 12 * 4 * 2);
});

test("key forms: KeyObject (public or private), uncompressed point, affine point; refusals", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const msg = randomBytes(100);
  const sig = sign("sha256", msg, { key: privateKey, dsaEncoding: "ieee-p1363" });
  const d = sha256(msg);
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-65);
  assert.equal(raw[0], 0x04);
  for (const key of [publicKey, privateKey, Uint8Array.from(raw), p256PublicPoint(publicKey)]) assert.equal(verifyEcdsaP256Digest(key, d, sig), true);
  assert.deepEqual(p256PublicPoint(Uint8Array.from(raw)), p256PublicPoint(publicKey));
  assert.equal(verifyEcdsaP256Digest(publicKey, d.subarray(0, 31), sig), false, "31-byte digest");
  assert.equal(verifyEcdsaP256Digest(publicKey, d, sig.subarray(0, 63)), false, "63-byte signature");
  assert.equal(verifyEcdsaP256Digest(publicKey, d, Buffer.concat([sig, Buffer.of(0)])), false, "65-byte signature");
  const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey;
  assert.throws(() => verifyEcdsaP256Digest(rsa, d, sig), { code: "EINVAL", field: "publicKey" });
  const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey;
  assert.throws(() => p256PublicPoint(p384), { code: "EINVAL", field: "publicKey", message: /secp384r1/ });
  const offCurve = Uint8Array.from(raw);
  offCurve[64]! ^= 1;
  assert.throws(() => p256PublicPoint(offCurve), { code: "EINVAL", message: /not on the curve/ });
  assert.throws(() => verifyEcdsaP256Digest({ x: 1n, y: 1n }, d, sig), { code: "EINVAL", message: /not on the curve/ });
  const compressed = publicKey.export({ format: "der", type: "spki" }).subarray(-65, -32);
  assert.throws(() => p256PublicPoint(Uint8Array.from(compressed)), { code: "EINVAL", field: "publicKey", message: /65-byte uncompressed/ });
  assert.throws(() => p256PublicPoint(new Uint8Array(0)), { code: "EINVAL", field: "publicKey" });
});

test("OP-TEE vector fw_demo_m4.ecp256.bin: SHA-256 of header || TLV area verifies with keys/ecp256_pub.pem", () => {
  const img = readFileSync(resolve(VECTORS, "fw_demo_m4.ecp256.bin"));
  const key = createPublicKey(readFileSync(resolve(VECTORS, "keys/ecp256_pub.pem")));
  // Header 20 bytes + TLV area R8(216) = 236 bytes are signed; the 64-byte r || s follows.
  assert.equal(img.readUInt32LE(8), 216, "tlv_len");
  assert.equal(img.readUInt32LE(12), 64, "sign_len");
  const digest = sha256(img.subarray(0, 236));
  const sig = img.subarray(236, 300);
  assert.equal(verifyEcdsaP256Digest(key, digest, sig), true);
  assert.equal(nodeVerify(key, img.subarray(0, 236), sig), true, "node agrees");
  assert.equal(verifyEcdsaP256Digest(key, flipBit(digest, 0), sig), false);
  assert.equal(verifyEcdsaP256Digest(key, digest, flipBit(sig, 300)), false);
});

test("one verification stays well under 50 ms", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const msg = randomBytes(236);
  const sig = sign("sha256", msg, { key: privateKey, dsaEncoding: "ieee-p1363" });
  const d = sha256(msg);
  verifyEcdsaP256Digest(publicKey, d, sig); // warm-up (JIT)
  const runs = 20;
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) assert.equal(verifyEcdsaP256Digest(publicKey, d, sig), true);
  const perVerify = (performance.now() - t0) / runs;
  assert.ok(perVerify < 50, `${perVerify.toFixed(2)} ms per verification`);
});
