/**
 * The signer: same output as optee_os scripts/sign_rproc_fw.py for the same
 * inputs (RSA byte-identical; ECDSA identical except the randomised 64
 * signature bytes), plus optional per-segment encryption (our extension).
 */
import { RprocError, hex } from "../errors.js";
import { IMG_TYPE_ENCRYPTED_ELF, PLAT_TLV_MAX, PLAT_TLV_MIN, TLV_ENC_ALGO, TLV_ENC_IVS } from "../formats/signed-image.js";
import { encodeSignedImage, encodeSignedImageParts, type EncodeImage, type EncodeOptions } from "../formats/signed-image-encode.js";
import { EM_ARM, readSignerElf, type SignerElfInfo } from "../formats/signed-image-elf.js";
import { signMessage, type SigningKey } from "./crypto.js";
import { encryptElfSegments, encryptionTlvs, freshIv } from "./encryption.js";

export interface PlatformTlv {
  type: number;
  value: Uint8Array;
}

/** Python's int(text, 0): optional sign, 0x/0o/0b prefixes, underscores between digits, no leading zeros in decimal. */
export function parsePythonInt(text: string): number | undefined {
  const t = text.trim();
  const m = /^([+-]?)(0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|0(?:_?0)*|[1-9](?:_?[0-9])*)$/.exec(t);
  if (m === null) return undefined;
  const body = m[2]!.replace(/_/g, "");
  const v = /^0[xXoObB]/.test(body) ? Number(BigInt(body)) : Number(body);
  return m[1] === "-" ? -v : v;
}

/**
 * The script's --plat-tlv ID VALUE handling: ID in 0x10000..0x1FFFF; VALUE
 * starting with lowercase "0x" is a u32 LE, anything else its UTF-8 bytes.
 * A repeated ID keeps its first position and takes the last value (a dict).
 */
export function parsePlatformTlvs(args: { id: string; value: string }[]): PlatformTlv[] {
  const byId = new Map<number, Uint8Array>();
  for (const { id, value } of args) {
    const type = parsePythonInt(id);
    if (type === undefined) throw new RprocError("EINVAL", `--plat-tlv: ID '${id}' is not an integer`, { field: "plat-tlv", value: id });
    if (type < PLAT_TLV_MIN || type > PLAT_TLV_MAX) {
      throw new RprocError("EINVAL", `--plat-tlv: TLV ${hex(type)} not in range ${hex(PLAT_TLV_MIN)}..${hex(PLAT_TLV_MAX)}`, { field: "plat-tlv", value: type });
    }
    let bytes: Uint8Array;
    if (value.startsWith("0x")) {
      const digits = value.slice(2);
      if (!/^[0-9a-fA-F](?:_?[0-9a-fA-F])*$/.test(digits.trim())) throw new RprocError("EINVAL", `--plat-tlv ${id}: '${value}' is not a hex integer`, { field: "plat-tlv", value });
      const n = BigInt("0x" + digits.trim().replace(/_/g, ""));
      if (n > 0xffffffffn) throw new RprocError("EOVERFLOW", `--plat-tlv ${id}: ${value} does not fit in 32 bits`, { field: "plat-tlv", value, limit: 0xffffffff });
      bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setUint32(0, Number(n), true);
    } else {
      bytes = new TextEncoder().encode(value);
    }
    byId.set(type, bytes);
  }
  return [...byId].map(([type, value]) => ({ type, value }));
}

export interface SignOptions {
  key: SigningKey;
  keyInfo?: Uint8Array;
  platformTlvs?: PlatformTlv[];
  /** AES-256 key: encrypt every PT_LOAD segment (images get IMGTYPE 2). */
  encryptKey?: Uint8Array;
  /** IV source for encryption (tests make it deterministic). */
  newIv?: () => Uint8Array;
}

export interface SignInput {
  name: string;
  bytes: Uint8Array;
}

/** The script needs at least one --in. */
export function requireInputs(inputs: unknown[]): void {
  if (inputs.length === 0) throw new RprocError("EINVAL", "sign: at least one ELF image is needed", { field: "images" });
}

/** sign_rproc_fw.py asserts e_machine is EM_ARM for every input. */
export function requireArm(info: SignerElfInfo, name: string): SignerElfInfo {
  if (info.machine !== EM_ARM) {
    throw new RprocError("EINVAL", `${name}: e_machine ${info.machine} is not ARM (40); sign_rproc_fw.py only signs Arm ELF32 images`, {
      field: "e_machine",
      value: info.machine,
      limit: EM_ARM,
    });
  }
  return info;
}

function encodeOptions(inputs: SignInput[], opts: SignOptions): EncodeOptions {
  requireInputs(inputs);
  const platformTlvs = opts.platformTlvs ?? [];
  const encIvs: Uint8Array[] = [];
  if (opts.encryptKey !== undefined && platformTlvs.some((p) => p.type === TLV_ENC_ALGO || p.type === TLV_ENC_IVS)) {
    throw new RprocError("EINVAL", `sign: --plat-tlv ${hex(TLV_ENC_ALGO)}/${hex(TLV_ENC_IVS)} are reserved for encryption`, { field: "plat-tlv" });
  }
  const images: EncodeImage[] = inputs.map((input) => {
    const info = requireArm(readSignerElf(input.bytes, input.name), input.name);
    if (opts.encryptKey === undefined) return { bytes: input.bytes, phdrs: info.phdrs };
    const enc = encryptElfSegments(input.bytes, info.phdrs, opts.encryptKey, opts.newIv ?? freshIv);
    encIvs.push(...enc.ivs);
    return { bytes: enc.bytes, phdrs: info.phdrs, type: IMG_TYPE_ENCRYPTED_ELF };
  });
  return {
    signType: opts.key.signType,
    signLen: opts.key.signLen,
    images,
    keyInfo: opts.keyInfo,
    platformTlvs: opts.encryptKey === undefined ? platformTlvs : [...platformTlvs, ...encryptionTlvs(encIvs)],
    sign: (message) => signMessage(opts.key, message),
  };
}

/** The signed image in one buffer. */
export function signFirmware(inputs: SignInput[], opts: SignOptions): Uint8Array {
  return encodeSignedImage(encodeOptions(inputs, opts));
}

/** The signed image as chunks to write in order (the inputs are not copied). */
export function signFirmwareParts(inputs: SignInput[], opts: SignOptions): Uint8Array[] {
  return encodeSignedImageParts(encodeOptions(inputs, opts));
}
