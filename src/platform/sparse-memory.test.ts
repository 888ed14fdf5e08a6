import { test } from "node:test";
import * as assert from "node:assert/strict";
import { PAGE_SIZE, SLAB_PAGES, SparseMemory } from "./sparse-memory.js";
import { RprocError } from "../errors.js";

test("unwritten memory reads as zero and costs no page", () => {
  const m = new SparseMemory();
  assert.deepEqual(m.read(0x1000_0000, 16), new Uint8Array(16));
  assert.equal(m.page(0x1000_0000, false), undefined);
  assert.equal(m.pageCount(), 0);
});

test("a write across a page boundary lands in two pages and reads back", () => {
  const m = new SparseMemory();
  const data = Uint8Array.from({ length: 10 }, (_, i) => i + 1);
  const pa = 0x2000 - 4;
  m.write(pa, data);
  assert.equal(m.pageCount(), 2);
  assert.deepEqual(m.read(pa, 10), data);
  assert.deepEqual(m.read(pa - 2, 14), Uint8Array.of(0, 0, ...data, 0, 0));
  assert.equal(m.page(0x1000, false)![PAGE_SIZE - 1], 4);
  assert.equal(m.page(0x2000, false)![0], 5);
});

test("page identity is stable and writes show through a page taken before", () => {
  const m = new SparseMemory();
  const p = m.page(0x5000, true)!;
  m.write(0x5010, Uint8Array.of(0xaa));
  assert.equal(p[0x10], 0xaa);
  assert.equal(m.page(0x5fff, false), p);
  p[0x20] = 0x55; // an emulator writing through the zero-copy mapping
  assert.equal(m.read(0x5020, 1)[0], 0x55);
});

test("2 GiB of addressable memory costs nothing until written", () => {
  const m = new SparseMemory();
  const base = 0x8000_0000;
  assert.deepEqual(m.read(base + 0x7fff_fff0, 16), new Uint8Array(16));
  m.fill(base, 0x8000_0000, 0); // zero fill of absent pages materialises nothing
  assert.equal(m.pageCount(), 0);
  m.write(base + 0x7fff_f000, Uint8Array.of(1));
  assert.equal(m.pageCount(), 1);
});

test("fill with a value materialises and sets only the range", () => {
  const m = new SparseMemory();
  m.fill(0x1ffe, 4, 0x1ff); // value is truncated to a byte as memset does
  assert.deepEqual(m.read(0x1ffd, 6), Uint8Array.of(0, 0xff, 0xff, 0xff, 0xff, 0));
  assert.equal(m.pageCount(), 2);
});

test("an alias resolves to the same backing pages", () => {
  const m = new SparseMemory();
  m.alias(0x1000_0000, 0x60000, 0x3000_0000);
  m.write(0x1000_0ffe, Uint8Array.of(1, 2, 3, 4));
  assert.deepEqual(m.read(0x3000_0ffe, 4), Uint8Array.of(1, 2, 3, 4));
  assert.equal(m.page(0x1000_0000, false), m.page(0x3000_0000, false));
  assert.equal(m.pageCount(), 2);
  assert.equal(m.resolve(0x1005_ffff), 0x3005_ffff);
  assert.equal(m.resolve(0x1006_0000), 0x1006_0000);
  assert.deepEqual(m.canonicalRanges(0x1005_f000, 0x2000), [
    { pa: 0x3005_f000, size: 0x1000 },
    { pa: 0x1006_0000, size: 0x1000 },
  ]);
});

test("bad aliases are refused", () => {
  const m = new SparseMemory();
  assert.throws(() => m.alias(0x1000_0800, 0x1000, 0x3000_0000), (e: RprocError) => e.code === "EINVAL" && e.field === "alias pa");
  assert.throws(() => m.alias(0x1000, 0x2000, 0x2000), (e: RprocError) => e.code === "EINVAL");
  m.alias(0x1000_0000, 0x1000, 0x3000_0000);
  assert.throws(() => m.alias(0x1000_0000, 0x1000, 0x4000_0000), (e: RprocError) => e.code === "EINVAL");
});

test("invalid addresses and lengths fail with RprocError, never RangeError", () => {
  const m = new SparseMemory();
  assert.throws(() => m.read(-1, 4), (e: RprocError) => e.code === "EINVAL" && e.field === "pa");
  assert.throws(() => m.read(0, -4), (e: RprocError) => e.code === "EINVAL" && e.field === "len");
  assert.throws(() => m.read(1.5, 4), (e: RprocError) => e.code === "EINVAL");
  assert.throws(() => m.write(Number.MAX_SAFE_INTEGER - 1, new Uint8Array(4)), (e: RprocError) => e.code === "EOVERFLOW");
  assert.throws(() => m.page(Number.NaN, true), (e: RprocError) => e.code === "EINVAL");
});

test("a bulk write across slabs reads back and counts exactly the pages it touched", () => {
  const m = new SparseMemory();
  const slab = PAGE_SIZE * SLAB_PAGES;
  const base = 0x8000_0000 + slab - 3 * PAGE_SIZE - 5; // starts 5 bytes before a page, 3 pages before a slab end
  const data = Uint8Array.from({ length: slab + 10 * PAGE_SIZE }, (_, i) => (i * 7 + 3) & 0xff);
  m.write(base, data);
  assert.deepEqual(m.read(base, data.length), data);
  const first = Math.floor(base / PAGE_SIZE);
  const last = Math.floor((base + data.length - 1) / PAGE_SIZE);
  assert.equal(m.pageCount(), last - first + 1);
  // A page next to written ones, in the same slab, is still absent.
  assert.equal(m.page((last + 1) * PAGE_SIZE, false), undefined);
  assert.deepEqual(m.read((last + 1) * PAGE_SIZE, 8), new Uint8Array(8));
  assert.equal(m.pageCount(), last - first + 1);
});

test("page identity survives bulk writes and zero fills, and a page handed out sees them", () => {
  const m = new SparseMemory();
  const p = m.page(0x4_0000 + 5 * PAGE_SIZE, true)!;
  assert.equal(p.length, PAGE_SIZE);
  m.write(0x4_0000, new Uint8Array(8 * PAGE_SIZE).fill(0xee));
  assert.equal(m.page(0x4_0000 + 5 * PAGE_SIZE + 100, false), p);
  assert.equal(p[0], 0xee);
  assert.equal(p[PAGE_SIZE - 1], 0xee);
  p[7] = 1;
  assert.equal(m.read(0x4_0000 + 5 * PAGE_SIZE + 7, 1)[0], 1);
  m.fill(0x4_0000, 8 * PAGE_SIZE, 0);
  assert.ok(p.every((b) => b === 0), "zero fill clears a page that was written");
  assert.deepEqual(m.read(0x4_0000, 8 * PAGE_SIZE), new Uint8Array(8 * PAGE_SIZE));
  assert.equal(m.page(0x4_0000 + 5 * PAGE_SIZE, false), p);
});

test("zero fill clears written pages without materialising their absent neighbours", () => {
  const m = new SparseMemory();
  m.write(0x10_0000 + 2 * PAGE_SIZE + 10, Uint8Array.of(9, 9, 9));
  assert.equal(m.pageCount(), 1);
  m.fill(0x10_0000, PAGE_SIZE * SLAB_PAGES, 0);
  assert.equal(m.pageCount(), 1);
  assert.deepEqual(m.read(0x10_0000 + 2 * PAGE_SIZE + 10, 3), new Uint8Array(3));
  assert.equal(m.page(0x10_0000, false), undefined);
});

test("a bulk write through an alias crossing the alias end lands in both backings", () => {
  const m = new SparseMemory();
  m.alias(0x1000_0000, 0x60000, 0x3000_0000);
  const data = Uint8Array.from({ length: 3 * PAGE_SIZE }, (_, i) => i & 0xff);
  m.write(0x1006_0000 - PAGE_SIZE, data); // 1 page in the alias, 2 past it
  assert.deepEqual(m.read(0x3005_f000, PAGE_SIZE), data.subarray(0, PAGE_SIZE));
  assert.deepEqual(m.read(0x1006_0000, 2 * PAGE_SIZE), data.subarray(PAGE_SIZE));
  assert.deepEqual(m.read(0x1005_f000, 3 * PAGE_SIZE), data);
  assert.equal(m.pageCount(), 3);
});

test("forEachSpan visits a range as backing views without copying or creating pages", () => {
  const m = new SparseMemory();
  const base = 0x10000000;
  m.write(base + 0x1000, new Uint8Array([1, 2, 3]));
  const before = m.pageCount();
  const seen: number[] = [];
  let total = 0;
  m.forEachSpan(base, 0x200000, (bytes, n) => {
    if (bytes !== undefined) {
      assert.equal(bytes.length, n);
      seen.push(...bytes.subarray(0x1000, 0x1003));
    }
    total += n;
  });
  assert.equal(total, 0x200000);
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(m.pageCount(), before, "visiting creates nothing");
  const view = m.page(base + 0x1000, false)!;
  m.forEachSpan(base + 0x1000, 1, (bytes) => {
    assert.equal(bytes!.buffer, view.buffer, "a view on the backing store, not a copy");
  });
});
