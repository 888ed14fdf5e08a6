/**
 * struct rproc_mem_entry helpers: creation, list insertion, lookup by name,
 * the da check, and the default DMA-backed alloc/release
 * (rproc_alloc_carveout / rproc_release_carveout, spec §4.2).
 */
import { RprocError, hex } from "../errors.js";
import { MemView } from "../platform/mem-view.js";
import { dmaAllocator } from "./dma.js";
import { FW_RSC_ADDR_ANY, type CarveoutEntry, type Rproc } from "./rproc.js";

export function rprocMemEntryInit(init: {
  name: string;
  len: number;
  da: number;
  dma?: number;
  va?: MemView;
  pa?: number;
  alloc?: CarveoutEntry["alloc"];
  release?: CarveoutEntry["release"];
  ofResmIdx?: number;
}): CarveoutEntry {
  const e: CarveoutEntry = {
    name: init.name,
    da: init.da,
    dma: init.dma ?? 0,
    len: init.len,
    va: init.va,
    rscOffset: FW_RSC_ADDR_ANY,
    flags: 0,
    ofResmIdx: init.ofResmIdx ?? -1,
  };
  if (init.pa !== undefined) e.pa = init.pa;
  if (init.alloc) e.alloc = init.alloc;
  if (init.release) e.release = init.release;
  return e;
}

/** rproc_add_carveout(): append (list order matters: lookups take the first match). */
export function rprocAddCarveout(rproc: Rproc, mem: CarveoutEntry): void {
  rproc.carveouts.push(mem);
  rproc.account("acquire", "carveout", mem.name);
}

/** rproc_va_to_pa for an entry: the physical address behind its mapping, undefined while it is not mapped. */
export function carveoutPa(mem: CarveoutEntry): number | undefined {
  return mem.va ? (mem.pa ?? mem.va.pa) : undefined;
}

export function rprocFindCarveoutByName(rproc: Rproc, name: string): CarveoutEntry | undefined {
  return rproc.carveouts.find((c) => c.name === name);
}

/** rproc_check_carveout_da(): returns the reason it fails, or undefined when the request fits. */
export function checkCarveoutDa(mem: CarveoutEntry, da: number, len: number): string | undefined {
  if (len > mem.len) return `requested length ${hex(len)} exceeds carveout ${mem.name} length ${hex(mem.len)}`;
  if (da !== FW_RSC_ADDR_ANY && mem.da === FW_RSC_ADDR_ANY) return `requested da ${hex(da)} but carveout ${mem.name} has no fixed da`;
  if (da !== FW_RSC_ADDR_ANY && mem.da !== FW_RSC_ADDR_ANY) {
    const delta = da - mem.da;
    if (delta < 0) return `requested da ${hex(da)} is below carveout ${mem.name} da ${hex(mem.da)}`;
    if (delta + len > mem.len)
      return `requested da ${hex(da)} + ${hex(len)} exceeds carveout ${mem.name} (${hex(mem.da)} + ${hex(mem.len)})`;
  }
  return undefined;
}

/** rproc_alloc_carveout(): DMA memory from the processor's pool, then IOMMU mapping or the da fixup. */
export function rprocAllocCarveout(rproc: Rproc, mem: CarveoutEntry): void {
  const poolName = rproc.processor.dmaPool;
  if (!poolName)
    throw new RprocError("ENOMEM", `failed to allocate dma memory: len ${hex(mem.len)} (processor ${rproc.processor.name} has no DMA pool)`, {
      field: "dmaPool",
    });
  const pa = dmaAllocator(rproc.platform, poolName).allocCoherent(mem.len);
  rproc.account("acquire", "dma", pa);
  let va: MemView;
  try {
    va = new MemView(rproc.platform, pa, mem.len);
    // dma_alloc_coherent returns zeroed memory: a second boot must not see the first one's data.
    va.fill(0, mem.len, 0);
  } catch (e) {
    dmaAllocator(rproc.platform, poolName).free(pa);
    rproc.account("release", "dma", pa);
    throw e;
  }
  // The bus address the device sees (dma-ranges); the sim's DMA API returns it when the pool is translated.
  const dma = rproc.platform.paToDa(rproc.processor, pa, mem.len) ?? pa;
  if (mem.da !== FW_RSC_ADDR_ANY && !rproc.iommuDomain && mem.da !== dma >>> 0) {
    // The kernel only warns (the coprocessor "may build its own translation"): the firmware will
    // find this memory at dma, not at the da it was linked for.
    rproc.warn(
      "carveout-da-mismatch",
      `carveouts.${mem.name}`,
      `Allocated carveout doesn't fit device address request: ${mem.name} asked for da ${hex(mem.da)}, got ${hex(dma)} from pool ${poolName} (pa ${hex(pa)})`,
    );
  }
  if (mem.da !== FW_RSC_ADDR_ANY && rproc.iommuDomain) {
    rproc.mappings.push({ da: mem.da, len: mem.len });
    rproc.account("acquire", "mapping", mem.da);
  }
  if (mem.da === FW_RSC_ADDR_ANY) {
    if (dma > 0xffffffff) rproc.warn("dma-above-32bit", `carveouts.${mem.name}`, "DMA address cast in 32bit to fit resource table format");
    mem.da = dma >>> 0;
  }
  mem.dma = dma;
  mem.va = va;
  mem.pa = pa;
  mem.allocated = true;
}

/** rproc_release_carveout(): dma_free_coherent. */
export function rprocReleaseCarveout(rproc: Rproc, mem: CarveoutEntry): void {
  if (!mem.va || mem.pa === undefined) return;
  dmaAllocator(rproc.platform, rproc.processor.dmaPool!).free(mem.pa);
  rproc.account("release", "dma", mem.pa);
  mem.va = undefined;
}
