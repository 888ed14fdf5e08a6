/**
 * `rproc inspect` of an OP-TEE signed image (spec optee-rproc §1): header,
 * TLVs decoded, hash table, and every embedded ELF as `inspect` shows a plain
 * ELF, plus what matters for trust: which bytes the signature covers, how the
 * TA would pair PT_LOAD segments with hash entries, and platform limits.
 *
 * Rejections (thrown RprocError, turned into {file, error} by inspect()) are
 * the structural checks the TA makes before it can load anything (format,
 * TLV shapes, its own ELF32 reading); the message ends with the TEE error
 * name. What the TA would refuse only while loading (a segment without a hash
 * entry, a hash mismatch, two resource tables) is an error diagnostic, so the
 * rest of the image can still be shown. The signature is not checked here
 * (no key): `rproc verify` does that.
 */
import { createHash } from "node:crypto";
import { diag, type Diagnostic } from "../diagnostics.js";
import { RprocError, hex, isRprocError } from "../errors.js";
import {
  HASH_TYPE_SHA256,
  IMG_TYPE_ELF,
  IMG_TYPE_ENCRYPTED_ELF,
  PLAT_TLV_MIN,
  PLAT_TLV_MAX,
  SIGN_TYPE_ECDSA_P256_SHA256,
  SIGN_TYPE_RSA_PKCS1_V1_5_SHA256,
  TLV_ENC_ALGO,
  TLV_HASHTABLE,
  TLV_HASHTYPE,
  TLV_IMGSIZE,
  TLV_IMGTYPE,
  TLV_NUM_IMG,
  TLV_SIGNTYPE,
  parseSignedImage,
  r8,
  tlvName,
  type HashEntry,
  type SignedImage,
  type TlvRecord,
} from "../formats/signed-image.js";
import { ELF32_SHDR_SIZE, PT_LOAD, e32FindRscTable, e32LoadSegments, e32ParseEhdr, u32 as u32le, type Elf32Phdr } from "../formats/signed-image-elf.js";
import { ENC_ALGO_AES_256_CTR, aesCtr, readEncryption, type ImageEncryption } from "./encryption.js";
import { inspectElfBytes, type InspectElf, type InspectReport, type InspectResourceTable } from "../inspect.js";

export type TlvValue = number | number[] | string | null;

export interface InspectSignedTlv {
  type: number;
  name: string;
  length: number;
  /** File offset of the record. */
  offset: number;
  /** Decoded: a number (SIGNTYPE, HASHTYPE, NUM_IMG, u32 platform TLVs), a list (IMGTYPE, IMGSIZE), a string (printable PKEYINFO / platform TLVs), else null. */
  value: TlvValue;
  /** Human reading of the value, e.g. "RSASSA-PKCS1-v1_5 / SHA-256". */
  meaning: string;
  /** Raw value bytes in hex; null for HASHTABLE (decoded in `hashTable`). */
  hex: string | null;
  /** False when the value runs past tlv_len: the TA never sees it. */
  fits: boolean;
  /** False when a record of the same type comes earlier: the TA reads the first only. */
  used: boolean;
}

export interface InspectHashEntry extends Elf32Phdr {
  sha256: string;
  /** The PT_LOAD program headers the TA pairs with this entry (first match on p_paddr over the whole table). */
  usedBy: { image: number; programHeader: number }[];
}

export interface InspectSignedSegment {
  /** Program header index in its image. */
  programHeader: number;
  paddr: number;
  filesz: number;
  memsz: number;
  /** Hash entry the TA pairs it with, null when none. */
  hashEntry: number | null;
  /** SHA-256 of the file bytes equals the entry's (null: no entry or nothing to hash). */
  hashMatches: boolean | null;
}

export interface InspectSignedElfImage {
  index: number;
  /** IMGTYPE: 1 ELF, 2 encrypted ELF (rproc extension). */
  type: number;
  encrypted: boolean;
  /** Offset in the image area. */
  offset: number;
  /** File offset. */
  fileOffset: number;
  /** IMGSIZE (includes the zero padding to 8). */
  size: number;
  elf: InspectElf;
  resourceTable: InspectResourceTable | null;
  /** PT_LOAD segments as the TA reads them, with their hash entry. */
  segments: InspectSignedSegment[];
}

export interface InspectSignedImage {
  header: { magic: number; version: number; tlvLen: number; signLen: number; imgLen: number };
  layout: { tlvOffset: number; signatureOffset: number; imagesOffset: number };
  signType: number;
  signTypeName: string;
  hashType: number | null;
  hashTypeName: string;
  tlvs: InspectSignedTlv[];
  hashTable: InspectHashEntry[];
  images: InspectSignedElfImage[];
  /** Index of the image whose resource table the TA reports (GET_RSC_TABLE), null when none has one. */
  resourceTableImage: number | null;
  encryption: { algo: number; algoName: string; ivs: string[] } | null;
}

export interface InspectSignedOptions {
  file?: string;
  /** AES-256 key of an encrypted image: segments are decrypted so the resource table can be decoded. */
  decryptKey?: Uint8Array;
}

const SIGN_TYPE_NAMES: Record<number, string> = {
  [SIGN_TYPE_RSA_PKCS1_V1_5_SHA256]: "RSASSA-PKCS1-v1_5 / SHA-256",
  [SIGN_TYPE_ECDSA_P256_SHA256]: "ECDSA P-256 / SHA-256",
};
const IMG_TYPE_NAMES: Record<number, string> = { [IMG_TYPE_ELF]: "ELF", [IMG_TYPE_ENCRYPTED_ELF]: "encrypted ELF" };

const toHex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");

function printable(b: Uint8Array): string | undefined {
  if (b.length === 0) return undefined;
  for (const c of b) if (c < 0x20 || c > 0x7e) return undefined;
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString("latin1");
}

/** One TLV decoded for people; the TA's reading rules live in signed-image.ts. */
function decodeTlv(t: TlvRecord): { value: TlvValue; meaning: string } {
  const v = t.value;
  if (!t.fits) return { value: null, meaning: `value runs past tlv_len (${v.length} of ${t.length} bytes present)` };
  switch (t.type) {
    case TLV_SIGNTYPE:
    case TLV_HASHTYPE:
    case TLV_NUM_IMG: {
      if (v.length !== 1) return { value: null, meaning: `length ${v.length}, the TA wants 1` };
      const n = v[0]!;
      const names = t.type === TLV_SIGNTYPE ? SIGN_TYPE_NAMES : t.type === TLV_HASHTYPE ? { [HASH_TYPE_SHA256]: "SHA-256" } : undefined;
      return { value: n, meaning: names === undefined ? `${n} image${n === 1 ? "" : "s"}` : (names[n] ?? `unknown (${n})`) };
    }
    case TLV_IMGTYPE: {
      const list = Array.from(v);
      return { value: list, meaning: list.map((x) => IMG_TYPE_NAMES[x] ?? `unknown (${x})`).join(", ") };
    }
    case TLV_IMGSIZE: {
      if (v.length % 4 !== 0) return { value: null, meaning: `length ${v.length} is not a multiple of 4` };
      const list: number[] = [];
      for (let o = 0; o < v.length; o += 4) list.push(u32le(v, o));
      return { value: list, meaning: list.map((x) => `${x} bytes`).join(", ") };
    }
    case TLV_HASHTABLE:
      return { value: null, meaning: `${Math.floor(v.length / 64)} entries of 64 bytes${v.length % 64 ? ` + ${v.length % 64} stray bytes` : ""} (see the hash table)` };
    case TLV_ENC_ALGO:
      if (v.length !== 4) return { value: null, meaning: `length ${v.length}, expected 4` };
      return { value: u32le(v, 0), meaning: u32le(v, 0) === ENC_ALGO_AES_256_CTR ? "AES-256-CTR" : `unknown (${u32le(v, 0)})` };
  }
  // PKEYINFO, ENC_IVS, platform and unknown TLVs: the signer writes `0x…` values as u32 LE and anything else as text.
  const text = printable(v);
  if (text !== undefined) return { value: text, meaning: JSON.stringify(text) };
  if (v.length === 4 && t.type >= PLAT_TLV_MIN && t.type <= PLAT_TLV_MAX) return { value: u32le(v, 0), meaning: `u32 ${hex(u32le(v, 0))}` };
  return { value: null, meaning: `${v.length} bytes` };
}

function tlvsJson(s: SignedImage): InspectSignedTlv[] {
  const seen = new Set<number>();
  return s.tlvs.map((t) => {
    const used = t.fits && !seen.has(t.type);
    if (t.fits) seen.add(t.type);
    return {
      type: t.type,
      name: tlvName(t.type),
      length: t.length,
      offset: s.layout.tlvOffset + t.offset,
      ...decodeTlv(t),
      hex: t.type === TLV_HASHTABLE ? null : toHex(t.value),
      fits: t.fits,
      used,
    };
  });
}

/** The TA's get_segment_hash pairing, without its error: the first entry with this p_paddr. */
function pairEntry(table: HashEntry[], ph: Elf32Phdr): HashEntry | undefined {
  return table.find((e) => e.paddr === ph.paddr);
}

/** Adds the TEE error name to a TA rejection and roots structural ELF errors at the image. */
function rootError(e: RprocError, image?: number): RprocError {
  const tee = e.teeError !== undefined && !e.message.includes(e.teeError) ? ` (${e.teeError})` : "";
  const prefix = image === undefined || e.teeError !== undefined ? "" : `image ${image}: `;
  const field = image === undefined || e.field === undefined || e.teeError !== undefined ? e.field : `signedImage.images[${image}].${e.field}`;
  return new RprocError(e.code, `${prefix}${e.message}${tee}`, { field, teeError: e.teeError, value: e.value, limit: e.limit, cause: e });
}

interface ImageWork {
  chunk: SignedImage["images"][number];
  loads: Elf32Phdr[];
  rsc: ReturnType<typeof e32FindRscTable>;
  encrypted: boolean;
}

export function inspectSignedImage(bytes: Uint8Array, options: InspectSignedOptions = {}): InspectReport {
  const file = options.file ?? "<memory>";
  try {
    return build(bytes, file, options);
  } catch (e) {
    // Idempotent: errors already rooted at an image keep their text.
    throw isRprocError(e) ? rootError(e) : e;
  }
}

function build(bytes: Uint8Array, file: string, options: InspectSignedOptions): InspectReport {
  if (options.decryptKey !== undefined && options.decryptKey.length !== 32) {
    throw new RprocError("EINVAL", `decryption key of ${options.decryptKey.length} bytes; AES-256 needs 32`, { field: "decryptKey", value: options.decryptKey.length, limit: 32 });
  }
  const s = parseSignedImage(bytes);
  const { layout } = s;
  const diagnostics: Diagnostic[] = [];
  const imageArea = bytes.subarray(layout.imagesOffset, layout.imagesOffset + layout.header.imgLen);
  // The TA's own ELF32 reading, in its order (LOAD_FW steps 6 and 9): what it refuses is a rejection.
  e32ParseEhdr(imageArea);
  const encrypted = s.images.some((im) => im.type === IMG_TYPE_ENCRYPTED_ELF);
  let enc: ImageEncryption | undefined;
  if (encrypted) enc = readEncryption(s.tlv, s.hashTable.length);
  const work: ImageWork[] = s.images.map((chunk) => {
    const loads = [...e32LoadSegments(chunk.bytes, chunk.fileOffset, chunk.index)].map((x) => x.phdr);
    const isEnc = chunk.type === IMG_TYPE_ENCRYPTED_ELF;
    // An encrypted image's table bytes are ciphertext: its header is checked below only when decrypted.
    const rsc = e32FindRscTable(chunk.bytes, chunk.fileOffset, chunk.index, isEnc ? () => undefined : undefined);
    return { chunk, loads, rsc, encrypted: isEnc };
  });

  const usedBy = new Map<number, { image: number; programHeader: number }[]>();
  const images: InspectSignedElfImage[] = work.map((w) => {
    const i = w.chunk.index;
    const at = `signedImage.images[${i}]`;
    let elfBytes = w.chunk.bytes;
    const segments: InspectSignedSegment[] = w.loads.map((ph) => {
      const entry = pairEntry(s.hashTable, ph);
      let hashMatches: boolean | null = null;
      if (entry === undefined) {
        diagnostics.push(diag("error", "signed-segment-no-hash", `${at}.elf.segments[${ph.index}]`, `PT_LOAD at p_paddr ${hex(ph.paddr)} has no entry in the signed hash table: the TA refuses the image (TEE_ERROR_NO_DATA)`));
      } else {
        const list = usedBy.get(entry.index) ?? [];
        list.push({ image: i, programHeader: ph.index });
        usedBy.set(entry.index, list);
        if (entry.type !== PT_LOAD || entry.filesz !== ph.filesz || entry.memsz !== ph.memsz) {
          diagnostics.push(
            diag("error", "signed-segment-hash-entry-differs", `${at}.elf.segments[${ph.index}]`, `PT_LOAD at p_paddr ${hex(ph.paddr)} (p_filesz ${hex(ph.filesz)}, p_memsz ${hex(ph.memsz)}) is paired with hash entry ${entry.index} (type ${hex(entry.type)}, p_filesz ${hex(entry.filesz)}, p_memsz ${hex(entry.memsz)}): the TA refuses the image (TEE_ERROR_BAD_PARAMETERS)`),
          );
        } else if (ph.filesz > 0) {
          const got = createHash("sha256").update(w.chunk.bytes.subarray(ph.offset, ph.offset + ph.filesz)).digest();
          hashMatches = Buffer.compare(got, Buffer.from(entry.sha256)) === 0;
          if (!hashMatches) {
            const shadow = (usedBy.get(entry.index)?.length ?? 0) > 1 ? " (another image's segment at the same address took this entry first)" : "";
            diagnostics.push(diag("error", "signed-segment-hash-mismatch", `${at}.elf.segments[${ph.index}]`, `the bytes of PT_LOAD at p_paddr ${hex(ph.paddr)} do not match hash entry ${entry.index}${shadow}: the TA wipes the segment and refuses the image (TEE_ERROR_SECURITY)`));
          }
          if (w.encrypted && enc !== undefined && options.decryptKey !== undefined) {
            if (elfBytes === w.chunk.bytes) elfBytes = Uint8Array.from(w.chunk.bytes);
            elfBytes.set(aesCtr(options.decryptKey, enc.ivs[entry.index]!, w.chunk.bytes.subarray(ph.offset, ph.offset + ph.filesz)), ph.offset);
          }
        }
      }
      return { programHeader: ph.index, paddr: ph.paddr, filesz: ph.filesz, memsz: ph.memsz, hashEntry: entry?.index ?? null, hashMatches };
    });
    const decodeTable = !w.encrypted || options.decryptKey !== undefined;
    let part: ReturnType<typeof inspectElfBytes>;
    try {
      part = inspectElfBytes(elfBytes, { resourceTable: decodeTable });
    } catch (e) {
      if (isRprocError(e)) throw rootError(e, i);
      throw e;
    }
    for (const d of part.diagnostics) {
      // Only one image may carry the table: its absence from the others is normal here (reported once below).
      if (d.code === "no-resource-table") continue;
      diagnostics.push({ ...d, path: `${at}.${d.path}` });
    }
    if (part.elf.class !== 32 || part.elf.endianness !== "little") {
      diagnostics.push(diag("error", "signed-image-not-elf32le", `${at}.elf`, `image ${i} is ELF${part.elf.class} ${part.elf.endianness}-endian: the TA reads every image as little-endian ELF32`));
    }
    if (w.encrypted) {
      diagnostics.push(
        diag("info", "signed-image-encrypted", at, `image ${i} is encrypted (IMGTYPE 2, rproc extension, docs/encrypted-images.md): PT_LOAD bytes are AES-256-CTR ciphertext, hashed as ciphertext; an upstream TA refuses it (TEE_ERROR_BAD_FORMAT)${decodeTable ? "" : "; the resource table is not decoded without the key"}`),
      );
    }
    return { index: i, type: w.chunk.type, encrypted: w.encrypted, offset: w.chunk.offset, fileOffset: w.chunk.fileOffset, size: w.chunk.size, elf: part.elf, resourceTable: part.resourceTable, segments };
  });

  // Hash entries no segment consumes: the TA does not notice (a PT_LOAD dropped from the program headers is silently not loaded).
  s.hashTable.forEach((e) => {
    if (e.type === PT_LOAD && !usedBy.has(e.index)) {
      diagnostics.push(diag("warning", "signed-hash-entry-unused", `signedImage.hashTable[${e.index}]`, `PT_LOAD hash entry ${e.index} (p_paddr ${hex(e.paddr)}, ${e.filesz} bytes) is paired with no program header: that signed segment would not be loaded, and the TA does not check`));
    }
  });

  overlapDiagnostics(work, diagnostics);
  const resourceTableImage = resourceTableDiagnostics(s, work, diagnostics);
  signatureDiagnostics(s, work, diagnostics, bytes);

  const chosen = images[resourceTableImage ?? 0]!;
  const signedImage: InspectSignedImage = {
    header: { ...layout.header },
    layout: { tlvOffset: layout.tlvOffset, signatureOffset: layout.signOffset, imagesOffset: layout.imagesOffset },
    signType: s.signType,
    signTypeName: SIGN_TYPE_NAMES[s.signType]!,
    hashType: s.hashType ?? null,
    hashTypeName: s.hashType === undefined ? "absent" : s.hashType === HASH_TYPE_SHA256 ? "SHA-256" : `unknown (${s.hashType})`,
    tlvs: tlvsJson(s),
    hashTable: s.hashTable.map((e) => ({ ...e, sha256: toHex(e.sha256), usedBy: usedBy.get(e.index) ?? [] })),
    images,
    resourceTableImage,
    encryption: enc === undefined ? null : { algo: enc.algo, algoName: "AES-256-CTR", ivs: enc.ivs.map(toHex) },
  };
  return { file, size: bytes.byteLength, elf: chosen.elf, resourceTable: chosen.resourceTable, diagnostics, signedImage };
}

/** PT_LOADs of two images sharing device memory: rproc's TA refuses it (BAD_FORMAT); the C TA lets the later image overwrite. */
function overlapDiagnostics(work: ImageWork[], out: Diagnostic[]): void {
  for (const w of work) {
    for (const ph of w.loads) {
      if (ph.memsz === 0) continue;
      for (const prev of work.slice(0, w.chunk.index)) {
        const o = prev.loads.find((q) => q.memsz > 0 && ph.paddr < q.paddr + q.memsz && q.paddr < ph.paddr + ph.memsz);
        if (o === undefined) continue;
        out.push(
          diag("error", "signed-segments-overlap", `signedImage.images[${w.chunk.index}].elf.segments[${ph.index}]`, `PT_LOAD [${hex(ph.paddr)}, ${hex(ph.paddr + ph.memsz)}) of image ${w.chunk.index} overlaps image ${prev.chunk.index}'s program header ${o.index} [${hex(o.paddr)}, ${hex(o.paddr + o.memsz)}): rproc's TA refuses the image (TEE_ERROR_BAD_FORMAT); OP-TEE's would let the later image overwrite the earlier one`),
        );
        break;
      }
    }
  }
}

/**
 * The TA finds the table through section headers, which no signature covers,
 * then Linux reads it from device memory at sh_addr. Say where it is and
 * whether the bytes landing there are hashed. Returns the image whose table
 * the TA reports (the first; a second is refused).
 */
function resourceTableDiagnostics(s: SignedImage, work: ImageWork[], out: Diagnostic[]): number | null {
  const withTable = work.filter((w) => w.rsc !== undefined);
  if (withTable.length === 0) {
    out.push(diag("warning", "no-resource-table", "signedImage.images", "no image has a .resource_table section: GET_RSC_TABLE returns size 0, so Linux boots the firmware without resources (no carveouts, trace or virtio)"));
    return null;
  }
  for (const w of withTable.slice(1)) {
    out.push(diag("error", "signed-multiple-resource-tables", `signedImage.images[${w.chunk.index}].resourceTable`, `image ${w.chunk.index} has a second resource table (image ${withTable[0]!.chunk.index} has the first): the TA refuses the image (TEE_ERROR_BAD_FORMAT)`));
  }
  for (const w of withTable) {
    const loc = w.rsc!;
    const i = w.chunk.index;
    const shOff = u32le(w.chunk.bytes, 32);
    const headerAt = w.chunk.fileOffset + shOff + loc.sectionIndex * ELF32_SHDR_SIZE;
    const where = `section header [${loc.sectionIndex}] at file offset ${hex(headerAt)} (sh_addr ${hex(loc.da)}, sh_offset ${hex(loc.offset)} = file offset ${hex(w.chunk.fileOffset + loc.offset)}, sh_size ${hex(loc.size)})`;
    // Which loaded bytes end up at [da, da+size): a hashed PT_LOAD of any image.
    let covering: { w: ImageWork; ph: Elf32Phdr } | undefined;
    for (const v of work) for (const ph of v.loads) if (covering === undefined && loc.da >= ph.paddr && loc.da + loc.size <= ph.paddr + ph.memsz) covering = { w: v, ph };
    const path = `signedImage.images[${i}].resourceTable`;
    if (covering === undefined) {
      out.push(diag("warning", "signed-rsc-table-unauthenticated", path, `the TA locates the resource table through ${where}, which the signature does not cover, and no signed PT_LOAD segment loads device memory at ${hex(loc.da)}: Linux would read whatever that memory holds, unauthenticated`));
      continue;
    }
    const { ph } = covering;
    const rel = loc.da - ph.paddr;
    if (rel + loc.size > ph.filesz) {
      out.push(diag("warning", "signed-rsc-table-unauthenticated", path, `the TA locates the resource table through ${where}, which the signature does not cover; at ${hex(loc.da)} it falls in the zero-filled part (p_memsz beyond p_filesz) of the PT_LOAD at ${hex(ph.paddr)}: Linux would read zeros`));
      continue;
    }
    out.push(diag("info", "signed-rsc-table-location-unauthenticated", path, `the TA locates the resource table through ${where}, which the signature does not cover; the table's bytes are authenticated only because they lie in the hashed PT_LOAD at ${hex(ph.paddr)} (image ${covering.w.chunk.index}, program header ${ph.index}), and an edited section header can point the host at other bytes of that memory without breaking the signature`));
    if (!w.encrypted && !covering.w.encrypted) {
      const section = w.chunk.bytes.subarray(loc.offset, loc.offset + loc.size);
      const loaded = covering.w.chunk.bytes.subarray(ph.offset + rel, ph.offset + rel + loc.size);
      if (Buffer.compare(Buffer.from(section), Buffer.from(loaded)) !== 0) {
        out.push(diag("warning", "signed-rsc-table-section-differs", path, `the section's file bytes (decoded above) differ from the signed segment bytes loaded at ${hex(loc.da)}, which are what Linux reads`));
      }
    }
  }
  return withTable[0]!.chunk.index;
}

/** What the signature and hashes leave open, and what the STM32MP1 PTA accepts. */
function signatureDiagnostics(s: SignedImage, work: ImageWork[], out: Diagnostic[], bytes: Uint8Array): void {
  if (s.signType === SIGN_TYPE_ECDSA_P256_SHA256) {
    out.push(diag("warning", "signed-ecdsa-stm32mp1", "signedImage.signType", "ECDSA P-256 signature: the upstream STM32MP1 platform PTA verifies RSA PKCS#1 v1.5 only and refuses it (TEE_ERROR_NOT_SUPPORTED)"));
  }
  for (const w of work) {
    // Bytes of the image outside every PT_LOAD's hashed file data.
    const size = w.chunk.size;
    const covered = new Uint8Array(size);
    for (const ph of w.loads) covered.fill(1, ph.offset, ph.offset + ph.filesz);
    let open = 0;
    for (const c of covered) if (c === 0) open++;
    if (open === 0) continue;
    const names = sectionsOutside(w.chunk.bytes, covered);
    out.push(
      diag("info", "signed-unauthenticated-bytes", `signedImage.images[${w.chunk.index}]`, `${open} of ${size} bytes of image ${w.chunk.index} are covered neither by the signature nor by a segment hash (ELF header, program and section headers${names.length ? `, sections ${names.join(" ")}` : ""}, padding): changing them keeps the image valid`),
    );
  }
  const seen = new Set<number>();
  s.tlvs.forEach((t, k) => {
    const path = `signedImage.tlvs[${k}]`;
    if (!t.fits) out.push(diag("warning", "signed-tlv-truncated", path, `TLV ${hex(t.type)} declares ${t.length} value bytes past tlv_len: the TA stops reading there`));
    else if (seen.has(t.type)) out.push(diag("warning", "signed-tlv-duplicate", path, `second ${tlvName(t.type)} TLV (${hex(t.type)}): the TA uses the first one only`));
    if (!t.paddingZero) out.push(diag("info", "signed-tlv-padding-nonzero", path, `TLV ${hex(t.type)} has non-zero padding (signed, but the signer always writes zeros)`));
    if (t.fits) seen.add(t.type);
    if (tlvName(t.type) === "UNKNOWN") out.push(diag("info", "signed-tlv-unknown", path, `TLV type ${hex(t.type)} is not known: the TA ignores it`));
  });
  const { header, signOffset, imagesOffset } = s.layout;
  const pads: [string, number, number][] = [
    ["signature padding", signOffset + header.signLen, imagesOffset],
    ["image area padding", imagesOffset + header.imgLen, imagesOffset + r8(header.imgLen)],
  ];
  for (const [what, from, to] of pads) {
    if (bytes.subarray(from, to).some((b) => b !== 0)) out.push(diag("info", "signed-padding-nonzero", "signedImage.layout", `${what} at ${hex(from)}..${hex(to)} is not zero (not authenticated)`));
  }
}

/** Names of the sections whose file bytes lie (partly) outside the hashed segment data. */
function sectionsOutside(img: Uint8Array, covered: Uint8Array): string[] {
  const shoff = u32le(img, 32);
  const shnum = img[48]! | (img[49]! << 8);
  const shstrndx = img[50]! | (img[51]! << 8);
  if (shoff + shnum * ELF32_SHDR_SIZE > img.length || shstrndx >= shnum) return [];
  const strOff = u32le(img, shoff + shstrndx * ELF32_SHDR_SIZE + 16);
  const names: string[] = [];
  for (let k = 1; k < shnum; k++) {
    const sh = shoff + k * ELF32_SHDR_SIZE;
    if (u32le(img, sh + 4) === 8 /* SHT_NOBITS */) continue;
    const off = u32le(img, sh + 16);
    const size = u32le(img, sh + 20);
    if (size === 0 || off + size > img.length) continue;
    if (covered.subarray(off, off + size).every((c) => c === 1)) continue;
    let end = strOff + u32le(img, sh);
    const start = end;
    while (end < img.length && img[end] !== 0) end++;
    names.push(Buffer.from(img.subarray(start, end)).toString("latin1") || `[${k}]`);
  }
  return names;
}
