import { test } from "node:test";
import * as assert from "node:assert/strict";
import { buildCoreFile, buildCoreHeader, buildSectionCoreHeader, readCoreStream, type CoreSegment } from "./core-file.js";
import { readCoreFile } from "./core-file-reader.js";
import { decodePrstatus, prstatusBytes } from "./core-file-prstatus.js";
import { RprocError } from "../errors.js";

/** Every test has its own time limit, so a stuck crash sequence fails instead of hanging `npm test`. */
const T = { timeout: 10_000 };

const segs: CoreSegment[] = [
  { da: 0x10000000, size: 0x10 },
  { da: 0x38000000, size: 0x6 },
];
const fill = (i: number, off: number, n: number) => new Uint8Array(n).map((_, k) => (i + 1) * 0x10 + ((off + k) & 0xf));

test("program-header variant: the kernel's layout, byte for byte (ELF32)", T, () => {
  const h = buildCoreHeader({ class: 32, machine: 40, entry: 0x10000029, segments: segs });
  const dv = new DataView(h.header.buffer);
  assert.deepEqual([...h.header.subarray(0, 8)], [0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0]);
  assert.equal(dv.getUint16(16, true), 4); // ET_CORE
  assert.equal(dv.getUint16(18, true), 40);
  assert.equal(dv.getUint32(24, true), 0x10000029);
  assert.equal(dv.getUint32(28, true), 52); // e_phoff
  assert.equal(dv.getUint32(32, true), 0); // e_shoff
  assert.equal(dv.getUint16(40, true), 52);
  assert.equal(dv.getUint16(42, true), 32);
  assert.equal(dv.getUint16(44, true), 2);
  assert.equal(dv.getUint16(48, true), 0);
  assert.equal(h.header.length, 52 + 2 * 32);
  // phdr 1: PT_LOAD, offset after headers + seg0, vaddr = paddr = da, filesz = memsz, RWX, align 0
  const p1 = 52 + 32;
  assert.deepEqual([0, 4, 8, 12, 16, 20, 24, 28].map((o) => dv.getUint32(p1 + o, true)), [1, 116 + 0x10, 0x38000000, 0x38000000, 6, 6, 7, 0]);
  assert.deepEqual(h.dataOffsets, [116, 132]);
  assert.equal(h.totalSize, 116 + 0x16);
});

test("ELF64 header fields and e_entry above 32 bits", T, () => {
  const h = buildCoreHeader({ class: 64, machine: 183, entry: 0x1_0000_0000n, segments: segs });
  const dv = new DataView(h.header.buffer);
  assert.equal(h.header[4], 2);
  assert.equal(dv.getBigUint64(24, true), 0x1_0000_0000n);
  assert.equal(dv.getBigUint64(32, true), 64n);
  assert.equal(dv.getUint16(54, true), 56);
  assert.equal(h.header.length, 64 + 2 * 56);
  const p0 = 64;
  assert.equal(dv.getUint32(p0, true), 1);
  assert.equal(dv.getUint32(p0 + 4, true), 7);
  assert.equal(dv.getBigUint64(p0 + 8, true), 176n);
  assert.equal(dv.getBigUint64(p0 + 48, true), 0n);
});

test("class must be 32 or 64; 32-bit fields refuse offsets past 4 GiB", T, () => {
  assert.throws(() => buildCoreHeader({ class: 16 as 32, machine: 40, entry: 0, segments: segs }), (e: RprocError) => e.code === "EINVAL");
  assert.throws(
    () => buildCoreHeader({ class: 32, machine: 40, entry: 0, segments: [{ da: 0, size: 0xffffffff }, { da: 0, size: 2 }] }),
    (e: RprocError) => e.code === "EOVERFLOW" && e.field === "p_offset",
  );
  assert.throws(() => buildCoreHeader({ class: 32, machine: 40, entry: 0, segments: [{ da: 2 ** 32, size: 1 }] }), (e: RprocError) => e.code === "EOVERFLOW");
  const many = Array.from({ length: 0xfffe }, () => ({ da: 0, size: 0 }));
  assert.throws(() => buildCoreHeader({ class: 64, machine: 183, entry: 0, segments: many }), (e: RprocError) => e.code === "EINVAL" && e.field === "segments.length");
  // the section variant: fewer than SHN_LORESERVE-1 (0xfeff) sections, the null and STR_TBL ones included (spec §6.3)
  const named = (n: number) => Array.from({ length: n }, () => ({ da: 0, size: 0, name: "s" }));
  assert.equal(new DataView(buildSectionCoreHeader({ class: 32, machine: 40, entry: 0, segments: named(0xfefc) }).header.buffer).getUint16(48, true), 0xfefe);
  assert.throws(
    () => buildSectionCoreHeader({ class: 32, machine: 40, entry: 0, segments: named(0xfefd) }),
    (e: RprocError) => e.code === "EINVAL" && e.field === "segments.length" && e.value === 0xfeff,
  );
});

test("whole file and inline stream give the same bytes; stream reads are short in the header", T, () => {
  const h = buildCoreHeader({ class: 32, machine: 40, entry: 0, segments: segs });
  const whole = buildCoreFile(h, segs, fill);
  assert.equal(whole.length, h.totalSize);
  // a read starting in the header returns header bytes only, as memory_read_from_buffer
  assert.equal(readCoreStream(h, segs, fill, 100, 1000).length, 16);
  const parts: Uint8Array[] = [];
  for (let off = 0; ; ) {
    const chunk = readCoreStream(h, segs, fill, off, 7);
    if (chunk.length === 0) break;
    parts.push(chunk);
    off += chunk.length;
  }
  assert.deepEqual(Buffer.concat(parts), Buffer.from(whole));
  assert.equal(readCoreStream(h, segs, fill, h.totalSize + 5, 10).length, 0);
  // a reader giving fewer bytes than asked: the rest is 0xff, never garbage
  const short = buildCoreFile(h, segs, () => new Uint8Array(2));
  assert.deepEqual([...short.subarray(116, 120)], [0, 0, 0xff, 0xff]);
});

test("section variant: STR_TBL, one PROGBITS per named segment, data after the strings", T, () => {
  const named = [{ da: 0x10000000, size: 4, name: "mcuram2" }, { da: 0x38000000, size: 2, name: "retram" }];
  const h = buildSectionCoreHeader({ class: 32, machine: 40, entry: 0, segments: named });
  const dv = new DataView(h.header.buffer);
  assert.equal(dv.getUint32(28, true), 0); // e_phoff
  assert.equal(dv.getUint16(44, true), 0); // e_phnum
  assert.equal(dv.getUint32(32, true), 52); // e_shoff
  assert.equal(dv.getUint16(46, true), 40);
  assert.equal(dv.getUint16(48, true), 4);
  assert.equal(dv.getUint16(50, true), 1);
  const strOff = 52 + 4 * 40;
  const strSize = 1 + 8 + 8 + 7;
  assert.equal(dv.getUint32(52 + 40 + 16, true), strOff);
  assert.equal(dv.getUint32(52 + 40 + 20, true), strSize);
  assert.equal(Buffer.from(h.header.subarray(strOff, strOff + strSize)).toString("latin1"), "\0STR_TBL\0mcuram2\0retram\0");
  assert.equal(h.header.length, strOff + strSize);
  const file = buildCoreFile(h, named, fill);
  const back = readCoreFile(file);
  assert.equal(back.variant, "sections");
  assert.deepEqual(back.segments, [
    { da: 0x10000000, size: 4, offset: strOff + strSize, name: "mcuram2" },
    { da: 0x38000000, size: 2, offset: strOff + strSize + 4, name: "retram" },
  ]);
  assert.throws(() => buildSectionCoreHeader({ class: 32, machine: 40, entry: 0, segments: segs }), (e: RprocError) => e.field === "segments[0].name");
});

test("NT_PRSTATUS round trip for ARM and AArch64", T, () => {
  const arm = prstatusBytes(40, { regs: { r0: 1, r15: 0x10000008, cpsr: 0x01000000 }, signal: 11 });
  assert.equal(arm.length, 148);
  assert.equal(new DataView(arm.buffer).getUint32(72 + 15 * 4, true), 0x10000008);
  const a = decodePrstatus(40, arm);
  assert.equal(a.regs.r15, 0x10000008);
  assert.equal(a.signal, 11);
  const a64 = prstatusBytes(183, { regs: { pc: 0xffff_0000_0000_0000n, sp: 0x1000 } });
  assert.equal(a64.length, 392);
  const b = decodePrstatus(183, a64);
  assert.equal(b.regs.pc, 0xffff_0000_0000_0000n);
  assert.equal(b.regs.sp, 0x1000);
  assert.throws(() => prstatusBytes(40, { regs: { pc: 1 } }), (e: RprocError) => e.field === "registers.pc");
  assert.throws(() => prstatusBytes(62, { regs: {} }), (e: RprocError) => e.code === "EINVAL");
  assert.throws(() => decodePrstatus(40, new Uint8Array(100)), (e: RprocError) => e.field === "note.descsz");
});

test("reader: registers from the PT_NOTE, segments from PT_LOAD", T, () => {
  const h = buildCoreHeader({ class: 64, machine: 183, entry: 0xa0000000, segments: segs, registers: { regs: { pc: 0xa0000008 } } });
  const s = readCoreFile(buildCoreFile(h, segs, fill));
  assert.equal(s.variant, "program-headers");
  assert.deepEqual(s.notes, [{ name: "CORE", type: 1, descsz: 392 }]);
  assert.equal(s.registers?.regs.pc, 0xa0000008);
  assert.deepEqual(s.segments.map((x) => [x.da, x.size]), [[0x10000000, 0x10], [0x38000000, 6]]);
});

test("reader: hostile input fails with RprocError naming the field, never a bare RangeError", T, () => {
  const h = buildCoreHeader({ class: 32, machine: 40, entry: 0, segments: segs, registers: { regs: { r0: 1 } } });
  const good = buildCoreFile(h, segs, fill);
  // every truncation of a valid dump, and random byte flips, either parse or throw RprocError
  for (let n = 0; n < good.length; n += 3) {
    try {
      readCoreFile(good.subarray(0, n));
    } catch (e) {
      assert.ok(e instanceof RprocError, `truncation to ${n}: ${String(e)}`);
    }
  }
  let seed = 7;
  for (let k = 0; k < 2000; k++) {
    const b = good.slice();
    for (let j = 0; j < 4; j++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      b[seed % 120] = seed >>> 24;
    }
    try {
      readCoreFile(b);
    } catch (e) {
      assert.ok(e instanceof RprocError, String(e));
    }
  }
  const bad = good.slice();
  new DataView(bad.buffer).setUint32(52 + 16, 0xfffffff0, true); // PT_NOTE p_filesz
  assert.throws(() => readCoreFile(bad), (e: RprocError) => e.field === "programHeaders[0].p_filesz");
});
