/**
 * dma_alloc_coherent() stand-in: one PoolAllocator per (platform, pool), so
 * every rproc of a platform shares its reserved-memory pools as devices
 * sharing a DT reserved-memory node would. Tests read inUse() to prove that
 * nothing stays allocated.
 */
import { RprocError } from "../errors.js";
import { PoolAllocator } from "../platform/allocator.js";
import type { Platform } from "../platform/platform.js";

const allocators = new WeakMap<Platform, Map<string, PoolAllocator>>();

export function dmaAllocator(platform: Platform, poolName: string): PoolAllocator {
  let byPool = allocators.get(platform);
  if (!byPool) {
    byPool = new Map();
    allocators.set(platform, byPool);
  }
  let a = byPool.get(poolName);
  if (!a) {
    const pool = platform.pool(poolName);
    if (!pool) throw new RprocError("ENOMEM", `DMA pool '${poolName}' is not a reserved-memory pool of platform ${platform.desc.name}`, { field: "dmaPool", value: poolName });
    a = new PoolAllocator(pool);
    byPool.set(poolName, a);
  }
  return a;
}

/** Bytes still allocated across every pool of the platform (0 after a clean shutdown). */
export function dmaInUse(platform: Platform): number {
  let total = 0;
  for (const a of allocators.get(platform)?.values() ?? []) total += a.inUse();
  return total;
}

/** All allocators created so far for the platform (fault injection wraps them). */
export function dmaAllocators(platform: Platform): PoolAllocator[] {
  return [...(allocators.get(platform)?.values() ?? [])];
}
