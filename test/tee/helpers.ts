/** Shared fixtures for the TEE tests: the OP-TEE interop vectors and a stm32mp157 TA. */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Platform } from "../../src/platform/platform.js";
import { loadVerifyKey } from "../../src/tee/crypto.js";
import { PlatformPta } from "../../src/tee/platform-pta.js";
import { RemoteprocTa, TA_COMMAND_NAMES } from "../../src/tee/ta.js";
import { TEE_RESULT, teeError } from "../../src/formats/signed-image-errors.js";

/** OP-TEE's signed vectors, copied into the repository with their provenance (README.md there). */
export const VECTORS = resolve(dirname(fileURLToPath(import.meta.url)), "../../fixtures/vectors/optee");

export function vector(name: string): Uint8Array {
  // A fresh, 4-aligned copy: tests mutate it, and the TA wants an aligned buffer.
  return Uint8Array.from(readFileSync(resolve(VECTORS, name)));
}

export interface ExpectedEntry {
  file: string;
  verify_key: string;
  deterministic: boolean;
  sha256: string;
  size: number;
  header: { magic: string; version: number; tlv_len: number; sign_len: number; img_len: number };
  tlv_area_offset: number;
  signature_offset: number;
  images_offset: number;
  sign_type: number;
  hash_type: number;
  tlvs: { type: string; length: number; value_hex: string | null }[];
  images: { offset: number; size: number }[];
  hash_table: { p_type: number; p_offset: number; p_vaddr: number; p_paddr: number; p_filesz: number; p_memsz: number; p_flags: number; p_align: number; sha256: string }[];
  loaded_segments: { paddr: number; filesz: number; memsz: number }[];
  resource_tables: { da: number; size: number }[];
}

export function expected(): ExpectedEntry[] {
  return (JSON.parse(readFileSync(resolve(VECTORS, "expected.json"), "utf8")) as { entries: ExpectedEntry[] }).entries;
}

export const RSA_VECTORS = ["fw_demo_m4.rsa2048.bin", "fw_demo_m4.rsa2048.tlvs.bin", "fw_demo_m4+aux_a.rsa2048.multi.bin"];

/** A stm32mp157 (or variant) platform with the vector RSA key as the PTA's trusted key. */
export function makeTa(platformName = "stm32mp157", opts: { encryptionKey?: Uint8Array } = {}): { platform: Platform; pta: PlatformPta; ta: RemoteprocTa } {
  const platform = Platform.load(platformName);
  const proc = platform.processor();
  const pta = new PlatformPta(platform, [
    { rprocId: proc.tee?.rprocId ?? 0, processor: proc, publicKey: loadVerifyKey(readFileSync(resolve(VECTORS, "keys/rsa2048_pub.pem"))).key, encryptionKey: opts.encryptionKey },
  ]);
  return { platform, pta, ta: new RemoteprocTa(pta) };
}

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Records every TA command by name and makes the nth call (counted per
 * command over the TA's life) of `fail.cmd` fail with TEE_ERROR_GENERIC, as
 * a transport or TA failure Linux would see as -EIO.
 */
export function recordTaCalls(ta: RemoteprocTa, fail?: { cmd: number; nth: number }): string[] {
  const calls: string[] = [];
  const seen = new Map<number, number>();
  const real = ta.invoke.bind(ta);
  (ta as { invoke: RemoteprocTa["invoke"] }).invoke = (s, cmd, pt, params) => {
    const n = (seen.get(cmd) ?? 0) + 1;
    seen.set(cmd, n);
    calls.push(TA_COMMAND_NAMES[cmd]!);
    if (fail !== undefined && fail.cmd === cmd && fail.nth === n) return { result: TEE_RESULT.TEE_ERROR_GENERIC, error: teeError("TEE_ERROR_GENERIC", "injected TA failure") };
    return real(s, cmd, pt, params);
  };
  return calls;
}
