/**
 * request_firmware(): find a firmware file by name along a search path, as
 * the kernel's firmware loader walks its fw_path list. This is the one
 * firmware resolver: the core, the TEE boot path and the CLI all use it.
 * An absolute name or one starting with ./ is used as given (a library
 * convenience the kernel does not have; the kernel would prefix every
 * entry); a name with a `..` component is refused, as _request_firmware
 * does (name_contains_dotdot), so no name escapes the search path.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
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
  return isAbsolute(name) || name.startsWith("./");
}

/** drivers/base/firmware_loader/main.c name_contains_dotdot(). */
function containsDotdot(name: string): boolean {
  return name === ".." || name.startsWith("../") || name.includes("/../") || name.endsWith("/..");
}

/**
 * The paths request_firmware tries for `name`, in order. Throws EINVAL for an
 * empty name or one with a `..` component (the kernel's "Firmware load for
 * '%s' refused, path contains '..' component").
 */
export function firmwareCandidates(name: string, searchPath: string[], cwd: string = process.cwd()): string[] {
  if (name.length === 0) throw new RprocError("EINVAL", "request_firmware: empty firmware name", { field: "firmware" });
  if (isExplicitPath(name)) return [resolve(cwd, name)];
  if (containsDotdot(name))
    throw new RprocError("EINVAL", `Firmware load for '${name}' refused, path contains '..' component`, { field: "firmware", value: name });
  return searchPath.map((dir) => join(resolve(cwd, dir), name));
}

/**
 * A firmware argument from the command line: a file that exists relative to
 * the working directory is meant as a path (made absolute); anything else is
 * a name for the search path.
 */
export function firmwareArg(arg: string, cwd: string): string {
  if (isAbsolute(arg)) return arg;
  const asPath = resolve(cwd, arg);
  return existsSync(asPath) ? asPath : arg;
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
  const candidates = firmwareCandidates(name, searchPath, cwd);
  for (const path of candidates) {
    const data = readIfFile(path);
    if (data) return { name, path, data };
  }
  const where = candidates.length === 0 ? "no search path configured" : "tried: " + candidates.join(", ");
  throw new RprocError("ENOENT", `Direct firmware load for ${name} failed with error -2 (${where})`, {
    field: "firmware",
    value: name,
  });
}
