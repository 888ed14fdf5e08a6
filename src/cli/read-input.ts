import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { RprocError } from "../errors.js";
import type { CliIO } from "./io.js";

/** Reads a file the user named; a missing or unreadable file is a typed error naming it. */
export function readInput(io: CliIO, path: string, what: string): Uint8Array {
  try {
    return readFileSync(resolve(io.cwd, path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code === "ENOENT" ? "ENOENT" : "EIO";
    throw new RprocError(code, `cannot read ${what} ${path}: ${(e as Error).message}`, { field: what, cause: e });
  }
}
