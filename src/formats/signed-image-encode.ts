/**
 * Encoder for the signed image, byte-compatible with sign_rproc_fw.py:
 * TLV order SIGNTYPE, NUM_IMG, IMGTYPE, IMGSIZE, HASHTYPE, HASHTABLE,
 * [PKEYINFO], [platform TLVs in the order given], each record zero-padded
 * to 8; IMGSIZE = padded image sizes; one hash entry per program header (all
 * types); images copied verbatim with zero padding to 8.
 */
import { createHash } from "node:crypto";
import { RprocError, hex } from "../errors.js";
import {
  HASH_ENTRY_SIZE,
  HASH_TYPE_SHA256,
  IMG_TYPE_ELF,
  PLAT_TLV_MAX,
  PLAT_TLV_MIN,
  SIGNED_HEADER_SIZE,
  SIGNED_IMAGE_MAGIC,
  SIGNED_IMAGE_VERSION,
  TLV_HASHTABLE,
  TLV_HASHTYPE,
  TLV_IMGSIZE,
  TLV_IMGTYPE,
  TLV_NUM_IMG,
  TLV_PKEYINFO,
  TLV_SIGNTYPE,
  r8,
} from "./signed-image.js";
import type { Elf32Phdr } from "./signed-image-elf.js";

export interface EncodeImage {
  /** The image bytes as stored (for an encrypted image: with its PT_LOAD data already encrypted). */
  bytes: Uint8Array;
  phdrs: Elf32Phdr[];
  type?: number;
}

export interface EncodeOptions {
  signType: number;
  signLen: number;
  images: EncodeImage[];
  keyInfo?: Uint8Array;
  /** Platform TLVs in emission order (already de-duplicated as the script does). */
  platformTlvs?: { type: number; value: Uint8Array }[];
  /** Produces the signature over header || TLV area; must return exactly signLen bytes. */
  sign: (message: Uint8Array) => Uint8Array;
}

class TlvWriter {
  private parts: Uint8Array[] = [];
  private size = 0;
  add(type: number, value: Uint8Array): void {
    const rec = new Uint8Array(8 + r8(value.length));
    const dv = new DataView(rec.buffer);
    dv.setUint32(0, type >>> 0, true);
    dv.setUint32(4, value.length, true);
    rec.set(value, 8);
    this.parts.push(rec);
    this.size += rec.length;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** The 64-byte hash entries of one image: Elf32_Phdr fields then `sha256[i]`, the SHA-256 of header i's file bytes. */
export function encodeHashEntries(phdrs: Elf32Phdr[], sha256: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(phdrs.length * HASH_ENTRY_SIZE);
  const dv = new DataView(out.buffer);
  phdrs.forEach((ph, i) => {
    const o = i * HASH_ENTRY_SIZE;
    [ph.type, ph.offset, ph.vaddr, ph.paddr, ph.filesz, ph.memsz, ph.flags, ph.align].forEach((v, k) => dv.setUint32(o + 4 * k, v >>> 0, true));
    out.set(sha256[i]!, o + 32);
  });
  return out;
}

/** The hash entries of an image held in memory. */
export function hashTableEntries(img: Uint8Array, phdrs: Elf32Phdr[]): Uint8Array {
  return encodeHashEntries(phdrs, phdrs.map((ph) => createHash("sha256").update(img.subarray(ph.offset, ph.offset + ph.filesz)).digest()));
}

function u32le(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

/** What the signed prefix needs to know of each image: its size (unpadded), type and hash entries. */
export interface PrefixImage {
  size: number;
  type?: number;
  /** hashTableEntries() of the image. */
  hashTable: Uint8Array;
}

/**
 * Header + TLV area + signature (zero-padded): everything before the image
 * area. Its length depends on the sizes only, never on the hash values.
 */
export function encodeSignedPrefix(opts: Omit<EncodeOptions, "images"> & { images: PrefixImage[] }): Uint8Array {
  const n = opts.images.length;
  if (n < 1 || n > 255) throw new RprocError("EINVAL", `signed image: ${n} images, must be 1..255`, { field: "images", value: n, limit: 255 });
  const imgSizes = opts.images.map((im) => r8(im.size));
  const imgLen = imgSizes.reduce((a, b) => a + b, 0);
  if (imgLen > 0xffffffff) throw new RprocError("EOVERFLOW", `signed image: images total ${hex(imgLen)} bytes, over 4 GiB`, { field: "img_len", value: imgLen });

  const tlv = new TlvWriter();
  tlv.add(TLV_SIGNTYPE, Uint8Array.of(opts.signType));
  tlv.add(TLV_NUM_IMG, Uint8Array.of(n));
  tlv.add(TLV_IMGTYPE, Uint8Array.from(opts.images.map((im) => im.type ?? IMG_TYPE_ELF)));
  const sizes = new Uint8Array(4 * n);
  imgSizes.forEach((s, i) => sizes.set(u32le(s), 4 * i));
  tlv.add(TLV_IMGSIZE, sizes);
  tlv.add(TLV_HASHTYPE, Uint8Array.of(HASH_TYPE_SHA256));
  const hashTable = new Uint8Array(opts.images.reduce((a, im) => a + im.hashTable.length, 0));
  let o = 0;
  for (const im of opts.images) {
    hashTable.set(im.hashTable, o);
    o += im.hashTable.length;
  }
  tlv.add(TLV_HASHTABLE, hashTable);
  if (opts.keyInfo !== undefined) tlv.add(TLV_PKEYINFO, opts.keyInfo);
  for (const p of opts.platformTlvs ?? []) {
    if (p.type < PLAT_TLV_MIN || p.type > PLAT_TLV_MAX) {
      throw new RprocError("EINVAL", `platform TLV ${hex(p.type)} not in range ${hex(PLAT_TLV_MIN)}..${hex(PLAT_TLV_MAX)}`, { field: "platformTlvs", value: p.type });
    }
    tlv.add(p.type, p.value);
  }
  const tlvArea = tlv.bytes();

  const signOffset = SIGNED_HEADER_SIZE + tlvArea.length;
  const imagesOffset = signOffset + r8(opts.signLen);
  const prefix = new Uint8Array(imagesOffset);
  const dv = new DataView(prefix.buffer);
  dv.setUint32(0, SIGNED_IMAGE_MAGIC, true);
  dv.setUint32(4, SIGNED_IMAGE_VERSION, true);
  dv.setUint32(8, tlvArea.length, true);
  dv.setUint32(12, opts.signLen, true);
  dv.setUint32(16, imgLen, true);
  prefix.set(tlvArea, SIGNED_HEADER_SIZE);
  const signature = opts.sign(prefix.subarray(0, signOffset));
  if (signature.length !== opts.signLen) {
    throw new RprocError("EINVAL", `signature is ${signature.length} bytes, expected ${opts.signLen}`, { field: "signature", value: signature.length, limit: opts.signLen });
  }
  prefix.set(signature, signOffset);
  return prefix;
}

/**
 * The signed image as a list of chunks: header + TLVs + signature, then each
 * image (a view of the input, not a copy) and its zero padding. Writing the
 * chunks in order gives the file; no 32 MiB copy is needed to sign.
 */
export function encodeSignedImageParts(opts: EncodeOptions): Uint8Array[] {
  const prefix = encodeSignedPrefix({ ...opts, images: opts.images.map((im) => ({ size: im.bytes.length, type: im.type, hashTable: hashTableEntries(im.bytes, im.phdrs) })) });
  const parts: Uint8Array[] = [prefix];
  for (const im of opts.images) {
    parts.push(im.bytes);
    const pad = r8(im.bytes.length) - im.bytes.length;
    if (pad > 0) parts.push(new Uint8Array(pad));
  }
  return parts;
}

/** The signed image in one buffer. */
export function encodeSignedImage(opts: EncodeOptions): Uint8Array {
  const parts = encodeSignedImageParts(opts);
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
