import { test } from "node:test";
import * as assert from "node:assert/strict";
import { PoolAllocator } from "./allocator.js";
import { RprocError } from "../errors.js";

const pool = { name: "r5f-dma-memory@a0000000", pa: 0xa000_0000, size: 0x10_0000 };

test("allocations are aligned, disjoint and inside the pool", () => {
  const a = new PoolAllocator(pool);
  const x = a.alloc(0x100);
  const y = a.alloc(0x100, 0x4000);
  const z = a.alloc(0x10, 16);
  assert.equal(x, pool.pa);
  assert.equal(y % 0x4000, 0);
  assert.ok(y >= x + 0x100);
  assert.equal(z % 16, 0);
  assert.ok(z >= x + 0x100 && z + 0x10 <= y, "first fit reuses the gap before y");
  assert.equal(a.inUse(), 0x210);
});

test("ENOMEM when the pool is full, naming the pool", () => {
  const a = new PoolAllocator(pool);
  a.alloc(pool.size);
  assert.throws(() => a.alloc(1, 1), (e: RprocError) => e.code === "ENOMEM" && e.message.includes(pool.name));
  const b = new PoolAllocator(pool);
  assert.throws(() => b.alloc(pool.size + 1), (e: RprocError) => e.code === "ENOMEM");
});

test("alignment that pushes past the end is ENOMEM, not a wrap", () => {
  const a = new PoolAllocator({ name: "p", pa: 0x1000, size: 0x3000 });
  a.alloc(0x10, 1);
  assert.throws(() => a.alloc(0x10, 0x4000), (e: RprocError) => e.code === "ENOMEM");
});

test("double free and foreign addresses are EINVAL", () => {
  const a = new PoolAllocator(pool);
  const x = a.alloc(0x1000);
  a.free(x);
  assert.throws(() => a.free(x), (e: RprocError) => e.code === "EINVAL");
  assert.throws(() => a.free(pool.pa + 4), (e: RprocError) => e.code === "EINVAL");
});

test("freed space is reused", () => {
  const a = new PoolAllocator(pool);
  const x = a.alloc(pool.size / 2);
  a.alloc(pool.size / 2);
  a.free(x);
  assert.equal(a.alloc(0x1000), x);
  assert.equal(a.inUse(), pool.size / 2 + 0x1000);
});

test("bad length and alignment are EINVAL", () => {
  const a = new PoolAllocator(pool);
  for (const len of [0, -1, 1.5, Number.NaN]) assert.throws(() => a.alloc(len), (e: RprocError) => e.code === "EINVAL" && e.field === "len");
  for (const al of [0, 3, -8, 0x3000]) assert.throws(() => a.alloc(16, al), (e: RprocError) => e.code === "EINVAL" && e.field === "align");
  // Power-of-two checks and alignment stay exact above 2^31, where bitwise operators would truncate.
  const high = new PoolAllocator({ name: "high", pa: 2 ** 32 - 0x1000, size: 0x2000 });
  assert.equal(high.alloc(16, 2 ** 32), 2 ** 32);
});

test("allocCoherent: 2^order pages at a multiple of their size from the pool start (bitmap_find_free_region)", () => {
  const a = new PoolAllocator(pool);
  assert.equal(a.allocCoherent(0x40000), 0xa000_0000);
  assert.equal(a.allocCoherent(0x10000), 0xa004_0000);
  const v0 = a.allocCoherent(0x3000); // order 2: 0x4000
  const v1 = a.allocCoherent(0x3000);
  assert.deepEqual([v0, v1], [0xa005_0000, 0xa005_4000]);
  assert.equal(a.allocCoherent(0x1000), 0xa005_8000);
  assert.equal(a.inUse(), 0x40000 + 0x10000 + 0x8000 + 0x1000);
  a.free(v0);
  assert.equal(a.allocCoherent(0x800), 0xa005_0000, "a freed region is reused first");
  assert.equal(a.allocCoherent(0x2000), 0xa005_2000, "order 1: the first free pair of pages at an even page of the pool");
});

test("allocCoherent: alignment is relative to the pool start; ENOMEM past the end or beyond the pool", () => {
  const a = new PoolAllocator({ name: "odd", pa: 0x1000_1000, size: 0x5000 });
  assert.equal(a.allocCoherent(0x1000), 0x1000_1000);
  assert.equal(a.allocCoherent(0x2000), 0x1000_3000, "page 2 of the pool, not an absolute 0x2000 boundary");
  assert.throws(() => a.allocCoherent(0x4000), (e: unknown) => e instanceof RprocError && e.code === "ENOMEM");
  assert.throws(() => a.allocCoherent(0x6000), (e: unknown) => e instanceof RprocError && e.code === "ENOMEM");
  assert.equal(a.allocCoherent(0x1000), 0x1000_2000);
  assert.throws(() => a.allocCoherent(0), (e: unknown) => e instanceof RprocError && e.code === "EINVAL");
});
