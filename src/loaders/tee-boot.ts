/**
 * Picks the TEE driver for `rproc boot` when the firmware is an OP-TEE
 * signed image (magic 68 a4 43 35): the loader is chosen by the image
 * format, as OpenAMP does, not by a flag. Returns nothing for other images.
 */
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { resolve } from "node:path";
import { RprocError } from "../errors.js";
import { isSignedImage } from "../formats/signed-image.js";
import { parseEncryptionKey } from "../tee/encryption.js";
import "./tee-loader.js";
import type { TeeDriverOptions } from "./tee-loader.js";

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

export function teeBootOptions(firmwarePath: string, cwd: string, opts: { teeKey?: string; teeEncKey?: string } = {}): { driver: string; driverOptions: TeeDriverOptions } | undefined {
  if (!isSignedImage(head(resolve(cwd, firmwarePath)))) return undefined;
  const driverOptions: TeeDriverOptions = {};
  if (opts.teeKey !== undefined) driverOptions.publicKeyPem = readKey(resolve(cwd, opts.teeKey), "--tee-key");
  if (opts.teeEncKey !== undefined) driverOptions.encryptionKey = parseEncryptionKey(new TextDecoder().decode(readKey(resolve(cwd, opts.teeEncKey), "--tee-enc-key")), opts.teeEncKey);
  return { driver: "tee", driverOptions };
}
