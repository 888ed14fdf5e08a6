// The dump layout byte for byte against spec §6.2 and §6.3, for both classes
// and both variants: an independent reference encoder written from the spec's
// tables (not from src/formats/core-file.ts) builds the expected header, and
// the whole header the builder makes must equal it.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { buildCoreFile, buildCoreHeader, buildSectionCoreHeader, type CoreSegment } from "../../src/formats/core-file.js";

const T = { timeout: 10_000 };

type Cls = 32 | 64;

/** A little-endian field writer over a zeroed buffer, by class: "addr/off" fields are 4 or 8 bytes. */
function writer(size: number, cls: Cls) {
  const bytes = new Uint8Array(size);
  const dv = new DataView(bytes.buffer);
  return {
    bytes,
    u8: (o: number, v: number) => dv.setUint8(o, v),
    u16: (o: number, v: number) => dv.setUint16(o, v, true),
    u32: (o: number, v: number) => dv.setUint32(o, v, true),
    word: (o: number, v: number) => (cls === 32 ? dv.setUint32(o, v, true) : dv.setBigUint64(o, BigInt(v), true)),
  };
}

/** e_ident and the fields common to both variants (spec §6.2 first row). */
function ehdr(w: ReturnType<typeof writer>, cls: Cls, machine: number, entry: number): void {
  [0x7f, 0x45, 0x4c, 0x46].forEach((b, i) => w.u8(i, b));
  w.u8(4, cls === 32 ? 1 : 2); // EI_CLASS
  w.u8(5, 1); // EI_DATA: ELFDATA2LSB always
  w.u8(6, 1); // EI_VERSION: EV_CURRENT; EI_OSABI (7) = ELFOSABI_NONE = 0, the rest 0
  w.u16(16, 4); // e_type ET_CORE
  w.u16(18, machine);
  w.u32(20, 1); // e_version
  w.word(24, entry);
}

/** Spec §6.2: E = 52/64, P = 32/56. */
function expectedProgramHeaderVariant(cls: Cls, machine: number, entry: number, segs: CoreSegment[]): Uint8Array {
  const E = cls === 32 ? 52 : 64;
  const P = cls === 32 ? 32 : 56;
  const w = writer(E + segs.length * P, cls);
  ehdr(w, cls, machine, entry);
  const A = cls === 32 ? 4 : 8; // size of an address/offset field
  w.word(24 + A, E); // e_phoff
  // e_shoff = 0, e_flags = 0
  const after = 24 + 3 * A + 4; // e_ehsize
  w.u16(after, E);
  w.u16(after + 2, P); // e_phentsize
  w.u16(after + 4, segs.length); // e_phnum
  // e_shentsize, e_shnum, e_shstrndx = 0
  let offset = E + segs.length * P;
  segs.forEach((s, i) => {
    const at = E + i * P;
    w.u32(at, 1); // PT_LOAD
    if (cls === 32) {
      w.u32(at + 4, offset);
      w.u32(at + 8, s.da);
      w.u32(at + 12, s.da);
      w.u32(at + 16, s.size);
      w.u32(at + 20, s.size);
      w.u32(at + 24, 7); // PF_R | PF_W | PF_X
      w.u32(at + 28, 0); // p_align
    } else {
      w.u32(at + 4, 7);
      w.word(at + 8, offset);
      w.word(at + 16, s.da);
      w.word(at + 24, s.da);
      w.word(at + 32, s.size);
      w.word(at + 40, s.size);
      w.word(at + 48, 0);
    }
    offset += s.size;
  });
  return w.bytes;
}

/** Spec §6.3: S = 40/64; sections null, STR_TBL, one SHT_PROGBITS (SHF_WRITE) per segment; then the string table. */
function expectedSectionVariant(cls: Cls, machine: number, entry: number, segs: CoreSegment[]): Uint8Array {
  const E = cls === 32 ? 52 : 64;
  const S = cls === 32 ? 40 : 64;
  const n = segs.length;
  const strtab = "\0STR_TBL\0" + segs.map((s) => s.name + "\0").join("");
  const strOff = E + (n + 2) * S;
  const w = writer(strOff + strtab.length, cls);
  ehdr(w, cls, machine, entry);
  const A = cls === 32 ? 4 : 8;
  w.word(24 + 2 * A, E); // e_shoff (e_phoff = 0)
  const after = 24 + 3 * A + 4;
  w.u16(after, E); // e_ehsize; e_phentsize = e_phnum = 0
  w.u16(after + 6, S); // e_shentsize
  w.u16(after + 8, n + 2); // e_shnum
  w.u16(after + 10, 1); // e_shstrndx
  const shdr = (i: number, name: number, type: number, flags: number, addr: number, off: number, size: number) => {
    const at = E + i * S;
    w.u32(at, name);
    w.u32(at + 4, type);
    w.word(at + 8, flags);
    w.word(at + 8 + A, addr);
    w.word(at + 8 + 2 * A, off);
    w.word(at + 8 + 3 * A, size);
    // sh_link, sh_info, sh_addralign, sh_entsize = 0
  };
  shdr(1, 1, 3 /* SHT_STRTAB */, 0, 0, strOff, strtab.length);
  let name = 1 + "STR_TBL".length + 1;
  let off = strOff + strtab.length;
  segs.forEach((s, i) => {
    shdr(i + 2, name, 1 /* SHT_PROGBITS */, 1 /* SHF_WRITE */, s.da, off, s.size);
    name += s.name!.length + 1;
    off += s.size;
  });
  for (let i = 0; i < strtab.length; i++) w.u8(strOff + i, strtab.charCodeAt(i));
  return w.bytes;
}

const segs: CoreSegment[] = [
  { da: 0x10000000, size: 0x30, name: "mcuram2" },
  { da: 0x0, size: 0x11, name: "retram" },
  { da: 0x10040000, size: 0x8, name: "vdev0vring0" },
];

for (const cls of [32, 64] as const) {
  const machine = cls === 32 ? 40 : 183;
  test(`ELF${cls} program-header variant equals the spec's layout byte for byte`, T, () => {
    const h = buildCoreHeader({ class: cls, machine, entry: 0x10000041, segments: segs });
    assert.deepEqual(Buffer.from(h.header), Buffer.from(expectedProgramHeaderVariant(cls, machine, 0x10000041, segs)));
    // data concatenated in list order, no padding
    const file = buildCoreFile(h, segs, (i, o, n) => new Uint8Array(n).fill(0x10 * (i + 1) + (o & 0xf)));
    assert.equal(file.length, h.header.length + 0x30 + 0x11 + 0x8);
    assert.equal(file[h.header.length], 0x10);
    assert.equal(file[h.header.length + 0x30], 0x20);
    assert.equal(file[h.header.length + 0x41], 0x30);
  });

  test(`ELF${cls} section variant equals the spec's layout byte for byte`, T, () => {
    const h = buildSectionCoreHeader({ class: cls, machine, entry: 0x41, segments: segs });
    assert.deepEqual(Buffer.from(h.header), Buffer.from(expectedSectionVariant(cls, machine, 0x41, segs)));
    assert.deepEqual(h.dataOffsets, [h.header.length, h.header.length + 0x30, h.header.length + 0x41]);
  });
}
