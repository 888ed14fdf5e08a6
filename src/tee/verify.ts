/**
 * Offline verification of a signed image, as the TA would check it before
 * loading: the TA's own LOAD_FW algorithm (load-fw.ts) run against a PTA
 * that verifies the signature with a given public key and re-hashes each
 * segment instead of writing device memory. The first failure is the TA's
 * failure, with the same TEE error.
 *
 * One difference from the platform PTA: ECDSA P-256 signatures verify here
 * (over the signed message; Node cannot verify a prehashed ECDSA digest),
 * while the STM32MP1 PTA refuses them (inspect warns about that).
 */
import { createHash, type KeyObject } from "node:crypto";
import { RprocError } from "../errors.js";
import { readSignType, readSignedLayout, tlvArea } from "../formats/signed-image.js";
import { teeError } from "../formats/signed-image-errors.js";
import { aesCtr } from "./encryption.js";
import { loadVerifyKey, verifyMessage, type KeyType } from "./crypto.js";
import { taLoadFirmware, type LoadedSegment } from "./load-fw.js";
import { PTA_RPROC_HWCAP_FMT_ELF, PTA_RPROC_HWCAP_FMT_ENC_ELF, PTA_RPROC_HWCAP_PROT_HASH_TABLE, type PtaKeyInfo, type RprocPta, type SegmentDecrypt } from "./pta.js";

export interface VerifyOptions {
  /** AES-256 key of an encrypted image: lets the resource table be checked after decryption. */
  decryptKey?: Uint8Array;
}

export interface VerifyResult {
  valid: boolean;
  signType?: number;
  /** True once the signature verified (false when it failed or was never reached). */
  signatureValid: boolean;
  segments: (LoadedSegment & { sha256: string })[];
  resourceTable?: { da: number; size: number; headerChecked: boolean };
  encrypted: boolean;
  error?: RprocError;
}

/** A PTA stand-in for offline checks: identity address map, no memory except decrypted segments. */
class VerifyPta implements RprocPta {
  readonly decrypted: { da: number; bytes: Uint8Array }[] = [];
  signatureValid = false;
  encrypted = false;
  rscUnchecked = false;
  readonly hashes = new Map<number, string>();
  constructor(
    private readonly pub: { key: KeyObject; type: KeyType },
    private readonly signType: number,
    private readonly message: Uint8Array,
    private readonly decryptKey: Uint8Array | undefined,
  ) {}
  openSession(): void {}
  hwCapabilities(): { format: number; protection: number } {
    return { format: PTA_RPROC_HWCAP_FMT_ELF | PTA_RPROC_HWCAP_FMT_ENC_ELF, protection: PTA_RPROC_HWCAP_PROT_HASH_TABLE };
  }
  verifyDigest(_id: number, _k: PtaKeyInfo, digest: Uint8Array, signature: Uint8Array): void {
    const same = Buffer.compare(createHash("sha256").update(this.message).digest(), Buffer.from(digest)) === 0;
    if (!same || !verifyMessage(this.pub, this.signType, this.message, signature)) {
      throw teeError("TEE_ERROR_SIGNATURE_INVALID", "signature does not verify with the given public key", { field: "signature" });
    }
    this.signatureValid = true;
  }
  loadSegmentSha256(_id: number, data: Uint8Array, da: number, sha256: Uint8Array, decrypt?: SegmentDecrypt): void {
    const got = createHash("sha256").update(data).digest();
    if (Buffer.compare(got, Buffer.from(sha256)) !== 0) {
      throw teeError("TEE_ERROR_SECURITY", `segment at 0x${da.toString(16)} (${data.length} bytes) does not match its signed hash`, { field: "segment", value: da });
    }
    this.hashes.set(da, got.toString("hex"));
    if (decrypt !== undefined) {
      this.encrypted = true;
      if (this.decryptKey !== undefined) this.decrypted.push({ da, bytes: aesCtr(this.decryptKey, decrypt.iv, data) });
    }
  }
  setMemory(): void {}
  daToPa(_id: number, da: number): number {
    return da;
  }
  start(): void {}
  stop(): void {}
  release(): void {}
  readFirmwareMemory(_id: number, da: number, size: number): Uint8Array | undefined {
    const seg = this.decrypted.find((s) => da >= s.da && da + size <= s.da + s.bytes.length);
    if (seg === undefined) {
      this.rscUnchecked = true;
      return undefined;
    }
    return seg.bytes.subarray(da - seg.da, da - seg.da + size);
  }
  protect(): void {}
}

export function verifySignedImage(bytes: Uint8Array, publicKey: Uint8Array | string | { key: KeyObject; type: KeyType }, opts: VerifyOptions = {}): VerifyResult {
  const pub = typeof publicKey === "string" || publicKey instanceof Uint8Array ? loadVerifyKey(publicKey) : publicKey;
  let pta: VerifyPta | undefined;
  let signType: number | undefined;
  try {
    const layout = readSignedLayout(bytes);
    signType = readSignType(tlvArea(bytes, layout));
    pta = new VerifyPta(pub, signType, bytes.subarray(0, layout.signOffset), opts.decryptKey);
    // The TA needs a 4-aligned buffer; a file read into a Buffer may sit anywhere in a pool.
    const buf = bytes.byteOffset % 4 === 0 ? bytes : Uint8Array.from(bytes);
    const r = taLoadFirmware(pta, 0, buf);
    return {
      valid: true,
      signType,
      signatureValid: true,
      segments: r.segments.map((s) => ({ ...s, sha256: pta!.hashes.get(s.phdr.paddr) ?? "" })),
      resourceTable: r.rscSize > 0 ? { da: r.rscDa, size: r.rscSize, headerChecked: !pta.rscUnchecked } : undefined,
      encrypted: pta.encrypted,
    };
  } catch (e) {
    if (!(e instanceof RprocError)) throw e;
    return { valid: false, signType, signatureValid: pta?.signatureValid ?? false, segments: [], encrypted: pta?.encrypted ?? false, error: e };
  }
}
