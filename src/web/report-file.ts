/**
 * `--html FILE`: the page for a report, written in one piece (a temporary
 * file beside the target, then rename), so a reader never sees half a file.
 */
import { randomBytes } from "node:crypto";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { RprocError } from "../errors.js";
import { Platform } from "../platform/platform.js";
import type { PageData } from "./data.js";
import { renderPage } from "./page.js";

/** Temp + rename in the target's folder (same file system, so rename is atomic). */
export function writeFileAtomic(path: string, text: string): number {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const data = Buffer.from(text, "utf8");
  try {
    writeFileSync(tmp, data, { flag: "wx", mode: 0o644 });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    const err = e as NodeJS.ErrnoException;
    throw new RprocError(err.code === "ENOENT" || err.code === "EACCES" || err.code === "ENOSPC" ? err.code : "EIO", `cannot write ${path}: ${err.message}`, { field: "html" });
  }
  return data.length;
}

/** Render the page for a report and write it; returns the bytes written. */
export function writeHtmlReport(path: string, platform: Platform | PageData["platform"], data: Omit<PageData, "platform">): number {
  const desc = platform instanceof Platform ? platform.desc : platform;
  return writeFileAtomic(path, renderPage({ ...data, platform: desc }));
}
