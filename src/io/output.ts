/**
 * The one way rproc writes a file (signed images, core dumps, platform JSON,
 * reports): refuse up front what must not be written over (a directory, a
 * device or other special file, one of the command's inputs), then write a
 * temporary file beside the target, fsync it and rename it into place only
 * when it is complete. On any failure the temporary file is removed and the
 * target is untouched; rproc never unlinks a file it did not create.
 */
import { closeSync, constants, fstatSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { RprocError } from "../errors.js";
import { fileTypeName } from "./file-type.js";

export interface OutputOptions {
  /** What is written, for messages ("signed image", "dump"). */
  what: string;
  /** Paths the command reads: the output may not be any of them (same device and inode). */
  inputs?: string[];
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Throws a typed error when `path` may not be written: a directory, a special file, or one of the inputs. */
export function refuseOutput(path: string, opts: OutputOptions): void {
  const st = statOrUndefined(path);
  if (st === undefined) return;
  if (st.isDirectory()) throw new RprocError("EISDIR", `cannot write ${opts.what} to ${path}: it is a directory`, { field: "output", value: path });
  if (!st.isFile())
    throw new RprocError("EINVAL", `cannot write ${opts.what} to ${path}: it is a ${fileTypeName(st)}, not a regular file`, { field: "output", value: path });
  for (const input of opts.inputs ?? []) {
    const i = statOrUndefined(input);
    if (i !== undefined && i.dev === st.dev && i.ino === st.ino)
      throw new RprocError("EINVAL", `cannot write ${opts.what} to ${path}: it is also an input (${input}); write to another file`, { field: "output", value: path });
  }
}

/** An output being written: write at positions, then commit (rename into place) or abort (remove the temporary). */
export interface AtomicOutput {
  readonly fd: number;
  readonly path: string;
  write(data: Uint8Array, position: number): void;
  commit(): void;
  abort(): void;
}

function writeError(what: string, path: string, e: unknown): RprocError {
  const code = (e as NodeJS.ErrnoException).code;
  const reason = code === "EFBIG" ? "the file-size limit was reached (ulimit -f)" : code === "ENOSPC" ? "no space left on the device" : (e as Error).message;
  return new RprocError(code === "EFBIG" ? "EFBIG" : code === "ENOSPC" ? "ENOSPC" : "EIO", `cannot write ${what} to ${path}: ${reason}; nothing was written and ${path} is untouched`, {
    field: "output",
    value: path,
    cause: e,
  });
}

/** Opens a temporary file beside `path` (after refuseOutput). The caller writes, then commits or aborts. */
export function openAtomicOutput(path: string, opts: OutputOptions): AtomicOutput {
  refuseOutput(path, opts);
  const existing = statOrUndefined(path);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, existing ? existing.mode & 0o7777 : 0o666);
  } catch (e) {
    throw writeError(opts.what, path, e);
  }
  let open = true;
  const cleanup = (): void => {
    if (open) {
      open = false;
      try {
        closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* never created or already gone */
    }
  };
  return {
    fd,
    path,
    write(data, position) {
      try {
        for (let o = 0; o < data.length; ) o += writeSync(fd, data, o, data.length - o, position + o);
      } catch (e) {
        cleanup();
        throw writeError(opts.what, path, e);
      }
    },
    commit() {
      try {
        fsyncSync(fd);
        if (fstatSync(fd).nlink === 0) throw new Error("the temporary file was removed");
        closeSync(fd);
        open = false;
        renameSync(tmp, path);
      } catch (e) {
        cleanup();
        throw writeError(opts.what, path, e);
      }
    },
    abort: cleanup,
  };
}

/** Writes `data` (one buffer or chunks in order) to `path` atomically. Returns the size written. */
export function writeFileAtomic(path: string, data: Uint8Array | Uint8Array[], opts: OutputOptions): number {
  const out = openAtomicOutput(path, opts);
  let at = 0;
  try {
    for (const chunk of Array.isArray(data) ? data : [data]) {
      out.write(chunk, at);
      at += chunk.length;
    }
  } catch (e) {
    out.abort();
    throw e;
  }
  out.commit();
  return at;
}
