/**
 * The remoteproc TA's LOAD_FW algorithm (ta/remoteproc/src/remoteproc_core.c:
 * remoteproc_verify_firmware then remoteproc_load_elf), in the TA's order so
 * that the same corruption yields the same TEE error. Talks to the platform
 * only through the PTA interface. Used by the TA model (real memory) and by
 * `rproc verify` (a PTA that only checks hashes).
 *
 * Differences from the C TA, all stricter, none changing an accepted image:
 *  - size sums are exact (the C code can wrap a u32 in ROUNDUP_64);
 *  - an image running past img_len (IMGSIZE sum) is refused (BAD_PARAMETERS);
 *  - a PT_LOAD whose [p_paddr, +p_memsz) overlaps a segment of an earlier
 *    image is refused (BAD_FORMAT): the C TA would let the later image
 *    overwrite the earlier one. Checked after the segment's own hash check,
 *    so a same-address segment with other content still gets the C TA's
 *    TEE_ERROR_SECURITY;
 *  - image type 2 (encrypted ELF, our extension) is accepted only when the
 *    PTA reports PTA_RPROC_HWCAP_FMT_ENC_ELF; the ELF capability is tested as
 *    a bit (the C TA wants the format word to equal exactly ELF).
 */
import { createHash } from "node:crypto";
import { hex } from "../errors.js";
import {
  IMG_TYPE_ELF,
  IMG_TYPE_ENCRYPTED_ELF,
  SIGN_TYPE_RSA_PKCS1_V1_5_SHA256,
  TLV_PKEYINFO,
  findTlv,
  imageSlice,
  readHashTable,
  readImgSize,
  readImgType,
  readNumImg,
  readSignType,
  readSignedLayout,
  tlvArea,
  type HashEntry,
} from "../formats/signed-image.js";
import { teeError } from "../formats/signed-image-errors.js";
import { PT_LOAD, e32FindRscTable, e32LoadSegments, e32ParseEhdr, type Elf32Phdr } from "../formats/signed-image-elf.js";
import { readEncryption, type ImageEncryption } from "./encryption.js";
import {
  PTA_RPROC_HWCAP_FMT_ELF,
  PTA_RPROC_HWCAP_FMT_ENC_ELF,
  PTA_RPROC_HWCAP_PROT_HASH_TABLE,
  TEE_ALG_ECDSA_P256,
  TEE_ALG_RSASSA_PKCS1_V1_5_SHA256,
  type RprocPta,
} from "./pta.js";

export interface LoadedSegment {
  image: number;
  phdr: Elf32Phdr;
  hashEntry: number;
  encrypted: boolean;
}

export interface LoadFwResult {
  /** Physical address and size of the resource table; 0/0 when the firmware has none. */
  rscPa: number;
  rscSize: number;
  rscDa: number;
  segments: LoadedSegment[];
}

/** get_segment_hash: the first entry over the whole table with this p_paddr decides. */
function segmentHash(table: HashEntry[], ph: Elf32Phdr, image: number): HashEntry {
  const e = table.find((x) => x.paddr === ph.paddr);
  if (e === undefined) {
    throw teeError("TEE_ERROR_NO_DATA", `image ${image}: PT_LOAD at p_paddr ${hex(ph.paddr)} has no entry in the signed hash table`, {
      field: `images[${image}].elf.programHeaders[${ph.index}].p_paddr`,
      value: ph.paddr,
    });
  }
  if (e.type !== PT_LOAD) {
    throw teeError("TEE_ERROR_BAD_PARAMETERS", `image ${image}: hash entry ${e.index} for p_paddr ${hex(ph.paddr)} is not PT_LOAD (type ${hex(e.type)})`, {
      field: `hashTable[${e.index}].p_type`,
      value: e.type,
    });
  }
  if (e.filesz !== ph.filesz || e.memsz !== ph.memsz) {
    throw teeError(
      "TEE_ERROR_BAD_PARAMETERS",
      `image ${image}: program header ${ph.index} (p_filesz ${hex(ph.filesz)}, p_memsz ${hex(ph.memsz)}) differs from signed hash entry ${e.index} (p_filesz ${hex(e.filesz)}, p_memsz ${hex(e.memsz)})`,
      { field: `images[${image}].elf.programHeaders[${ph.index}].${e.filesz !== ph.filesz ? "p_filesz" : "p_memsz"}`, value: ph.filesz, limit: e.filesz },
    );
  }
  return e;
}

/** Two images must not share device memory: the later one would silently replace part of the earlier one. */
function refuseCrossImageOverlap(loaded: LoadedSegment[], ph: Elf32Phdr, image: number): void {
  if (ph.memsz === 0) return;
  const end = ph.paddr + ph.memsz;
  const other = loaded.find((s) => s.image !== image && s.phdr.memsz > 0 && ph.paddr < s.phdr.paddr + s.phdr.memsz && s.phdr.paddr < end);
  if (other === undefined) return;
  throw teeError(
    "TEE_ERROR_BAD_FORMAT",
    `image ${image}: program header ${ph.index} [${hex(ph.paddr)}, ${hex(end)}) overlaps image ${other.image} program header ${other.phdr.index} [${hex(other.phdr.paddr)}, ${hex(other.phdr.paddr + other.phdr.memsz)})`,
    { field: `images[${image}].elf.programHeaders[${ph.index}].p_paddr`, value: ph.paddr },
  );
}

export function taLoadFirmware(pta: RprocPta, rprocId: number, buf: Uint8Array): LoadFwResult {
  // 1. The platform must load ELF images protected by a hash table.
  const caps = pta.hwCapabilities(rprocId);
  if ((caps.protection & PTA_RPROC_HWCAP_PROT_HASH_TABLE) === 0 || (caps.format & PTA_RPROC_HWCAP_FMT_ELF) === 0) {
    throw teeError("TEE_ERROR_NOT_IMPLEMENTED", `PTA capabilities format ${hex(caps.format)} protection ${hex(caps.protection)}: ELF with hash table needed`, { field: "capabilities" });
  }
  // 2-3. Alignment, sizes, magic, version, exact file size; then a secure copy of header, TLVs and signature.
  if (buf.byteOffset % 4 !== 0) throw teeError("TEE_ERROR_BAD_PARAMETERS", "signed image buffer is not 4-byte aligned", { field: "buffer", value: buf.byteOffset });
  const layout = readSignedLayout(buf);
  const secure = buf.slice(0, layout.imagesOffset);
  const tlv = tlvArea(secure, layout);
  // 4. Signature over SHA-256(header || TLV area with padding), checked by the PTA.
  const signType = readSignType(tlv);
  const digest = createHash("sha256").update(secure.subarray(0, layout.signOffset)).digest();
  const info = findTlv(tlv.area, tlv.tlvLen, TLV_PKEYINFO) ?? new Uint8Array(0);
  const algo = signType === SIGN_TYPE_RSA_PKCS1_V1_5_SHA256 ? TEE_ALG_RSASSA_PKCS1_V1_5_SHA256 : TEE_ALG_ECDSA_P256;
  pta.verifyDigest(rprocId, { algo, info }, digest, secure.subarray(layout.signOffset, layout.signOffset + layout.header.signLen));
  // 5-6. From here the image area is read in place (non-secure memory); the first image must look like ELF32.
  const images = buf.subarray(layout.imagesOffset, layout.imagesOffset + layout.header.imgLen);
  e32ParseEhdr(images);
  // 7-8.
  const table = readHashTable(tlv);
  const n = readNumImg(tlv);
  // 9. Each image: type, size, segments, resource table.
  const result: LoadFwResult = { rscPa: 0, rscSize: 0, rscDa: 0, segments: [] };
  let enc: ImageEncryption | undefined;
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const type = readImgType(tlv, n, i);
    const encrypted = type === IMG_TYPE_ENCRYPTED_ELF && (caps.format & PTA_RPROC_HWCAP_FMT_ENC_ELF) !== 0;
    if (type !== IMG_TYPE_ELF && !encrypted) {
      throw teeError("TEE_ERROR_BAD_FORMAT", `image ${i}: IMGTYPE ${type} is not ${type === IMG_TYPE_ENCRYPTED_ELF ? "supported here (encrypted ELF needs a platform decryption key)" : "ELF (1)"}`, {
        field: `tlvs.IMGTYPE[${i}]`,
        value: type,
      });
    }
    if (encrypted && enc === undefined) enc = readEncryption(tlv, table.length);
    const size = readImgSize(tlv, n, i);
    const image = imageSlice(buf, layout, offset, size, i);
    const base = buf.byteOffset + layout.imagesOffset + offset;
    for (const seg of e32LoadSegments(image, base, i)) {
      const entry = segmentHash(table, seg.phdr, i);
      if (seg.phdr.filesz > 0) {
        pta.loadSegmentSha256(rprocId, seg.data, seg.phdr.paddr, entry.sha256, encrypted ? { algo: enc!.algo, iv: enc!.ivs[entry.index]! } : undefined);
      }
      refuseCrossImageOverlap(result.segments, seg.phdr, i);
      if (seg.phdr.memsz > seg.phdr.filesz) pta.setMemory(rprocId, (seg.phdr.paddr + seg.phdr.filesz) >>> 0, seg.phdr.memsz - seg.phdr.filesz, 0);
      result.segments.push({ image: i, phdr: seg.phdr, hashEntry: entry.index, encrypted });
    }
    // An encrypted image's table is checked once decrypted, in device memory (its file bytes are ciphertext).
    const loc = e32FindRscTable(image, base, i, encrypted ? (l) => pta.readFirmwareMemory(rprocId, l.da, l.size) : undefined);
    if (loc !== undefined) {
      let pa: number;
      try {
        pa = pta.daToPa(rprocId, loc.da, loc.size);
      } catch (e) {
        throw teeError("TEE_ERROR_ACCESS_DENIED", `image ${i}: resource table at device address ${hex(loc.da)} (${loc.size} bytes) cannot be translated: ${(e as Error).message}`, {
          field: `images[${i}].resourceTable`,
          value: loc.da,
          cause: e,
        });
      }
      if (result.rscPa !== 0 || result.rscSize !== 0) {
        throw teeError("TEE_ERROR_BAD_FORMAT", `image ${i}: more than one resource table found`, { field: `images[${i}].resourceTable` });
      }
      result.rscPa = pa;
      result.rscSize = loc.size;
      result.rscDa = loc.da;
    }
    offset += size;
  }
  return result;
}
