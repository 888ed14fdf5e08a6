/**
 * ECDSA P-256 verification of a precomputed SHA-256 digest (FIPS 186-4
 * §6.4.2, SEC 1 v2 §4.1.4), in plain bigint arithmetic.
 *
 * Why not node:crypto: `crypto.verify("sha256", ...)` hashes the message
 * itself, and Node offers no "prehashed" ECDSA verify, while the remoteproc
 * TA hands the platform PTA only SHA-256(header || TLV area). This module is
 * what the PTA model uses for SIGNTYPE 2 (TEE_ALG_ECDSA_P256).
 *
 * Verification only: every input is public, so nothing here needs to be
 * constant-time. Points use Jacobian coordinates (X/Z², Y/Z³) so the ladder
 * needs a single field inversion at the end; u1·G + u2·Q is computed with
 * Shamir's trick (one shared doubling chain).
 */
import { KeyObject } from "node:crypto";
import { RprocError } from "../errors.js";

/** Curve P-256 (FIPS 186-4 D.1.2.3; SEC 2 secp256r1): y² = x³ − 3x + b over GF(p), prime order n. */
export const P256 = {
  p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
  n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
} as const;

export const P256_DIGEST_SIZE = 32;
export const P256_SIGNATURE_SIZE = 64;

/** An affine point; `undefined` stands for the point at infinity where it can occur. */
export interface P256Point {
  x: bigint;
  y: bigint;
}

interface Jacobian {
  x: bigint;
  y: bigint;
  z: bigint; // 0 = point at infinity
}

const { p: P, n: N } = P256;
const INF: Jacobian = { x: 1n, y: 1n, z: 0n };

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

/** a⁻¹ mod m by the extended Euclidean algorithm (m prime, a ≢ 0). */
function inv(a: bigint, m: bigint): bigint {
  let [r0, r1] = [mod(a, m), m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RprocError("EINVAL", "ECDSA P-256: value has no modular inverse", { field: "inverse" });
  return mod(s0, m);
}

export function isOnCurve(pt: P256Point): boolean {
  const { x, y } = pt;
  if (x < 0n || x >= P || y < 0n || y >= P) return false;
  return mod(y * y - (x * x * x - 3n * x + P256.b), P) === 0n;
}

/** dbl-2001-b (a = −3): 2·P. A point with y = 0 would give z = 0, infinity, as it should. */
function double(p1: Jacobian): Jacobian {
  if (p1.z === 0n) return INF;
  const delta = mod(p1.z * p1.z, P);
  const gamma = mod(p1.y * p1.y, P);
  const beta = mod(p1.x * gamma, P);
  const alpha = mod(3n * (p1.x - delta) * (p1.x + delta), P);
  const x3 = mod(alpha * alpha - 8n * beta, P);
  const z3 = mod((p1.y + p1.z) * (p1.y + p1.z) - gamma - delta, P);
  const y3 = mod(alpha * (4n * beta - x3) - 8n * gamma * gamma, P);
  return { x: x3, y: y3, z: z3 };
}

/** General Jacobian addition (add-1998-cmo-2), with the P = Q and P = −Q cases handled. */
function add(p1: Jacobian, p2: Jacobian): Jacobian {
  if (p1.z === 0n) return p2;
  if (p2.z === 0n) return p1;
  const z1z1 = mod(p1.z * p1.z, P);
  const z2z2 = mod(p2.z * p2.z, P);
  const u1 = mod(p1.x * z2z2, P);
  const u2 = mod(p2.x * z1z1, P);
  const s1 = mod(p1.y * p2.z * z2z2, P);
  const s2 = mod(p2.y * p1.z * z1z1, P);
  const h = mod(u2 - u1, P);
  const r = mod(s2 - s1, P);
  if (h === 0n) return r === 0n ? double(p1) : INF;
  const hh = mod(h * h, P);
  const hhh = mod(hh * h, P);
  const v = mod(u1 * hh, P);
  const x3 = mod(r * r - hhh - 2n * v, P);
  const y3 = mod(r * (v - x3) - s1 * hhh, P);
  const z3 = mod(h * p1.z * p2.z, P);
  return { x: x3, y: y3, z: z3 };
}

function toAffine(pt: Jacobian): P256Point | undefined {
  if (pt.z === 0n) return undefined;
  const zi = inv(pt.z, P);
  const zi2 = mod(zi * zi, P);
  return { x: mod(pt.x * zi2, P), y: mod(pt.y * zi2 * zi, P) };
}

const jac = (pt: P256Point): Jacobian => ({ x: pt.x, y: pt.y, z: 1n });

/** u1·A + u2·B by Shamir's trick (scalars taken as they are, 0 ≤ u < 2²⁵⁶); undefined = infinity. */
export function p256MulAdd(u1: bigint, a: P256Point, u2: bigint, b: P256Point): P256Point | undefined {
  const ja = jac(a);
  const jb = jac(b);
  const jab = add(ja, jb);
  let acc = INF;
  const bits = Math.max(u1.toString(2).length, u2.toString(2).length);
  for (let i = bits - 1; i >= 0; i--) {
    acc = double(acc);
    const b1 = (u1 >> BigInt(i)) & 1n;
    const b2 = (u2 >> BigInt(i)) & 1n;
    if (b1 === 1n && b2 === 1n) acc = add(acc, jab);
    else if (b1 === 1n) acc = add(acc, ja);
    else if (b2 === 1n) acc = add(acc, jb);
  }
  return toAffine(acc);
}

export const P256_G: P256Point = { x: P256.gx, y: P256.gy };

/** k·P (P defaults to the base point G); undefined = infinity. */
export function p256Mul(k: bigint, pt: P256Point = P256_G): P256Point | undefined {
  return p256MulAdd(k, pt, 0n, pt);
}

function bytesToBigint(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt("0x" + Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex"));
}

/**
 * The public point of a P-256 key: a node KeyObject (public, or private whose
 * public half is used) exported as JWK, or the SEC1 uncompressed encoding
 * 04 || X || Y (65 bytes). Refuses (EINVAL, field "publicKey") another key
 * type or curve, another encoding, or a point that is not on the curve (SEC1
 * §3.2.2.1; P-256 has cofactor 1, so on-curve and ≠ infinity is enough).
 */
export function p256PublicPoint(key: KeyObject | Uint8Array): P256Point {
  let pt: P256Point;
  if (key instanceof Uint8Array) {
    if (key.length !== 65 || key[0] !== 0x04) {
      throw new RprocError("EINVAL", `ECDSA P-256 public key: expected the 65-byte uncompressed point 04 || X || Y, got ${key.length} bytes${key.length > 0 ? ` starting 0x${key[0]!.toString(16).padStart(2, "0")}` : ""}`, {
        field: "publicKey",
        value: key.length,
        limit: 65,
      });
    }
    pt = { x: bytesToBigint(key.subarray(1, 33)), y: bytesToBigint(key.subarray(33, 65)) };
  } else {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (key.asymmetricKeyType !== "ec" || curve !== "prime256v1") {
      throw new RprocError("EINVAL", `ECDSA P-256 public key: the key is ${key.asymmetricKeyType ?? "unknown"}${curve !== undefined ? ` ${curve}` : ""}, not EC P-256 (prime256v1)`, { field: "publicKey" });
    }
    const jwk = key.export({ format: "jwk" });
    if (typeof jwk.x !== "string" || typeof jwk.y !== "string") throw new RprocError("EINVAL", "ECDSA P-256 public key: JWK export has no x/y", { field: "publicKey" });
    pt = { x: bytesToBigint(Buffer.from(jwk.x, "base64url")), y: bytesToBigint(Buffer.from(jwk.y, "base64url")) };
  }
  if (!isOnCurve(pt)) throw new RprocError("EINVAL", "ECDSA P-256 public key: the point is not on the curve", { field: "publicKey" });
  return pt;
}

/**
 * ECDSA P-256 verification of `digest` (the 32-byte SHA-256 output) against
 * `signature` = r || s, 32 bytes each, big-endian (IEEE P1363, what
 * sign_rproc_fw.py writes). False for any other digest or signature length,
 * r or s outside [1, n−1], R = infinity, or R.x mod n ≠ r. A malformed key
 * throws (see p256PublicPoint): it is configuration, not signed input.
 */
export function verifyEcdsaP256Digest(publicKey: KeyObject | Uint8Array | P256Point, digest: Uint8Array, signature: Uint8Array): boolean {
  let q: P256Point;
  if (publicKey instanceof Uint8Array || publicKey instanceof KeyObject) {
    q = p256PublicPoint(publicKey);
  } else {
    q = publicKey;
    if (!isOnCurve(q)) throw new RprocError("EINVAL", "ECDSA P-256 public key: the point is not on the curve", { field: "publicKey" });
  }
  if (digest.length !== P256_DIGEST_SIZE || signature.length !== P256_SIGNATURE_SIZE) return false;
  const r = bytesToBigint(signature.subarray(0, 32));
  const s = bytesToBigint(signature.subarray(32, 64));
  if (r < 1n || r >= N || s < 1n || s >= N) return false;
  // The hash is as long as n (256 bits), so e is the whole digest (FIPS 186-4 §6.4, leftmost min(N, outlen) bits).
  const e = mod(bytesToBigint(digest), N);
  const w = inv(s, N);
  const rr = p256MulAdd(mod(e * w, N), P256_G, mod(r * w, N), q);
  if (rr === undefined) return false;
  return mod(rr.x, N) === r;
}
