import { test } from "node:test";
import * as assert from "node:assert/strict";
import { defineStruct, type ByteMemory } from "./struct.js";
import { RprocError } from "../errors.js";

const Phdr32 = defineStruct(
  "Elf32_Phdr",
  [
    ["p_type", "u32"],
    ["p_offset", "u32"],
    ["p_vaddr", "u32"],
    ["p_paddr", "u32"],
    ["p_filesz", "u32"],
    ["p_memsz", "u32"],
    ["p_flags", "u32"],
    ["p_align", "u32"],
  ],
  { size: 32 },
);

const Mixed = defineStruct("mixed", [
  ["a", "u8"],
  ["_pad", "pad", 1],
  ["b", "u16"],
  ["c", "u64"],
  ["d", "u64n"],
  ["name", "char", 8],
  ["raw", "bytes", 4],
  ["s", "i32"],
]);

function rejects(fn: () => unknown, re: RegExp, field?: string): void {
  assert.throws(fn, (e: unknown) => {
    if (!(e instanceof RprocError)) throw e;
    assert.match(e.message, re);
    if (field !== undefined) assert.equal(e.field, field);
    return true;
  });
}

test("layout: offsets, sizes, declared size", () => {
  assert.equal(Phdr32.size, 32);
  assert.equal(Phdr32.offsetOf("p_filesz"), 16);
  assert.equal(Mixed.offsetOf("b"), 2);
  assert.equal(Mixed.offsetOf("c"), 4);
  assert.equal(Mixed.offsetOf("name"), 20);
  assert.equal(Mixed.size, 36);
  assert.equal(defineStruct("t", [["x", "u32"]], { size: 8 }).size, 8);
  assert.throws(() => defineStruct("t", [["x", "u64"]], { size: 4 }), /fields take 8 bytes/);
  assert.throws(() => defineStruct("t", [["x", "u8"], ["x", "u8"]]), /declared twice/);
});

test("get/put round trip, both byte orders, at an offset", () => {
  for (const le of [true, false]) {
    const buf = new Uint8Array(64);
    Mixed.put(buf, 10, { a: 0xab, b: 0x1234, c: 0x1122334455667788n, d: 2 ** 53 - 1, name: "abc", raw: Uint8Array.of(1, 2, 3), s: -5 }, le);
    const v = Mixed.get(buf, 10, le);
    assert.equal(v.a, 0xab);
    assert.equal(v.b, 0x1234);
    assert.equal(v.c, 0x1122334455667788n);
    assert.equal(v.d, 2 ** 53 - 1);
    assert.equal(v.name, "abc");
    assert.deepEqual([...v.raw], [1, 2, 3, 0]);
    assert.equal(v.s, -5);
    assert.equal(buf[10 + 2], le ? 0x34 : 0x12);
  }
});

test("missing fields are zero; put leaves bytes beyond the struct alone", () => {
  const buf = new Uint8Array(40).fill(0xee);
  Phdr32.put(buf, 4, { p_type: 1 });
  const v = Phdr32.get(buf, 4);
  assert.equal(v.p_type, 1);
  assert.equal(v.p_align, 0);
  assert.equal(buf[3], 0xee);
  assert.equal(buf[36], 0xee);
});

test("char[N]: text up to the first NUL, the whole field without one; too long refused", () => {
  const buf = new Uint8Array(36);
  buf.set([0x68, 0x69, 0x68, 0x69, 0x68, 0x69, 0x68, 0x69], 20);
  assert.equal(Mixed.get(buf, 0).name, "hihihihi");
  rejects(() => Mixed.put(buf, 0, { name: "123456789" }), /do not fit in char\[8\]/, "mixed.name");
});

test("bounds: EINVAL naming struct, field, offset and limit; nothing read or written", () => {
  const buf = new Uint8Array(40);
  rejects(() => Phdr32.get(buf, 20), /^Elf32_Phdr\.p_memsz at offset 0x28 \+ 0x4 exceeds the limit 0x28/, "Elf32_Phdr.p_memsz");
  rejects(() => Phdr32.get(buf, 20, true, "programHeaders[1]"), /^programHeaders\[1\]: Elf32_Phdr\.p_memsz/, "programHeaders[1].p_memsz");
  rejects(() => Phdr32.get(buf, -1), /not a valid offset/);
  rejects(() => Phdr32.get(buf, 2 ** 60), /not a valid offset/);
  rejects(() => Phdr32.put(buf, 36, { p_type: 1 }), /p_offset/);
  assert.ok(buf.every((b) => b === 0));
  rejects(() => Phdr32.getField(buf, 20, "p_align"), /p_align at offset 0x30/, "Elf32_Phdr.p_align");
  assert.equal(Phdr32.getField(buf, 8, "p_align"), 0);
});

test("value checks: u64n above 2^53 is EOVERFLOW, scalars must fit", () => {
  const buf = new Uint8Array(36);
  new DataView(buf.buffer).setBigUint64(12, 1n << 60n, true);
  assert.throws(
    () => Mixed.get(buf, 0),
    (e: unknown) => e instanceof RprocError && e.code === "EOVERFLOW" && e.field === "mixed.d",
  );
  rejects(() => Mixed.put(buf, 0, { b: 0x10000 }), /does not fit in u16/, "mixed.b");
  rejects(() => Mixed.put(buf, 0, { a: -1 }), /does not fit in u8/);
  rejects(() => Mixed.put(buf, 0, { c: -1n }), /does not fit in u64/);
  rejects(() => Mixed.put(buf, 0, { c: 2 ** 60 }), /not an exact integer/);
});

test("DataView source and destination", () => {
  const buf = new Uint8Array(48);
  const dv = new DataView(buf.buffer, 8, 32);
  Phdr32.put(dv, 0, { p_type: 6, p_align: 0x1000 }, false);
  assert.equal(Phdr32.get(dv, 0, false).p_align, 0x1000);
  assert.equal(buf[8 + 3], 6);
  rejects(() => Phdr32.get(dv, 4), /exceeds the limit 0x20/);
});

test("device memory: big-endian reads and field writes at an address, window checked first", () => {
  const mem = new Uint8Array(0x100);
  const reads: [number, number][] = [];
  const dev: ByteMemory = {
    len: 0x100,
    read: (a, n) => (reads.push([a, n]), mem.slice(a, a + n)),
    write: (a, b) => mem.set(b, a),
  };
  const FdtHeader = defineStruct("fdt_header", [
    ["magic", "u32"],
    ["totalsize", "u32"],
  ]);
  FdtHeader.put(dev, 0x40, { magic: 0xd00dfeed, totalsize: 0x48 }, false);
  assert.deepEqual([...mem.subarray(0x40, 0x44)], [0xd0, 0x0d, 0xfe, 0xed]);
  assert.equal(FdtHeader.get(dev, 0x40, false).magic, 0xd00dfeed);
  FdtHeader.putField(dev, 0x40, "totalsize", 0x99, false);
  assert.equal(FdtHeader.getField(dev, 0x40, "totalsize", false), 0x99);
  assert.deepEqual(reads, [
    [0x40, 8],
    [0x44, 4],
  ]);
  rejects(() => FdtHeader.get(dev, 0xfc, false), /fdt_header\.totalsize at offset 0x100/);
  assert.equal(reads.length, 2);
  // Without a known size, the memory's own checks apply.
  const open: ByteMemory = { read: () => { throw new RprocError("EFAULT", "unmapped"); }, write: () => undefined };
  assert.throws(() => FdtHeader.get(open, 0), /unmapped/);
});

test("getArray: one check for the table, linear decoding, label per entry", () => {
  const buf = new Uint8Array(32 * 3);
  for (let i = 0; i < 3; i++) Phdr32.put(buf, i * 32, { p_type: i + 1 });
  assert.deepEqual(Phdr32.getArray(buf, 0, 3).map((p) => p.p_type), [1, 2, 3]);
  assert.deepEqual(Phdr32.getArray(buf, 0, 0), []);
  rejects(() => Phdr32.getArray(buf, 4, 3, true, (i) => `programHeaders[${i}]`), /^programHeaders\[2\]: Elf32_Phdr\.p_align/, "programHeaders[2].p_align");
  const big = new Uint8Array(32 * 65535);
  assert.equal(Phdr32.getArray(big, 0, 65535).length, 65535);
});
