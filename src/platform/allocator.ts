/**
 * DMA allocation from one reserved-memory pool: the stand-in for
 * dma_alloc_coherent() on a device whose memory-region is that pool.
 * First fit over a sorted list of live blocks; pools hold a handful of
 * vrings and buffers, so a linear scan is the honest data structure.
 */
import { RprocError, hex } from "../errors.js";
import { PAGE_SIZE } from "./sparse-memory.js";
import type { ReservedPool } from "./types.js";

export class PoolAllocator {
  readonly pool: ReservedPool;
  /** Live allocations sorted by pa. */
  private blocks: { pa: number; len: number }[] = [];

  constructor(pool: ReservedPool) {
    this.pool = pool;
  }

  /** Returns the pa of `len` bytes aligned to `align` (a power of two; default one page, as the DMA API gives). */
  alloc(len: number, align = PAGE_SIZE): number {
    this.checkLen(len);
    if (!isPowerOfTwo(align)) {
      throw new RprocError("EINVAL", `${this.pool.name}: alignment ${String(align)} is not a power of two`, { field: "align", value: String(align) });
    }
    const end = this.pool.pa + this.pool.size;
    let cursor = this.pool.pa;
    for (let i = 0; i <= this.blocks.length; i++) {
      const start = alignUp(cursor, align);
      const next = this.blocks[i];
      const limit = next ? next.pa : end;
      if (start + len <= limit) {
        this.blocks.splice(i, 0, { pa: start, len });
        return start;
      }
      if (next) cursor = next.pa + next.len;
    }
    throw new RprocError("ENOMEM", `${this.pool.name}: no free ${hex(len)} bytes aligned to ${hex(align)} (pool ${hex(this.pool.pa)} + ${hex(this.pool.size)}, ${hex(this.inUse())} in use)`, {
      field: "len",
      value: len,
      limit: this.pool.size - this.inUse(),
    });
  }

  /**
   * dma_alloc_coherent() from a device's shared-dma-pool (kernel/dma/coherent.c,
   * __dma_alloc_from_coherent): the request is rounded up to 2^get_order(len)
   * pages and bitmap_find_free_region() takes the first free run of that many
   * pages at a multiple of its own size from the pool start. So on a board a
   * 0x3000-byte vring occupies 0x4000 and the next allocation starts after it.
   */
  allocCoherent(len: number): number {
    this.checkLen(len);
    const poolPages = Math.floor(this.pool.size / PAGE_SIZE);
    let pages = 1;
    while (pages * PAGE_SIZE < len) pages *= 2;
    const region = pages * PAGE_SIZE;
    if (len <= poolPages * PAGE_SIZE) {
      for (let pos = 0; pos + pages <= poolPages; pos += pages) {
        const start = this.pool.pa + pos * PAGE_SIZE;
        const i = this.blocks.findIndex((b) => b.pa + b.len > start);
        const next = i < 0 ? undefined : this.blocks[i];
        if (next && next.pa < start + region) continue;
        this.blocks.splice(i < 0 ? this.blocks.length : i, 0, { pa: start, len: region });
        return start;
      }
    }
    throw new RprocError(
      "ENOMEM",
      `${this.pool.name}: no free ${hex(region)}-byte region for ${hex(len)} bytes (dma_alloc_coherent rounds to 2^order pages; pool ${hex(this.pool.pa)} + ${hex(this.pool.size)}, ${hex(this.inUse())} in use)`,
      { field: "len", value: len, limit: this.pool.size - this.inUse() },
    );
  }

  /** Release an allocation by the pa alloc() returned; EINVAL for anything else (double free included). */
  free(pa: number): void {
    const i = this.blocks.findIndex((b) => b.pa === pa);
    if (i < 0) {
      throw new RprocError("EINVAL", `${this.pool.name}: ${typeof pa === "number" ? hex(pa) : String(pa)} is not an allocation of this pool (double free?)`, {
        field: "pa",
        value: typeof pa === "number" ? pa : String(pa),
      });
    }
    this.blocks.splice(i, 1);
  }

  private checkLen(len: number): void {
    if (!Number.isSafeInteger(len) || len <= 0) {
      throw new RprocError("EINVAL", `${this.pool.name}: allocation length ${String(len)} must be a positive integer`, { field: "len", value: String(len) });
    }
  }

  /** Bytes currently allocated (excluding alignment padding; a coherent allocation counts its whole 2^order region). */
  inUse(): number {
    return this.blocks.reduce((s, b) => s + b.len, 0);
  }
}

function isPowerOfTwo(n: number): boolean {
  // Works above 2^31, where bitwise operators would truncate.
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

function alignUp(v: number, align: number): number {
  const r = v % align;
  return r === 0 ? v : v + (align - r);
}
