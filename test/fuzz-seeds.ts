/**
 * Seeds for the format fuzzers beyond the ELF fixtures: every other parser
 * `inspect()` dispatches to gets well-formed inputs to mutate.
 * - OP-TEE signed images (one image, two images, one encrypted), built from
 *   the fixtures with the repository's own encoder; the signature is a fixed
 *   byte pattern, since inspect never checks it (no key), which keeps the
 *   seeds identical from run to run (a real ECDSA signature is random);
 * - ELF core files as the crash path writes them: the program-header variant
 *   with an NT_PRSTATUS note (ELF32 ARM, ELF64 AArch64) and the section variant.
 * Everything is built in memory: no toolchain, key or external vector needed.
 */
import { readFileSync } from "node:fs";
import { parseElf } from "../src/formats/elf.js";
import { encodeSignedImage, type EncodeImage } from "../src/formats/signed-image-encode.js";
import { readSignerElf } from "../src/formats/signed-image-elf.js";
import { parseSignedImage, SIGN_TYPE_ECDSA_P256_SHA256, IMG_TYPE_ENCRYPTED_ELF } from "../src/formats/signed-image.js";
import { encryptElfSegments, encryptionTlvs } from "../src/tee/encryption.js";
import { buildCoreFile, buildCoreHeader, buildSectionCoreHeader, type CoreSegment } from "../src/formats/core-file.js";
import { elfFields, type Seed } from "./fuzz-mutate.js";

/** Every aligned u32 of [start, end) as a field the mutator may set to an edge value. */
function words(start: number, end: number): Seed["fields"] {
  const out: Seed["fields"] = [];
  for (let off = start; off + 4 <= end; off += 4) out.push({ off, size: 4 });
  return out;
}

function signedImage(elfs: Uint8Array[], encrypt: boolean): Uint8Array {
  const ivs: Uint8Array[] = [];
  let ivCounter = 0;
  const images: EncodeImage[] = elfs.map((bytes, i) => {
    const { phdrs } = readSignerElf(bytes, `image ${i}`);
    if (!encrypt) return { bytes, phdrs };
    const enc = encryptElfSegments(bytes, phdrs, new Uint8Array(32).fill(0x42), () => new Uint8Array(16).fill(++ivCounter));
    ivs.push(...enc.ivs);
    return { bytes: enc.bytes, phdrs, type: IMG_TYPE_ENCRYPTED_ELF };
  });
  return encodeSignedImage({
    signType: SIGN_TYPE_ECDSA_P256_SHA256,
    signLen: 64,
    images,
    keyInfo: new TextEncoder().encode("fuzz key info"),
    platformTlvs: encrypt ? encryptionTlvs(ivs) : [{ type: 0x10001, value: new Uint8Array([1, 2, 3, 4]) }],
    sign: () => new Uint8Array(64).fill(0xa5),
  });
}

/** Header, TLV area (hash table included) and each embedded ELF's headers and table. */
function signedFields(bytes: Uint8Array): Seed["fields"] {
  const s = parseSignedImage(bytes);
  const out = words(0, s.layout.signOffset);
  for (const im of s.images) {
    const inner = im.type === IMG_TYPE_ENCRYPTED_ELF ? elfFields(im.bytes, false) : elfFields(im.bytes);
    out.push(...inner.map((f) => ({ off: f.off + im.fileOffset, size: f.size })));
  }
  return out;
}

function coreFiles(): { name: string; bytes: Uint8Array }[] {
  const segs: CoreSegment[] = [
    { da: 0x10000000, size: 0x100 },
    { da: 0x30000000, size: 0x80 },
  ];
  const mem = (_i: number, off: number, n: number) => new Uint8Array(n).fill(off & 0xff);
  const named = segs.map((s, i) => ({ ...s, name: `.seg${i}` }));
  return [
    { name: "core-arm32-prstatus", bytes: buildCoreFile(buildCoreHeader({ class: 32, machine: 40, entry: 0, segments: segs, registers: { regs: { r13: 0x10000100, r15: 0x41 }, signal: 11 } }), segs, mem) },
    { name: "core-aarch64-prstatus", bytes: buildCoreFile(buildCoreHeader({ class: 64, machine: 183, entry: 0xa0000000, segments: segs, registers: { regs: { sp: 0xa0001000, pc: 0xa0000010 }, signal: 4 } }), segs, mem) },
    { name: "core-sections", bytes: buildCoreFile(buildSectionCoreHeader({ class: 32, machine: 40, entry: 0, segments: named }), named, mem) },
  ];
}

/** Signed-image and core-file seeds, built from the ELF fixtures in `dir`. */
export function extraSeeds(dir: URL): Seed[] {
  const fw = (n: string) => new Uint8Array(readFileSync(new URL(n, dir)));
  const m4 = fw("stm32mp15-m4.elf");
  const r5 = fw("am64x-r5f.elf");
  const signed = [
    { name: "signed-m4", bytes: signedImage([m4], false) },
    { name: "signed-m4+r5", bytes: signedImage([m4, r5], false) },
    { name: "signed-m4-encrypted", bytes: signedImage([m4], true) },
  ].map((s) => ({ ...s, fields: signedFields(s.bytes) }));
  const cores = coreFiles().map((c) => {
    const elf = parseElf(c.bytes);
    // The ELF headers, plus every word of the note and the headers' tail (where the PRSTATUS registers are).
    const noteEnd = Math.min(c.bytes.length, elf.programHeaders[0]?.type === 4 ? elf.programHeaders[0].offset + elf.programHeaders[0].filesz : 0x200);
    return { ...c, fields: [...elfFields(c.bytes), ...words(0, noteEnd)] };
  });
  return [...signed, ...cores];
}
