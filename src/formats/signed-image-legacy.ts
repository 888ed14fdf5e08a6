/**
 * Recognises STMicroelectronics' older downstream signed layouts, which reuse
 * magic 0x3543A468 and version 1 (spec optee-rproc §1.8), so that refusing
 * them can say why. Called only after the current format's exact-size rule
 * failed; recognition is a heuristic on self-consistent sizes and never
 * makes such an image loadable.
 */

function u32le(b: Uint8Array, off: number): number {
  if (off + 4 > b.length) return -1;
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

const ST2020_HEADER_SIZE = 56;
const TRAILER_HEADER_SIZE = 24;
const TRAILER_GENERIC_MAGIC = 0x6907;
const TRAILER_PLATFORM_MAGIC = 0x6908;

function within(off: number, len: number, size: number): boolean {
  return off >= 0 && len >= 0 && off + len <= size;
}

/** A sentence naming the legacy layout, or undefined when the bytes match none. */
export function describeLegacyLayout(bytes: Uint8Array): string | undefined {
  const size = bytes.length;
  // ST 2020: 14 u32 — magic, version, header length, sign_len, sign_offset, sign_type,
  // hash_len, hash_offset, hash_type, key_len, key_offset, img_len, img_offset, img_type.
  if (size >= ST2020_HEADER_SIZE && u32le(bytes, 8) === ST2020_HEADER_SIZE) {
    const signLen = u32le(bytes, 12);
    const signOff = u32le(bytes, 16);
    const hashLen = u32le(bytes, 24);
    const hashOff = u32le(bytes, 28);
    const imgLen = u32le(bytes, 44);
    const imgOff = u32le(bytes, 48);
    if (within(signOff, signLen, size) && within(hashOff, hashLen, size) && within(imgOff, imgLen, size) && imgOff >= ST2020_HEADER_SIZE) {
      return "this is ST's 2020 downstream layout (56-byte header with offsets), which upstream OP-TEE no longer loads; re-sign with sign_rproc_fw.py or `rproc sign`";
    }
  }
  // ST "trailer" variant: magic, version, sign_len, img_len, tlv_len, plat_tlv_len; signature, ELF, trailer TLV blocks.
  if (size >= TRAILER_HEADER_SIZE) {
    const signLen = u32le(bytes, 8);
    const imgLen = u32le(bytes, 12);
    for (const trailer of [TRAILER_HEADER_SIZE + signLen + imgLen, TRAILER_HEADER_SIZE + Math.ceil(signLen / 8) * 8 + Math.ceil(imgLen / 8) * 8]) {
      const m = u32le(bytes, trailer);
      if (m === TRAILER_GENERIC_MAGIC || m === TRAILER_PLATFORM_MAGIC) {
        return "this is ST's downstream 'trailer' layout (24-byte header, TLV blocks after the ELF), which upstream OP-TEE does not load; re-sign with sign_rproc_fw.py or `rproc sign`";
      }
    }
  }
  return undefined;
}
