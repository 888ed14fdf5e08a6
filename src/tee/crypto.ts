/**
 * Keys and signatures for the signed image, with Node's own crypto only.
 * RSA: RSASSA-PKCS1-v1_5 with SHA-256 (deterministic). ECDSA: P-256 with
 * SHA-256, raw r || s (IEEE P1363), as sign_rproc_fw.py writes it.
 */
import {
  constants,
  createPrivateKey,
  createPublicKey,
  publicDecrypt,
  sign as cryptoSign,
  verify as cryptoVerify,
  timingSafeEqual,
  type KeyObject,
} from "node:crypto";
import { RprocError } from "../errors.js";
import { SIGN_TYPE_ECDSA_P256_SHA256, SIGN_TYPE_RSA_PKCS1_V1_5_SHA256 } from "../formats/signed-image.js";

export type KeyType = "RSA" | "ECC";

export const ECDSA_P256_SIGNATURE_SIZE = 64;

/** DER prefix of DigestInfo for SHA-256 (RFC 8017 §9.2 note 1). */
const SHA256_DIGEST_INFO = Uint8Array.from([0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]);

function keyTypeOf(key: KeyObject, what: string): KeyType {
  if (key.asymmetricKeyType === "rsa") return "RSA";
  if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve !== "prime256v1") {
      throw new RprocError("EOPNOTSUPP", `${what}: EC curve ${curve ?? "unknown"} not supported; the format's ECDSA signature is P-256 (64 bytes)`, { field: "key", value: curve ?? "unknown" });
    }
    return "ECC";
  }
  throw new RprocError("EOPNOTSUPP", `${what}: ${key.asymmetricKeyType ?? "unknown"} keys are not supported (RSA or EC P-256)`, { field: "key" });
}

export interface SigningKey {
  key: KeyObject;
  type: KeyType;
  signType: number;
  signLen: number;
}

/** A PEM/DER private key, optionally passphrase-protected. A public key is refused as the script does. */
export function loadSigningKey(pem: Uint8Array | string, opts: { password?: string; keyType?: KeyType; source?: string } = {}): SigningKey {
  const what = opts.source ?? "key";
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: typeof pem === "string" ? pem : Buffer.from(pem), passphrase: opts.password });
  } catch (e) {
    let isPublic = false;
    try {
      createPublicKey(typeof pem === "string" ? pem : Buffer.from(pem));
      isPublic = true;
    } catch {
      /* not a public key either */
    }
    const msg = isPublic ? `${what}: provided key cannot be used for signing (it is a public key)` : `${what}: cannot read the private key: ${(e as Error).message}`;
    throw new RprocError(isPublic ? "EINVAL" : "EACCES", msg, { field: "key", cause: e });
  }
  const type = keyTypeOf(key, what);
  if (opts.keyType !== undefined && opts.keyType !== type) {
    throw new RprocError("EINVAL", `${what}: --key-type ${opts.keyType} does not match the key, which is ${type}`, { field: "key-type", value: opts.keyType });
  }
  const signLen = type === "RSA" ? Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8) : ECDSA_P256_SIGNATURE_SIZE;
  return { key, type, signType: type === "RSA" ? SIGN_TYPE_RSA_PKCS1_V1_5_SHA256 : SIGN_TYPE_ECDSA_P256_SHA256, signLen };
}

export function signMessage(k: SigningKey, message: Uint8Array): Uint8Array {
  if (k.type === "RSA") return cryptoSign("sha256", message, k.key);
  return cryptoSign("sha256", message, { key: k.key, dsaEncoding: "ieee-p1363" });
}

/** A public key (or the public half of a private key) for verification. */
export function loadVerifyKey(pem: Uint8Array | string, source = "key"): { key: KeyObject; type: KeyType } {
  let key: KeyObject;
  try {
    key = createPublicKey(typeof pem === "string" ? pem : Buffer.from(pem));
  } catch (e) {
    throw new RprocError("EINVAL", `${source}: cannot read the public key: ${(e as Error).message}`, { field: "key", cause: e });
  }
  return { key, type: keyTypeOf(key, source) };
}

/** Signature over the message (what `rproc verify` checks; equivalent to the PTA's digest check). */
export function verifyMessage(pub: { key: KeyObject; type: KeyType }, signType: number, message: Uint8Array, signature: Uint8Array): boolean {
  if (signType === SIGN_TYPE_RSA_PKCS1_V1_5_SHA256) {
    if (pub.type !== "RSA") return false;
    return cryptoVerify("sha256", message, pub.key, signature);
  }
  if (signType === SIGN_TYPE_ECDSA_P256_SHA256) {
    if (pub.type !== "ECC" || signature.length !== ECDSA_P256_SIGNATURE_SIZE) return false;
    return cryptoVerify("sha256", message, { key: pub.key, dsaEncoding: "ieee-p1363" }, signature);
  }
  return false;
}

/**
 * RSASSA-PKCS1-v1_5 verification of a precomputed SHA-256 digest, as the
 * PTA's crypto_acipher_rsassa_verify does: the signature must be exactly the
 * modulus size; the decoded block must be DigestInfo(SHA-256) || digest.
 */
export function verifyRsaDigest(pub: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
  const modBytes = Math.ceil((pub.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  if (signature.length !== modBytes || digest.length !== 32) return false;
  let decoded: Buffer;
  try {
    decoded = publicDecrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
  const expected = Buffer.concat([SHA256_DIGEST_INFO, digest]);
  return decoded.length === expected.length && timingSafeEqual(decoded, expected);
}
