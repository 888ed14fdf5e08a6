/**
 * A platform PTA modelled on optee_os core/pta/stm32mp/remoteproc_pta.c and
 * core/drivers/remoteproc/stm32_remoteproc.c, over our Platform memory.
 *
 * Firmware memories ("carveouts" in the PTA's words, the secure rproc node's
 * memory-region list): every reserved pool of the processor's memoryRegions
 * except the IPC ones (vdev<N>vring<M>, vdev<N>buffer), each given the device
 * address the processor's translations assign to it. A processor without
 * memoryRegions gets one carveout per translation. Every copy, fill and
 * resource-table translation must lie inside one carveout (ACCESS_DENIED).
 *
 * Like the STM32 PTA: RSA PKCS#1 v1.5 SHA-256 only (ECDSA → NOT_SUPPORTED)
 * unless the processor's config sets acceptEcdsa (then ECDSA P-256 too, over
 * the digest the TA sends, with ecdsa-p256.ts),
 * one public key per processor, key info ignored; RELEASE zero-fills every
 * carveout. Unlike it: state per rproc id (the STM32 PTA has one global
 * state), and the optional host firewall (processor.firewall).
 */
import { createHash, type KeyObject } from "node:crypto";
import { hex } from "../errors.js";
import type { Platform } from "../platform/platform.js";
import type { ProcessorDesc } from "../platform/types.js";
import { teeError } from "../formats/signed-image-errors.js";
import { verifyRsaDigest } from "./crypto.js";
import { verifyEcdsaP256Digest } from "./ecdsa-p256.js";
import { aesCtr, ENC_ALGO_AES_256_CTR } from "./encryption.js";
import {
  PTA_RPROC_HWCAP_FMT_ELF,
  PTA_RPROC_HWCAP_FMT_ENC_ELF,
  PTA_RPROC_HWCAP_PROT_HASH_TABLE,
  TEE_ALG_ECDSA_P256,
  TEE_ALG_RSASSA_PKCS1_V1_5_SHA256,
  type PtaKeyInfo,
  type RprocPta,
  type SegmentDecrypt,
} from "./pta.js";

export interface PtaCarveout {
  name: string;
  pa: number;
  da: number;
  size: number;
}

const IPC_POOL = /^vdev\d+(vring\d+|buffer)$/;

/** The PTA's firmware memories for a processor (see the module comment). */
export function ptaCarveouts(platform: Platform, proc: ProcessorDesc): PtaCarveout[] {
  if (proc.memoryRegions.length === 0) {
    return proc.translations.map((t, i) => ({ name: t.name ?? `translation${i}`, pa: t.pa, da: t.da, size: t.size }));
  }
  const out: PtaCarveout[] = [];
  for (const name of proc.memoryRegions) {
    if (IPC_POOL.test(name)) continue;
    const pool = platform.pool(name);
    if (pool === undefined) continue;
    const da = platform.paToDa(proc, pool.pa, pool.size);
    if (da === undefined) continue;
    out.push({ name, pa: pool.pa, da, size: pool.size });
  }
  return out;
}

export interface PtaProcessor {
  rprocId: number;
  processor: ProcessorDesc;
  /** The trusted public key (the STM32 PTA compiles one in). */
  publicKey?: KeyObject;
  /** AES-256 key for encrypted images (our extension; ST fetches it from OTP/secure storage). */
  encryptionKey?: Uint8Array;
  /**
   * Also verify ECDSA P-256 signatures (SIGNTYPE 2, TEE_ALG_ECDSA_P256) with
   * `publicKey`, which must then be an EC P-256 key. Default false: the
   * upstream STM32MP1 PTA answers TEE_ERROR_NOT_SUPPORTED.
   */
  acceptEcdsa?: boolean;
}

interface Instance extends PtaProcessor {
  carveouts: PtaCarveout[];
  on: boolean;
}

/** SHA-256 of platform memory without copying the range out: one update per backing span. */
function hashMemory(platform: Platform, pa: number, len: number): Uint8Array {
  const h = createHash("sha256");
  let zero: Uint8Array | undefined;
  platform.memory.forEachSpan(pa, len, (bytes, n) => {
    if (bytes !== undefined) h.update(bytes);
    else h.update((zero !== undefined && zero.length >= n ? zero : (zero = new Uint8Array(n))).subarray(0, n));
  });
  return h.digest();
}

export class PlatformPta implements RprocPta {
  readonly platform: Platform;
  private readonly instances = new Map<number, Instance>();
  /** Called by FIRMWARE_START / FIRMWARE_STOP so a simulated core can run; a throw is the PTA's failure. */
  onStart: ((rprocId: number) => void) | undefined;
  onStop: ((rprocId: number) => void) | undefined;

  constructor(platform: Platform, processors: PtaProcessor[]) {
    this.platform = platform;
    for (const p of processors) this.instances.set(p.rprocId >>> 0, { ...p, carveouts: ptaCarveouts(platform, p.processor), on: false });
  }

  carveouts(rprocId: number): PtaCarveout[] {
    return this.get(rprocId).carveouts;
  }

  private get(rprocId: number): Instance {
    const i = this.instances.get(rprocId >>> 0);
    if (i === undefined) throw teeError("TEE_ERROR_BAD_PARAMETERS", `PTA: unknown rproc id ${rprocId}`, { field: "rprocId", value: rprocId });
    return i;
  }

  private requireOff(i: Instance, what: string): void {
    if (i.on) throw teeError("TEE_ERROR_BAD_STATE", `PTA ${what}: remote processor ${i.rprocId} is running`, { field: "state" });
  }

  /** Session-level commands refuse an unknown id with NOT_SUPPORTED (the others say BAD_PARAMETERS). */
  private supported(rprocId: number): Instance {
    const i = this.instances.get(rprocId >>> 0);
    if (i === undefined) throw teeError("TEE_ERROR_NOT_SUPPORTED", `PTA: no remote processor with rproc id ${rprocId}`, { field: "rprocId", value: rprocId });
    return i;
  }

  openSession(rprocId: number): void {
    this.supported(rprocId);
  }

  hwCapabilities(rprocId: number): { format: number; protection: number } {
    const i = this.supported(rprocId);
    return { format: PTA_RPROC_HWCAP_FMT_ELF | (i.encryptionKey !== undefined ? PTA_RPROC_HWCAP_FMT_ENC_ELF : 0), protection: PTA_RPROC_HWCAP_PROT_HASH_TABLE };
  }

  verifyDigest(rprocId: number, keyInfo: PtaKeyInfo, digest: Uint8Array, signature: Uint8Array): void {
    const i = this.get(rprocId);
    this.requireOff(i, "VERIFY_DIGEST");
    const ecdsa = keyInfo.algo === TEE_ALG_ECDSA_P256 && i.acceptEcdsa === true;
    if (keyInfo.algo !== TEE_ALG_RSASSA_PKCS1_V1_5_SHA256 && !ecdsa) {
      throw teeError("TEE_ERROR_NOT_SUPPORTED", `PTA: signature algorithm ${hex(keyInfo.algo)} not supported (this PTA verifies RSA PKCS#1 v1.5 SHA-256 only, as the STM32MP1 PTA; acceptEcdsa adds ECDSA P-256)`, {
        field: "keyInfo.algo",
        value: keyInfo.algo,
      });
    }
    if (i.publicKey === undefined) throw teeError("TEE_ERROR_ITEM_NOT_FOUND", `PTA: no public key configured for rproc id ${rprocId}`, { field: "publicKey" });
    // A key of the other kind cannot have made the signature: SIGNATURE_INVALID, as for a wrong key.
    const ecKey = i.publicKey.asymmetricKeyType === "ec" && i.publicKey.asymmetricKeyDetails?.namedCurve === "prime256v1";
    const ok = ecdsa ? ecKey && verifyEcdsaP256Digest(i.publicKey, digest, signature) : verifyRsaDigest(i.publicKey, digest, signature);
    if (!ok) throw teeError("TEE_ERROR_SIGNATURE_INVALID", "signature does not verify with the platform's public key", { field: "signature" });
  }

  private carveoutFor(i: Instance, da: number, size: number): PtaCarveout {
    const n = Math.max(size, 1);
    const c = i.carveouts.find((x) => da >= x.da && da + n <= x.da + x.size);
    if (c === undefined) {
      throw teeError("TEE_ERROR_ACCESS_DENIED", `PTA: device address ${hex(da)} + ${hex(size)} is outside the firmware memories of rproc ${i.rprocId} (${i.carveouts.map((x) => `${x.name} ${hex(x.da)}+${hex(x.size)}`).join(", ")})`, {
        field: "da",
        value: da,
      });
    }
    return c;
  }

  daToPa(rprocId: number, da: number, size: number): number {
    const i = this.get(rprocId);
    const c = this.carveoutFor(i, da, size);
    return c.pa + (da - c.da);
  }

  loadSegmentSha256(rprocId: number, data: Uint8Array, da: number, sha256: Uint8Array, decrypt?: SegmentDecrypt): void {
    const i = this.get(rprocId);
    if (sha256.length !== 32) throw teeError("TEE_ERROR_BAD_PARAMETERS", "PTA LOAD_SEGMENT: hash is not 32 bytes", { field: "hash" });
    this.requireOff(i, "LOAD_SEGMENT");
    const pa = this.daToPa(rprocId, da, data.length);
    this.platform.secureWrite(pa, data);
    const got = hashMemory(this.platform, pa, data.length);
    if (Buffer.compare(Buffer.from(got), Buffer.from(sha256)) !== 0) {
      this.platform.secureFill(pa, data.length, 0);
      throw teeError("TEE_ERROR_SECURITY", `PTA: segment at ${hex(da)} (${data.length} bytes) does not match its signed hash; destination wiped`, { field: "segment", value: da });
    }
    if (decrypt !== undefined) {
      if (i.encryptionKey === undefined || decrypt.algo !== ENC_ALGO_AES_256_CTR) {
        this.platform.secureFill(pa, data.length, 0);
        throw teeError("TEE_ERROR_NOT_SUPPORTED", `PTA: cannot decrypt segment at ${hex(da)}`, { field: "decrypt" });
      }
      this.platform.secureWrite(pa, aesCtr(i.encryptionKey, decrypt.iv, this.platform.secureRead(pa, data.length)));
    }
  }

  setMemory(rprocId: number, da: number, size: number, value: number): void {
    const i = this.get(rprocId);
    this.requireOff(i, "SET_MEMORY");
    const pa = this.daToPa(rprocId, da, size);
    // The STM32 PTA computes the byte as `value && 0xFF`: any non-zero value fills with 1.
    this.platform.secureFill(pa, size, value !== 0 ? 1 : 0);
  }

  start(rprocId: number): void {
    const i = this.get(rprocId);
    this.requireOff(i, "FIRMWARE_START");
    this.onStart?.(rprocId);
    i.on = true;
  }

  stop(rprocId: number): void {
    const i = this.get(rprocId);
    if (!i.on) throw teeError("TEE_ERROR_BAD_STATE", `PTA FIRMWARE_STOP: remote processor ${rprocId} is not running`, { field: "state" });
    this.onStop?.(rprocId);
    i.on = false;
  }

  release(rprocId: number): void {
    const i = this.get(rprocId);
    this.requireOff(i, "RELEASE");
    for (const c of i.carveouts) this.platform.secureFill(c.pa, c.size, 0);
    this.platform.unlockForHost(this.lockOwner(rprocId));
  }

  readFirmwareMemory(rprocId: number, da: number, size: number): Uint8Array {
    return this.platform.secureRead(this.daToPa(rprocId, da, size), size);
  }

  lockOwner(rprocId: number): string {
    return `tee-rproc-${rprocId >>> 0}`;
  }

  protect(rprocId: number, keep: { pa: number; size: number } | undefined): void {
    const i = this.get(rprocId);
    if (i.processor.firewall !== true) return;
    const owner = this.lockOwner(rprocId);
    this.platform.unlockForHost(owner);
    // The resource table stays open: Linux maps and updates it (vdev status, vring addresses).
    // Subtract it in canonical (alias-resolved) addresses: two pools may be the same RAM.
    const keepRanges = keep === undefined || keep.size === 0 ? [] : this.platform.memory.canonicalRanges(keep.pa, keep.size);
    for (const c of i.carveouts) {
      for (const r of this.platform.memory.canonicalRanges(c.pa, c.size)) {
        let pieces: [number, number][] = [[r.pa, r.pa + r.size]];
        for (const k of keepRanges) {
          pieces = pieces.flatMap(([s, e]): [number, number][] => {
            if (k.pa >= e || k.pa + k.size <= s) return [[s, e]];
            return [
              [s, Math.max(s, k.pa)],
              [Math.min(e, k.pa + k.size), e],
            ];
          });
        }
        for (const [s, e] of pieces) if (e > s) this.platform.lockForHost(s, e - s, owner);
      }
    }
  }
}
