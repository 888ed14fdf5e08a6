/**
 * request_firmware(): find a firmware file by name along a search path, as
 * the kernel's firmware loader walks its fw_path list. A name that is an
 * absolute path or starts with ./ or ../ is used as given (a CLI convenience
 * the kernel does not have; the kernel would prefix every entry).
 */
import { readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { RprocError } from "../errors.js";

export interface Firmware {
  name: string;
  path: string;
  data: Uint8Array;
}

/** The kernel's last-resort directory; callers put the platform's folder first. */
export const DEFAULT_FIRMWARE_DIR = "/lib/firmware";

function isExplicitPath(name: string): boolean {
  return isAbsolute(name) || name.startsWith("./") || name.startsWith("../");
}

function readIfFile(path: string): Uint8Array | undefined {
  try {
    if (!statSync(path).isFile()) return undefined;
    const buf = readFileSync(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch {
    return undefined;
  }
}

/** ENOENT lists every place tried, with the kernel's own log line first (user problem #11). */
export function requestFirmware(name: string, searchPath: string[], cwd: string = process.cwd()): Firmware {
  if (name.length === 0) throw new RprocError("EINVAL", "request_firmware: empty firmware name", { field: "firmware" });
  const tried: string[] = [];
  const candidates = isExplicitPath(name) ? [resolve(cwd, name)] : searchPath.map((dir) => join(resolve(cwd, dir), name));
  for (const path of candidates) {
    tried.push(path);
    const data = readIfFile(path);
    if (data) return { name, path, data };
  }
  const where = tried.length === 0 ? "no search path configured" : "tried: " + tried.join(", ");
  throw new RprocError("ENOENT", `Direct firmware load for ${name} failed with error -2 (${where})`, {
    field: "firmware",
    value: name,
  });
}
