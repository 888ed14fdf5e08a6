/**
 * The signer from files to a file, in one streaming pass: the same bytes as
 * signFirmware() (and sign_rproc_fw.py), without holding the inputs in
 * memory. Reading a 32 MiB ELF into a fresh buffer costs more than hashing it
 * (every new page is faulted in), so each input goes through one reused
 * 1 MiB buffer: each chunk feeds the hash of every program header it
 * overlaps and is written at its final place in the output; the prefix
 * (header, TLVs, signature), whose length depends on sizes only, is written
 * last. Plain images only: encryption (which rewrites the segment bytes) uses
 * signFirmwareParts().
 */
import { createHash, type Hash } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync, rmSync, statSync, writeSync, type Stats } from "node:fs";
import { RprocError } from "../errors.js";
import { HASH_ENTRY_SIZE, r8 } from "../formats/signed-image.js";
import { encodeHashEntries, encodeSignedPrefix, type PrefixImage } from "../formats/signed-image-encode.js";
import { readSignerElfFrom, type Elf32Phdr } from "../formats/signed-image-elf.js";
import { signMessage } from "./crypto.js";
import { requireArm, requireInputs, type SignOptions } from "./sign.js";

const CHUNK = 1 << 20;

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

export interface SignFileInput {
  /** Name used in messages (the path as the user gave it). */
  name: string;
  /** Resolved path. */
  path: string;
}

interface OpenInput extends SignFileInput {
  fd: number;
  size: number;
  phdrs: Elf32Phdr[];
}

function fileError(code: "ENOENT" | "EIO", what: string, name: string, e: unknown): RprocError {
  return new RprocError(code, `cannot ${what} ${name}: ${(e as Error).message}`, { field: what === "write" ? "out" : "ELF", cause: e });
}

function readAt(fd: number, off: number, len: number, name: string): Uint8Array {
  const b = new Uint8Array(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, b, got, len - got, off + got);
    if (n === 0) throw new RprocError("EIO", `${name}: file shrank while being read`, { field: "ELF" });
    got += n;
  }
  return b;
}

/** A failed signing leaves no output file behind. */
function discardOutput(fd: number, path: string): void {
  try {
    closeSync(fd);
  } catch {
    /* already failing */
  }
  rmSync(path, { force: true });
}

function writeAll(fd: number, data: Uint8Array, pos: number): void {
  for (let o = 0; o < data.length; ) o += writeSync(fd, data, o, data.length - o, pos + o);
}

function openInput(input: SignFileInput): OpenInput {
  let fd: number;
  try {
    fd = openSync(input.path, "r");
  } catch (e) {
    throw fileError((e as NodeJS.ErrnoException).code === "ENOENT" ? "ENOENT" : "EIO", "read ELF", input.name, e);
  }
  try {
    const size = fstatSync(fd).size;
    const info = requireArm(readSignerElfFrom((off, len) => readAt(fd, off, len, input.name), size, input.name), input.name);
    return { ...input, fd, size, phdrs: info.phdrs };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Streams one input to `out` at `at`, feeding each program header's SHA-256; returns its hash entries. */
function copyAndHash(input: OpenInput, out: number, at: number, buf: Uint8Array): Uint8Array {
  const hashes: Hash[] = input.phdrs.map(() => createHash("sha256"));
  for (let pos = 0; pos < input.size; ) {
    const n = readSync(input.fd, buf, 0, Math.min(buf.length, input.size - pos), pos);
    if (n === 0) throw new RprocError("EIO", `${input.name}: file shrank while being read`, { field: "ELF" });
    const chunk = buf.subarray(0, n);
    input.phdrs.forEach((ph, i) => {
      const from = Math.max(ph.offset, pos);
      const to = Math.min(ph.offset + ph.filesz, pos + n);
      if (from < to) hashes[i]!.update(chunk.subarray(from - pos, to - pos));
    });
    writeAll(out, chunk, at + pos);
    pos += n;
  }
  const pad = r8(input.size) - input.size;
  if (pad > 0) writeAll(out, new Uint8Array(pad), at + input.size);
  return encodeHashEntries(input.phdrs, hashes.map((h) => h.digest()));
}

/** Signs the ELF files into `outPath`. Returns the prefix (header, TLVs, signature) and the file size. */
export function signFirmwareFiles(inputs: SignFileInput[], outPath: string, opts: Omit<SignOptions, "encryptKey" | "newIv">): { prefix: Uint8Array; size: number; imageSizes: number[] } {
  requireInputs(inputs);
  const open: OpenInput[] = [];
  let out: number | undefined;
  try {
    for (const i of inputs) open.push(openInput(i));
    // Opening the output truncates it: an output that is one of the inputs must be signed in memory.
    const outStat = statOrUndefined(outPath);
    const clash = outStat !== undefined && open.some((im) => {
      const st = fstatSync(im.fd);
      return st.dev === outStat.dev && st.ino === outStat.ino;
    });
    if (clash) throw new RprocError("EINVAL", `output ${outPath} is also an input; sign to another file`, { field: "out" });
    const base = { signType: opts.key.signType, signLen: opts.key.signLen, keyInfo: opts.keyInfo, platformTlvs: opts.platformTlvs ?? [] };
    // The prefix length from sizes alone (zero hashes, zero signature): where the images go.
    const dry = encodeSignedPrefix({
      ...base,
      images: open.map((im): PrefixImage => ({ size: im.size, hashTable: new Uint8Array(im.phdrs.length * HASH_ENTRY_SIZE) })),
      sign: () => new Uint8Array(opts.key.signLen),
    });
    try {
      out = openSync(outPath, "w");
    } catch (e) {
      throw fileError("EIO", "write", outPath, e);
    }
    const buf = new Uint8Array(CHUNK);
    let at = dry.length;
    const images: PrefixImage[] = [];
    for (const im of open) {
      images.push({ size: im.size, hashTable: copyAndHash(im, out, at, buf) });
      at += r8(im.size);
    }
    const prefix = encodeSignedPrefix({ ...base, images, sign: (m) => signMessage(opts.key, m) });
    if (prefix.length !== dry.length) throw new RprocError("EIO", `signed prefix is ${prefix.length} bytes, expected ${dry.length}`, { field: "prefix" });
    writeAll(out, prefix, 0);
    closeSync(out);
    out = undefined;
    return { prefix, size: at, imageSizes: open.map((im) => im.size) };
  } catch (e) {
    if (out !== undefined) discardOutput(out, outPath);
    if (e instanceof RprocError) throw e;
    throw fileError("EIO", "write", outPath, e);
  } finally {
    for (const im of open) closeSync(im.fd);
  }
}

/** Writes chunks in order to a new file (the encrypted path's output); a failed write leaves no file. Returns the size. */
export function writeChunksToFile(outPath: string, parts: Uint8Array[]): number {
  let out: number | undefined;
  try {
    out = openSync(outPath, "w");
    let at = 0;
    for (const p of parts) {
      writeAll(out, p, at);
      at += p.length;
    }
    closeSync(out);
    return at;
  } catch (e) {
    if (out !== undefined) discardOutput(out, outPath);
    throw fileError("EIO", "write", outPath, e);
  }
}
