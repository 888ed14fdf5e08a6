/**
 * Picks the TEE driver for `rproc boot` when the firmware is an OP-TEE
 * signed image (magic 68 a4 43 35): the loader is chosen by the image
 * format, as OpenAMP does, not by a flag. Returns nothing for other images.
 */
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { resolve } from "node:path";
import { DEFAULT_FIRMWARE_DIR, firmwareCandidates } from "../../core/firmware.js";
import { RprocError } from "../../errors.js";
import { Platform } from "../../platform/platform.js";
import { isSignedImage } from "../../formats/signed-image.js";
import { parseEncryptionKey } from "../../tee/encryption.js";
import type { TeeDriverOptions } from "./driver.js";

function head(path: string): Uint8Array {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const b = new Uint8Array(4);
    const n = readSync(fd, b, 0, 4, 0);
    return b.subarray(0, n);
  } catch {
    return new Uint8Array(0);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function readKey(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new RprocError("ENOENT", `cannot read ${what} ${path}: ${(e as Error).message}`, { field: what, cause: e });
  }
}

/**
 * The first 4 bytes of the file request_firmware will load (the one
 * resolver, src/core/firmware.ts); nothing for a name found nowhere or
 * refused, which request_firmware reports itself.
 */
function firmwareHead(firmware: string, cwd: string, searchPath: string[]): Uint8Array {
  let candidates: string[];
  try {
    candidates = firmwareCandidates(firmware, searchPath, cwd);
  } catch {
    return new Uint8Array(0);
  }
  for (const path of candidates) {
    const h = head(path);
    if (h.length > 0) return h;
  }
  return new Uint8Array(0);
}

function defaultSearchPath(platform: string | undefined): string[] {
  let dir: string | undefined;
  try {
    dir = platform === undefined ? undefined : Platform.load(platform).dir;
  } catch {
    dir = undefined; // the boot itself reports a platform that does not load
  }
  return [...(dir !== undefined ? [dir] : []), DEFAULT_FIRMWARE_DIR];
}

export function teeBootOptions(
  firmware: string,
  cwd: string,
  opts: { teeKey?: string; teeEncKey?: string; searchPath?: string[]; platform?: string } = {},
): { driver: string; driverOptions: TeeDriverOptions } | undefined {
  if (!isSignedImage(firmwareHead(firmware, cwd, opts.searchPath ?? defaultSearchPath(opts.platform)))) return undefined;
  const driverOptions: TeeDriverOptions = {};
  if (opts.teeKey !== undefined) driverOptions.publicKeyPem = readKey(resolve(cwd, opts.teeKey), "--tee-key");
  if (opts.teeEncKey !== undefined) driverOptions.encryptionKey = parseEncryptionKey(new TextDecoder().decode(readKey(resolve(cwd, opts.teeEncKey), "--tee-enc-key")), opts.teeEncKey);
  return { driver: "tee", driverOptions };
}
