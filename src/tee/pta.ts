/**
 * The platform remoteproc pseudo-TA interface (optee_os
 * lib/libutee/include/remoteproc_pta.h) as the TA model calls it. Each
 * method is one PTA command; failures are thrown RprocErrors carrying the
 * PTA's TEE error, which the TA passes on unchanged.
 */
export const PTA_RPROC_UUID = "54af4a68-19be-40d7-bbe6-8950350a8744";

export const PTA_RPROC_HW_CAPABILITIES = 1;
export const PTA_RPROC_FIRMWARE_LOAD = 2;
export const PTA_RPROC_LOAD_SEGMENT_SHA256 = 3;
export const PTA_RPROC_SET_MEMORY = 4;
export const PTA_RPROC_FIRMWARE_START = 5;
export const PTA_RPROC_FIRMWARE_STOP = 6;
export const PTA_RPROC_FIRMWARE_DA_TO_PA = 7;
export const PTA_RPROC_VERIFY_DIGEST = 8;
export const PTA_REMOTEPROC_RELEASE = 9;

export const PTA_RPROC_HWCAP_FMT_ELF = 1 << 0;
/** ST downstream's capability for encrypted ELF images (bit 1); our extension implements it. */
export const PTA_RPROC_HWCAP_FMT_ENC_ELF = 1 << 1;
export const PTA_RPROC_HWCAP_PROT_HASH_TABLE = 1 << 0;

export const TEE_ALG_RSASSA_PKCS1_V1_5_SHA256 = 0x70004830;
export const TEE_ALG_ECDSA_P256 = 0x70003042;

/** struct rproc_pta_key_info */
export interface PtaKeyInfo {
  algo: number;
  info: Uint8Array;
}

/** Per-segment decryption request (extension): after the hash check, decrypt in place. */
export interface SegmentDecrypt {
  algo: number;
  iv: Uint8Array;
}

export interface RprocPta {
  /** Open-session check: the PTA refuses unknown rproc ids (NOT_SUPPORTED). */
  openSession(rprocId: number): void;
  hwCapabilities(rprocId: number): { format: number; protection: number };
  verifyDigest(rprocId: number, keyInfo: PtaKeyInfo, digest: Uint8Array, signature: Uint8Array): void;
  /** Copy to device memory at `da`, re-hash there, wipe and fail (TEE_ERROR_SECURITY) on mismatch. */
  loadSegmentSha256(rprocId: number, data: Uint8Array, da: number, sha256: Uint8Array, decrypt?: SegmentDecrypt): void;
  setMemory(rprocId: number, da: number, size: number, value: number): void;
  daToPa(rprocId: number, da: number, size: number): number;
  start(rprocId: number): void;
  stop(rprocId: number): void;
  /** Zero-fills every firmware memory of the processor. */
  release(rprocId: number): void;
  /**
   * Extension, used only for encrypted images: the decrypted bytes at `da`
   * (the resource table is checked after decryption). Undefined when they
   * cannot be known (offline verification without the key).
   */
  readFirmwareMemory(rprocId: number, da: number, size: number): Uint8Array | undefined;
  /** Extension: firewall the firmware memory from the host after a successful load, leaving [keepPa, +keepSize) (the resource table) open. */
  protect(rprocId: number, keep: { pa: number; size: number } | undefined): void;
}
