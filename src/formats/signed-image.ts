/**
 * OP-TEE remoteproc signed image (header version 1, as written by optee_os
 * scripts/sign_rproc_fw.py and read by ta/remoteproc): header, TLV area,
 * signature, image area. Pure functions over bytes.
 *
 * The building blocks below are the TA's own checks, one function each, so
 * the TA model (src/tee/load-fw.ts) can call them in the TA's order and the
 * same corruption gives the same TEE error everywhere. All sizes are checked
 * with exact arithmetic: where the C TA lets a u32 wrap (ROUNDUP_64 of a
 * length near 2^32), we refuse with BAD_PARAMETERS instead.
 */
import { hex } from "../errors.js";
import { teeError } from "./signed-image-errors.js";
import { describeLegacyLayout } from "./signed-image-legacy.js";
import { readPhdr, u32 as u32le, type Elf32Phdr } from "./signed-image-elf.js";

export const SIGNED_IMAGE_MAGIC = 0x3543a468;
export const SIGNED_IMAGE_VERSION = 1;
export const SIGNED_HEADER_SIZE = 20;

export const TLV_SIGNTYPE = 0x01;
export const TLV_HASHTYPE = 0x02;
export const TLV_NUM_IMG = 0x03;
export const TLV_IMGTYPE = 0x04;
export const TLV_IMGSIZE = 0x05;
export const TLV_HASHTABLE = 0x10;
export const TLV_PKEYINFO = 0x11;
export const PLAT_TLV_MIN = 0x10000;
export const PLAT_TLV_MAX = 0x1ffff;
/** Our platform TLVs for encrypted images (docs/encrypted-images.md). */
export const TLV_ENC_ALGO = 0x10100;
export const TLV_ENC_IVS = 0x10101;

export const SIGN_TYPE_RSA_PKCS1_V1_5_SHA256 = 1;
export const SIGN_TYPE_ECDSA_P256_SHA256 = 2;
export const HASH_TYPE_SHA256 = 1;
export const IMG_TYPE_ELF = 1;
/** Our extension: an ELF whose PT_LOAD file bytes are AES encrypted. An upstream TA refuses it (BAD_FORMAT). */
export const IMG_TYPE_ENCRYPTED_ELF = 2;
export const HASH_ENTRY_SIZE = 64;

export const TLV_NAMES: Record<number, string> = {
  [TLV_SIGNTYPE]: "SIGNTYPE",
  [TLV_HASHTYPE]: "HASHTYPE",
  [TLV_NUM_IMG]: "NUM_IMG",
  [TLV_IMGTYPE]: "IMGTYPE",
  [TLV_IMGSIZE]: "IMGSIZE",
  [TLV_HASHTABLE]: "HASHTABLE",
  [TLV_PKEYINFO]: "PKEYINFO",
  [TLV_ENC_ALGO]: "ENC_ALGO",
  [TLV_ENC_IVS]: "ENC_IVS",
};

export function tlvName(type: number): string {
  const known = TLV_NAMES[type];
  if (known !== undefined) return known;
  if (type >= PLAT_TLV_MIN && type <= PLAT_TLV_MAX) return "PLATFORM";
  return "UNKNOWN";
}

const U32_MAX = 0xffffffff;

/** Round up to a multiple of 8 (the format's ROUNDUP_64). Exact: may exceed 2^32, callers check. */
export function r8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

export interface SignedHeader {
  magic: number;
  version: number;
  tlvLen: number;
  signLen: number;
  imgLen: number;
}

/** Where each chunk starts: offsets are file offsets. */
export interface SignedLayout {
  header: SignedHeader;
  tlvOffset: number;
  signOffset: number;
  imagesOffset: number;
  /** 20 + R8(tlv_len) + R8(sign_len) + R8(img_len): the only valid file size. */
  totalSize: number;
}

function sumU32(parts: number[], field: string): number {
  const total = parts.reduce((a, b) => a + b, 0);
  if (total > U32_MAX) {
    throw teeError("TEE_ERROR_BAD_PARAMETERS", `${field}: size sum ${hex(total)} overflows 32 bits`, { field, value: total, limit: U32_MAX });
  }
  return total;
}

/**
 * The TA's remoteproc_save_fw_header_and_tlvs + remoteproc_verify_header
 * (LOAD_FW steps 2-3): buffer non-empty, header/TLV/signature prefix inside
 * the buffer, non-zero tlv_len and sign_len, magic, version, exact file size.
 * A size mismatch on a buffer that looks like one of ST's older layouts says so.
 */
export function readSignedLayout(bytes: Uint8Array): SignedLayout {
  const size = bytes.length;
  if (size === 0) throw teeError("TEE_ERROR_BAD_PARAMETERS", "signed image: empty buffer", { field: "buffer", value: 0 });
  if (size < SIGNED_HEADER_SIZE) {
    throw teeError("TEE_ERROR_BAD_PARAMETERS", `signed image: ${size} bytes, smaller than the ${SIGNED_HEADER_SIZE}-byte header`, {
      field: "header",
      value: size,
      limit: SIGNED_HEADER_SIZE,
    });
  }
  const header: SignedHeader = {
    magic: u32le(bytes, 0),
    version: u32le(bytes, 4),
    tlvLen: u32le(bytes, 8),
    signLen: u32le(bytes, 12),
    imgLen: u32le(bytes, 16),
  };
  const prefix = sumU32([SIGNED_HEADER_SIZE, r8(header.tlvLen), r8(header.signLen)], "header.tlv_len+sign_len");
  if (size <= prefix) {
    throw teeError("TEE_ERROR_BAD_PARAMETERS", `signed image: ${size} bytes, not more than header + TLV + signature (${prefix})`, {
      field: "header.tlv_len",
      value: size,
      limit: prefix,
    });
  }
  if (header.signLen === 0) throw teeError("TEE_ERROR_BAD_PARAMETERS", "signed image: sign_len is 0", { field: "header.sign_len", value: 0 });
  if (header.tlvLen === 0) throw teeError("TEE_ERROR_BAD_PARAMETERS", "signed image: tlv_len is 0", { field: "header.tlv_len", value: 0 });
  if (header.magic !== SIGNED_IMAGE_MAGIC) {
    throw teeError("TEE_ERROR_BAD_PARAMETERS", `signed image: bad magic ${hex(header.magic)} (expected ${hex(SIGNED_IMAGE_MAGIC)})`, {
      field: "header.magic",
      value: header.magic,
    });
  }
  if (header.version !== SIGNED_IMAGE_VERSION) {
    throw teeError("TEE_ERROR_BAD_PARAMETERS", `signed image: unsupported header version ${header.version} (only 1)`, {
      field: "header.version",
      value: header.version,
      limit: SIGNED_IMAGE_VERSION,
    });
  }
  const totalSize = sumU32([SIGNED_HEADER_SIZE, r8(header.signLen), r8(header.imgLen), r8(header.tlvLen)], "header.img_len");
  if (size !== totalSize) {
    const legacy = describeLegacyLayout(bytes);
    const why = legacy !== undefined ? `; ${legacy}` : size < totalSize ? " (truncated)" : " (trailing bytes)";
    throw teeError("TEE_ERROR_BAD_PARAMETERS", `signed image: file size ${size} differs from the size the header declares, ${totalSize}${why}`, {
      field: legacy !== undefined ? "header" : "header.img_len",
      value: size,
      limit: totalSize,
    });
  }
  const signOffset = SIGNED_HEADER_SIZE + r8(header.tlvLen);
  return { header, tlvOffset: SIGNED_HEADER_SIZE, signOffset, imagesOffset: signOffset + r8(header.signLen), totalSize };
}

/** One TLV record as stored (for inspect): `fits` false when its value runs past tlv_len (the TA never sees it). */
export interface TlvRecord {
  type: number;
  length: number;
  /** Offset of the record in the TLV area. */
  offset: number;
  value: Uint8Array;
  fits: boolean;
  /** Padding after the value is all zero (the signer writes zeros; the signature covers padding either way). */
  paddingZero: boolean;
}

/** The TA's walk over the TLV area: records while 8 header bytes remain, stopping after a value that overruns tlv_len. */
function* walkTlvs(area: Uint8Array, tlvLen: number): Generator<{ type: number; length: number; offset: number; valueOff: number; fits: boolean }> {
  let off = 0;
  while (off + 8 <= tlvLen) {
    const length = u32le(area, off + 4);
    const valueOff = off + 8;
    const fits = valueOff + length <= tlvLen;
    yield { type: u32le(area, off), length, offset: off, valueOff, fits };
    if (!fits) return;
    off = valueOff + r8(length);
  }
}

/** Every record in walk order (for inspect), the last one possibly overrunning. */
export function listTlvs(area: Uint8Array, tlvLen: number): TlvRecord[] {
  const out: TlvRecord[] = [];
  for (const { type, length, offset, valueOff, fits } of walkTlvs(area, tlvLen)) {
    const value = area.subarray(valueOff, Math.min(valueOff + length, tlvLen));
    let paddingZero = true;
    const padEnd = Math.min(valueOff + r8(length), area.length);
    for (let i = valueOff + length; i < padEnd; i++) if (area[i] !== 0) paddingZero = false;
    out.push({ type, length, offset, value, fits, paddingZero });
  }
  return out;
}

/**
 * The TA's remoteproc_get_tlv: the first record of `type` whose value fits
 * wins; a found record of length 0 counts as absent. Returns undefined when
 * absent (the TA's TEE_ERROR_NO_DATA), else a view of the value.
 */
export function findTlv(area: Uint8Array, tlvLen: number, type: number): Uint8Array | undefined {
  for (const r of walkTlvs(area, tlvLen)) {
    if (r.fits && r.type === type) return r.length === 0 ? undefined : area.subarray(r.valueOff, r.valueOff + r.length);
  }
  return undefined;
}

/** The TLV area as the TA reads it: the first tlv_len bytes after the header. */
export interface TlvArea {
  area: Uint8Array;
  tlvLen: number;
}

export function tlvArea(bytes: Uint8Array, layout: SignedLayout): TlvArea {
  return { area: bytes.subarray(layout.tlvOffset, layout.tlvOffset + r8(layout.header.tlvLen)), tlvLen: layout.header.tlvLen };
}

/** LOAD_FW step 4, first half: SIGNTYPE present with length 1 (BAD_PARAMETERS), value 1 or 2 (NOT_SUPPORTED). */
export function readSignType(t: TlvArea): number {
  const v = findTlv(t.area, t.tlvLen, TLV_SIGNTYPE);
  if (v === undefined || v.length !== 1) {
    throw teeError("TEE_ERROR_BAD_PARAMETERS", `SIGNTYPE TLV ${v === undefined ? "missing" : `has length ${v.length}, expected 1`}`, {
      field: "tlvs.SIGNTYPE",
      value: v?.length ?? 0,
      limit: 1,
    });
  }
  const s = v[0]!;
  if (s !== SIGN_TYPE_RSA_PKCS1_V1_5_SHA256 && s !== SIGN_TYPE_ECDSA_P256_SHA256) {
    throw teeError("TEE_ERROR_NOT_SUPPORTED", `SIGNTYPE ${s} not supported (1 = RSA PKCS#1 v1.5, 2 = ECDSA P-256)`, { field: "tlvs.SIGNTYPE", value: s });
  }
  return s;
}

/** HASHTYPE is authenticated but never checked by the TA (it assumes SHA-256); reported only. */
export function readHashType(t: TlvArea): number | undefined {
  const v = findTlv(t.area, t.tlvLen, TLV_HASHTYPE);
  return v === undefined ? undefined : v[0];
}

/** A hash-table entry: an Elf32_Phdr copied field for field, then the segment's SHA-256. */
export interface HashEntry extends Elf32Phdr {
  sha256: Uint8Array;
}

/** LOAD_FW step 7: HASHTABLE present and non-empty (NO_DATA), a multiple of 64 bytes (BAD_PARAMETERS). */
export function readHashTable(t: TlvArea): HashEntry[] {
  const v = findTlv(t.area, t.tlvLen, TLV_HASHTABLE);
  if (v === undefined) throw teeError("TEE_ERROR_NO_DATA", "HASHTABLE TLV missing or empty", { field: "tlvs.HASHTABLE" });
  if (v.length % HASH_ENTRY_SIZE !== 0) {
    throw teeError("TEE_ERROR_BAD_PARAMETERS", `HASHTABLE length ${v.length} is not a multiple of ${HASH_ENTRY_SIZE}`, {
      field: "tlvs.HASHTABLE",
      value: v.length,
    });
  }
  const out: HashEntry[] = [];
  for (let i = 0; i * HASH_ENTRY_SIZE < v.length; i++) {
    const o = i * HASH_ENTRY_SIZE;
    out.push({ ...readPhdr(v, o, i), sha256: v.slice(o + 32, o + 64) });
  }
  return out;
}

/** LOAD_FW step 8: NUM_IMG present (NO_DATA), length 1 (BAD_FORMAT), non-zero (NO_DATA). */
export function readNumImg(t: TlvArea): number {
  const v = findTlv(t.area, t.tlvLen, TLV_NUM_IMG);
  if (v === undefined) throw teeError("TEE_ERROR_NO_DATA", "NUM_IMG TLV missing", { field: "tlvs.NUM_IMG" });
  if (v.length !== 1) throw teeError("TEE_ERROR_BAD_FORMAT", `NUM_IMG length ${v.length}, expected 1`, { field: "tlvs.NUM_IMG", value: v.length, limit: 1 });
  if (v[0] === 0) throw teeError("TEE_ERROR_NO_DATA", "NUM_IMG is 0", { field: "tlvs.NUM_IMG", value: 0 });
  return v[0]!;
}

/** LOAD_FW step 9: IMGTYPE[i] (NO_DATA / BAD_PARAMETERS on length). The caller decides which types it accepts. */
export function readImgType(t: TlvArea, n: number, i: number): number {
  const v = findTlv(t.area, t.tlvLen, TLV_IMGTYPE);
  if (v === undefined) throw teeError("TEE_ERROR_NO_DATA", "IMGTYPE TLV missing", { field: "tlvs.IMGTYPE" });
  if (v.length !== n) {
    throw teeError("TEE_ERROR_BAD_PARAMETERS", `IMGTYPE length ${v.length}, expected NUM_IMG = ${n}`, { field: "tlvs.IMGTYPE", value: v.length, limit: n });
  }
  return v[i]!;
}

/** LOAD_FW step 9: IMGSIZE[i] (NO_DATA / BAD_PARAMETERS on length). */
export function readImgSize(t: TlvArea, n: number, i: number): number {
  const v = findTlv(t.area, t.tlvLen, TLV_IMGSIZE);
  if (v === undefined) throw teeError("TEE_ERROR_NO_DATA", "IMGSIZE TLV missing", { field: "tlvs.IMGSIZE" });
  if (v.length !== 4 * n) {
    throw teeError("TEE_ERROR_BAD_PARAMETERS", `IMGSIZE length ${v.length}, expected 4 x NUM_IMG = ${4 * n}`, {
      field: "tlvs.IMGSIZE",
      value: v.length,
      limit: 4 * n,
    });
  }
  return u32le(v, 4 * i);
}

/** Image i's place in the image area. Refuses images past img_len (the C TA lacks this check). */
export function imageSlice(bytes: Uint8Array, layout: SignedLayout, offset: number, size: number, i: number): Uint8Array {
  if (offset + size > layout.header.imgLen) {
    throw teeError("TEE_ERROR_BAD_PARAMETERS", `image ${i}: offset ${hex(offset)} + IMGSIZE ${hex(size)} exceeds img_len ${hex(layout.header.imgLen)}`, {
      field: `tlvs.IMGSIZE[${i}]`,
      value: offset + size,
      limit: layout.header.imgLen,
    });
  }
  const start = layout.imagesOffset + offset;
  return bytes.subarray(start, start + size);
}

export interface SignedImageChunk {
  index: number;
  type: number;
  /** Offset in the image area. */
  offset: number;
  /** File offset. */
  fileOffset: number;
  size: number;
  bytes: Uint8Array;
}

/** The whole format decoded, signature and segment hashes not yet checked (see src/tee/verify.ts). */
export interface SignedImage {
  bytes: Uint8Array;
  layout: SignedLayout;
  tlv: TlvArea;
  tlvs: TlvRecord[];
  signType: number;
  hashType: number | undefined;
  numImg: number;
  hashTable: HashEntry[];
  keyInfo: Uint8Array | undefined;
  /** Header || TLV area with padding: the signed message. */
  signedMessage: Uint8Array;
  signature: Uint8Array;
  images: SignedImageChunk[];
}

/**
 * Decode and check everything the TA checks before touching memory, in the
 * TA's order, except the signature (a key is needed) and the per-image ELF
 * checks (src/formats/signed-image-elf.ts). Accepts image types 1 and 2;
 * the loader decides whether it can decrypt type 2.
 */
export function parseSignedImage(bytes: Uint8Array): SignedImage {
  const layout = readSignedLayout(bytes);
  const tlv = tlvArea(bytes, layout);
  const signType = readSignType(tlv);
  const hashTable = readHashTable(tlv);
  const numImg = readNumImg(tlv);
  const images: SignedImageChunk[] = [];
  let offset = 0;
  for (let i = 0; i < numImg; i++) {
    const type = readImgType(tlv, numImg, i);
    if (type !== IMG_TYPE_ELF && type !== IMG_TYPE_ENCRYPTED_ELF) {
      throw teeError("TEE_ERROR_BAD_FORMAT", `image ${i}: IMGTYPE ${type} is not ELF (1)`, { field: `tlvs.IMGTYPE[${i}]`, value: type });
    }
    const size = readImgSize(tlv, numImg, i);
    const chunk = imageSlice(bytes, layout, offset, size, i);
    images.push({ index: i, type, offset, fileOffset: layout.imagesOffset + offset, size, bytes: chunk });
    offset += size;
  }
  return {
    bytes,
    layout,
    tlv,
    tlvs: listTlvs(tlv.area, tlv.tlvLen),
    signType,
    hashType: readHashType(tlv),
    numImg,
    hashTable,
    keyInfo: findTlv(tlv.area, tlv.tlvLen, TLV_PKEYINFO),
    signedMessage: bytes.subarray(0, layout.signOffset),
    signature: bytes.subarray(layout.signOffset, layout.signOffset + layout.header.signLen),
    images,
  };
}

/** True when the buffer starts with the signed-image magic (bytes 68 a4 43 35). */
export function isSignedImage(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && u32le(bytes, 0) === SIGNED_IMAGE_MAGIC;
}
