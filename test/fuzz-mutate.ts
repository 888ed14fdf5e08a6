/**
 * Seeded mutations of firmware images for the format fuzzers
 * (test/fuzz-formats.test.ts, bench/fuzz-long.ts): bit flips, truncation,
 * header and table fields set to edge values, garbage appended. The seeds
 * are the ELF fixtures plus signed images and core files (test/fuzz-seeds.ts),
 * so every parser `inspect()` reaches is fuzzed.
 */
import { readFileSync, readdirSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { isRprocError } from "../src/errors.js";
import { inspect, type InspectResult } from "../src/inspect.js";
import { parseElf, findSymbol } from "../src/formats/elf.js";
import { isSignedImage, parseSignedImage } from "../src/formats/signed-image.js";
import { findResourceTable, parseResourceTable, encodeResourceTable, lintResourceTable } from "../src/formats/resource-table.js";

/** mulberry32: small, fast, good enough to spread mutations; the seed makes failures reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Seed {
  name: string;
  bytes: Uint8Array;
  /** File offsets of fields worth hitting with edge values (header, program/section headers, resource table). */
  fields: { off: number; size: 1 | 2 | 4 | 8 }[];
}

export function loadSeeds(dir: URL): Seed[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".elf"))
    .sort()
    .map((name) => {
      const bytes = new Uint8Array(readFileSync(new URL(name, dir)));
      return { name, bytes, fields: elfFields(bytes) };
    });
}

/** Header, program/section header and (unless `withTable` is false) resource-table fields of a well-formed ELF. */
export function elfFields(bytes: Uint8Array, withTable = true): Seed["fields"] {
  const elf = parseElf(bytes);
  const h = elf.header;
  const w = h.class === 32 ? 4 : 8;
  const out: Seed["fields"] = [];
  const ehdr = h.class === 32 ? [16, 18, 20, 24, 28, 32, 36, 40, 42, 44, 46, 48, 50] : [16, 18, 20, 24, 32, 40, 48, 52, 54, 56, 58, 60, 62];
  ehdr.forEach((off, i) => out.push({ off, size: i < 2 || i >= 8 ? 2 : i === 2 || i === 7 ? 4 : (w as 4 | 8) }));
  for (const ph of elf.programHeaders) {
    const base = h.phoff + ph.index * (h.class === 32 ? 32 : 56);
    const offs = h.class === 32 ? [0, 4, 8, 12, 16, 20, 24, 28] : [0, 4, 8, 16, 24, 32, 40, 48];
    offs.forEach((o, i) => out.push({ off: base + o, size: h.class === 32 || i < 2 ? 4 : 8 }));
  }
  for (const sh of elf.sectionHeaders) {
    const base = h.shoff + sh.index * (h.class === 32 ? 40 : 64);
    const offs = h.class === 32 ? [0, 4, 8, 12, 16, 20, 24, 28, 32, 36] : [0, 4, 8, 16, 24, 32, 40, 44, 48, 56];
    offs.forEach((o, i) => out.push({ off: base + o, size: i < 2 || (h.class === 64 && (i === 6 || i === 7)) || h.class === 32 ? 4 : 8 }));
  }
  const rt = withTable ? findResourceTable(elf) : undefined;
  if (rt) {
    const t = parseResourceTable(rt.bytes, h.endianness);
    const base = rt.section.offset;
    for (let o = 0; o + 4 <= t.size; o += 4) out.push({ off: base + o, size: 4 });
    for (const e of t.entries) if (e.type === "vdev") out.push({ off: base + e.offset + 4 + 20, size: 1 }, { off: base + e.offset + 4 + 21, size: 1 });
  }
  return out;
}

const EDGE = [0, 1, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x10, 0x1000];

/** One mutated copy of a seed. */
export function mutate(seed: Seed, rand: () => number): Uint8Array {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
  const src = seed.bytes;
  const kind = Math.floor(rand() * 6);
  if (kind === 0) {
    // truncate (file size ± 1 included)
    const cut = pick([src.length - 1, Math.floor(rand() * src.length), 51, 52, 63, 64]);
    return src.slice(0, Math.max(0, cut));
  }
  if (kind === 1) {
    const out = new Uint8Array(src.length + 1 + Math.floor(rand() * 64));
    out.set(src);
    for (let i = src.length; i < out.length; i++) out[i] = Math.floor(rand() * 256);
    return out;
  }
  const out = src.slice();
  const dv = new DataView(out.buffer);
  const little = out[5] !== 2;
  const n = 1 + Math.floor(rand() * 3);
  for (let k = 0; k < n; k++) {
    if (kind === 2) {
      // bit flips anywhere
      const i = Math.floor(rand() * out.length);
      out[i]! ^= 1 << Math.floor(rand() * 8);
    } else {
      const f = pick(seed.fields);
      if (f.off + f.size > out.length) continue;
      const choice = rand();
      const value =
        choice < 0.6 ? pick(EDGE) : choice < 0.8 ? pick([src.length, src.length - 1, src.length + 1]) : Math.floor(rand() * 0x100000000);
      if (f.size === 1) dv.setUint8(f.off, value & 0xff);
      else if (f.size === 2) dv.setUint16(f.off, value & 0xffff, little);
      else if (f.size === 4) dv.setUint32(f.off, value >>> 0, little);
      else dv.setBigUint64(f.off, rand() < 0.3 ? 0xffffffffffffffffn - BigInt(value) : BigInt(value >>> 0), little);
    }
  }
  return out;
}

function fail(message: string, input: Uint8Array, cause?: unknown): never {
  throw Object.assign(new Error(message), { cause, input });
}

/** Symbol tables are read lazily (inspect does not read them), so their errors are checked on their own. */
function symbolLookup(elf: ReturnType<typeof parseElf>): void {
  try {
    findSymbol(elf, "fw_counter");
  } catch (e) {
    if (!isRprocError(e)) fail(`non-RprocError escaped findSymbol: ${String(e)}`, elf.bytes, e);
  }
}

export type Outcome = "parsed" | "rejected";

/** inspect() must return (never throw), and its result must be plain JSON: no bigint, nothing JSON drops. */
function inspectChecked(input: Uint8Array): InspectResult {
  let r: InspectResult;
  try {
    r = inspect(input);
  } catch (e) {
    fail(`inspect threw: ${String(e)}`, input, e);
  }
  let text: string;
  try {
    text = JSON.stringify(r);
  } catch (e) {
    fail(`inspect's result is not JSON (rproc inspect --json would crash): ${String(e)}`, input, e);
  }
  if (!isDeepStrictEqual(JSON.parse(text), r)) fail("inspect's result changes through JSON", input);
  return r;
}

/** A signed image: the format parser and inspect agree, and nothing but an RprocError escapes. */
function exerciseSigned(input: Uint8Array): Outcome {
  let parsed = true;
  try {
    parseSignedImage(input);
  } catch (e) {
    if (!isRprocError(e)) fail(`non-RprocError escaped parseSignedImage: ${String(e)}`, input, e);
    parsed = false;
  }
  const r = inspectChecked(input);
  if (!parsed && !("error" in r)) fail("inspect accepted a signed image parseSignedImage refused", input);
  return "error" in r ? "rejected" : "parsed";
}

/**
 * Runs every format entry point on one input. Returns how it ended; throws
 * (with the offending input attached) if anything other than an RprocError escaped.
 */
export function exercise(input: Uint8Array): Outcome {
  if (isSignedImage(input)) return exerciseSigned(input);
  try {
    const elf = parseElf(input);
    symbolLookup(elf);
    const rt = findResourceTable(elf);
    if (rt) {
      const t = parseResourceTable(rt.bytes, elf.header.endianness);
      lintResourceTable(t, elf);
      const again = encodeResourceTable(t, elf.header.endianness);
      if (Buffer.compare(again, rt.bytes) !== 0) fail("decode → encode changed the table", input);
    }
  } catch (e) {
    if (!isRprocError(e)) fail(`non-RprocError escaped: ${String(e)}`, input, e);
    if (!("error" in inspectChecked(input))) fail("inspect accepted what the parsers refused", input);
    return "rejected";
  }
  const r = inspectChecked(input);
  if ("error" in r) fail(`inspect refused what the parsers accepted: ${r.error.message}`, input);
  return "parsed";
}
