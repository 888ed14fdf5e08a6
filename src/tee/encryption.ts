/**
 * Encrypted images (our extension; upstream OP-TEE has none; see
 * docs/encrypted-images.md). Each PT_LOAD segment's file bytes are
 * encrypted with AES-256-CTR under a per-segment IV; the signed hash table
 * covers the ciphertext, so authentication happens before any decryption
 * and the PTA decrypts in place after the hash check (ST's downstream order).
 * CTR keeps the length, so p_filesz and the ELF layout are unchanged.
 */
import { createCipheriv, randomBytes } from "node:crypto";
import { RprocError, hex } from "../errors.js";
import { findTlv, TLV_ENC_ALGO, TLV_ENC_IVS, type TlvArea } from "../formats/signed-image.js";
import { teeError } from "../formats/signed-image-errors.js";
import { PT_LOAD, type Elf32Phdr } from "../formats/signed-image-elf.js";

export const ENC_ALGO_AES_256_CTR = 1;
export const ENC_KEY_SIZE = 32;
export const ENC_IV_SIZE = 16;

/** AES-256-CTR; the IV is the initial 128-bit counter block (big-endian increment). Encrypt = decrypt. */
export function aesCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const c = createCipheriv("aes-256-ctr", key, iv);
  const a = c.update(data);
  const b = c.final();
  return b.length === 0 ? new Uint8Array(a.buffer, a.byteOffset, a.length) : Buffer.concat([a, b]);
}

/** A key file: 64 hex digits (whitespace ignored). */
export function parseEncryptionKey(text: string, source = "key"): Uint8Array {
  const hexText = text.replace(/\s+/g, "");
  if (!/^[0-9a-fA-F]{64}$/.test(hexText)) {
    throw new RprocError("EINVAL", `${source}: expected 64 hex digits (an AES-256 key), got ${hexText.length} characters`, { field: "encryptKey", value: hexText.length, limit: 64 });
  }
  return Uint8Array.from(Buffer.from(hexText, "hex"));
}

/** A fresh IV: 12 random bytes then a 32-bit zero counter, so one segment's counter blocks never wrap into another's nonce. */
export function freshIv(): Uint8Array {
  const iv = new Uint8Array(ENC_IV_SIZE);
  iv.set(randomBytes(12), 0);
  return iv;
}

/**
 * A copy of the ELF with every PT_LOAD's file bytes encrypted, and one IV
 * per program header (zero for headers that are not encrypted). Refuses
 * PT_LOADs sharing file bytes: they would be encrypted twice.
 */
export function encryptElfSegments(elf: Uint8Array, phdrs: Elf32Phdr[], key: Uint8Array, newIv: () => Uint8Array = freshIv): { bytes: Uint8Array; ivs: Uint8Array[] } {
  const loads = phdrs.filter((p) => p.type === PT_LOAD && p.filesz > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < loads.length; i++) {
    const prev = loads[i - 1]!;
    if (prev.offset + prev.filesz > loads[i]!.offset) {
      throw new RprocError("EINVAL", `program headers ${prev.index} and ${loads[i]!.index} share file bytes at ${hex(loads[i]!.offset)}; cannot encrypt each segment once`, {
        field: `programHeaders[${loads[i]!.index}].p_offset`,
      });
    }
  }
  const out = Uint8Array.from(elf);
  const ivs = phdrs.map((p) => {
    if (p.type !== PT_LOAD || p.filesz === 0) return new Uint8Array(ENC_IV_SIZE);
    const iv = newIv();
    out.set(aesCtr(key, iv, elf.subarray(p.offset, p.offset + p.filesz)), p.offset);
    return iv;
  });
  return { bytes: out, ivs };
}

export interface ImageEncryption {
  algo: number;
  /** One IV per hash-table entry, in hash-table order. */
  ivs: Uint8Array[];
}

/** The TA-side reading of ENC_ALGO / ENC_IVS for an image of type 2. */
export function readEncryption(t: TlvArea, hashEntries: number): ImageEncryption {
  const algo = findTlv(t.area, t.tlvLen, TLV_ENC_ALGO);
  if (algo === undefined) throw teeError("TEE_ERROR_NO_DATA", "encrypted image without ENC_ALGO TLV (0x10100)", { field: "tlvs.ENC_ALGO" });
  if (algo.length !== 4) throw teeError("TEE_ERROR_BAD_PARAMETERS", `ENC_ALGO length ${algo.length}, expected 4`, { field: "tlvs.ENC_ALGO", value: algo.length, limit: 4 });
  const id = new DataView(algo.buffer, algo.byteOffset, 4).getUint32(0, true);
  if (id !== ENC_ALGO_AES_256_CTR) throw teeError("TEE_ERROR_NOT_SUPPORTED", `ENC_ALGO ${id} not supported (1 = AES-256-CTR)`, { field: "tlvs.ENC_ALGO", value: id });
  const ivs = findTlv(t.area, t.tlvLen, TLV_ENC_IVS);
  if (ivs === undefined) throw teeError("TEE_ERROR_NO_DATA", "encrypted image without ENC_IVS TLV (0x10101)", { field: "tlvs.ENC_IVS" });
  if (ivs.length !== hashEntries * ENC_IV_SIZE) {
    throw teeError("TEE_ERROR_BAD_PARAMETERS", `ENC_IVS length ${ivs.length}, expected 16 x ${hashEntries} hash entries`, {
      field: "tlvs.ENC_IVS",
      value: ivs.length,
      limit: hashEntries * ENC_IV_SIZE,
    });
  }
  const list: Uint8Array[] = [];
  for (let i = 0; i < hashEntries; i++) list.push(ivs.slice(i * ENC_IV_SIZE, (i + 1) * ENC_IV_SIZE));
  return { algo: id, ivs: list };
}

/** ENC_ALGO and ENC_IVS values for the signer. */
export function encryptionTlvs(ivs: Uint8Array[]): { type: number; value: Uint8Array }[] {
  const algo = new Uint8Array(4);
  new DataView(algo.buffer).setUint32(0, ENC_ALGO_AES_256_CTR, true);
  const all = new Uint8Array(ivs.length * ENC_IV_SIZE);
  ivs.forEach((iv, i) => all.set(iv, i * ENC_IV_SIZE));
  return [
    { type: TLV_ENC_ALGO, value: algo },
    { type: TLV_ENC_IVS, value: all },
  ];
}
