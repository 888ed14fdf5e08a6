/**
 * rproc_da_to_va / rproc_pa_to_va and the "where was this meant to go"
 * explanation used by the ELF loader's "bad phdr da" (user problem #1).
 */
import { hex } from "../errors.js";
import type { MemView } from "../platform/mem-view.js";
import { driverWindows, resolveDriverModel } from "../platform/driver-model.js";
import type { Rproc } from "./rproc.js";

/**
 * rproc_da_to_va(): the driver's translation first, then the allocated
 * carveouts in list order (first match). The kernel computes the carveout
 * offset in an `int`; rproc computes it exactly (no wrap for far addresses).
 */
export function rprocDaToVa(rproc: Rproc, da: number, len: number): MemView | undefined {
  if (!Number.isSafeInteger(da) || da < 0 || !Number.isSafeInteger(len) || len < 0) return undefined;
  const v = rproc.ops.daToVa?.(rproc, da, len);
  if (v) return v;
  for (const c of rproc.carveouts) {
    if (!c.va) continue;
    const offset = da - c.da;
    if (offset < 0) continue;
    if (offset + len > c.len) continue;
    return c.va.sub(offset, len);
  }
  return undefined;
}

/**
 * rproc_pa_to_va() (TEE series, unmerged): match `pa` against the dma
 * address of allocated carveouts; no driver translation step.
 */
export function rprocPaToVa(rproc: Rproc, pa: number, len: number): MemView | undefined {
  if (!Number.isSafeInteger(pa) || pa < 0 || !Number.isSafeInteger(len) || len < 0) return undefined;
  for (const c of rproc.carveouts) {
    if (!c.va) continue;
    if (pa < c.dma) continue;
    const offset = pa - c.dma;
    if (offset > c.len || len > c.len - offset) continue;
    return c.va.sub(offset, len);
  }
  return undefined;
}

/**
 * Explain why [da, da+len) is not addressable, in the driver's terms: the
 * window (its own, or a carveout) the start falls in and by how many bytes
 * the range overflows it, or the window it lies in that the driver does not
 * map (with the windows it does map). Never a negative size.
 */
export function explainDa(rproc: Rproc, da: number, len: number): string {
  const p = rproc.platform;
  const proc = rproc.processor;
  const model = resolveDriverModel(proc);
  const who = model.kernelDriver === "generic" ? `${proc.name}'s driver` : model.kernelDriver;
  const windows: { name: string; da: number; size: number }[] = [];
  for (const w of driverWindows(proc, (n) => p.pool(n), (pa, size) => p.paToDa(proc, pa, size))) {
    if (w.da !== undefined) windows.push({ name: w.name, da: w.da, size: w.size });
  }
  for (const c of rproc.carveouts) if (c.va) windows.push({ name: `carveout ${c.name}`, da: c.da, size: c.len });
  const list = (): string => (windows.length === 0 ? "none" : windows.map((w) => `${w.name} ${hex(w.da)}+${hex(w.size)}`).join(", "));
  const end = da + len;
  const home = windows.find((w) => da >= w.da && da < w.da + w.size);
  if (home) {
    const limit = home.da + home.size;
    const where = `${home.name} (da ${hex(home.da)}..${hex(limit - 1)})`;
    if (end > limit) return `meant for ${where}, overflows it by ${end - limit} bytes (${hex(end - limit)})`;
    if (model.daToVa.strictEnd && end === limit) return `ends exactly at the end of ${where}, which ${who} refuses (its da_to_va compares da + len < end)`;
    return `lies in ${where}, but the memory behind it cannot be reached from the host`;
  }
  const t = proc.translations.find((x) => da >= x.da && da < x.da + x.size);
  if (t) {
    const pa = t.pa + (da - t.da);
    const idx = proc.memoryRegions.findIndex((n) => {
      const pool = p.pool(n);
      return pool !== undefined && pa >= pool.pa && pa < pool.pa + pool.size;
    });
    const region = idx < 0 ? "" : ` (memory-region ${idx}, ${proc.memoryRegions[idx]}${proc.memoryRegions[idx] === proc.dmaPool ? ": the DMA pool" : ""})`;
    const name = t.name ?? p.regionAt(t.pa, 1)?.name ?? "translation";
    return `is in ${name} (da ${hex(t.da)}+${hex(t.size)})${region}, which ${who} does not map; it maps: ${list()}`;
  }
  if (windows.length === 0) return `${who} maps no window for ${proc.name}`;
  return `da ${hex(da)} is in none of the windows ${who} maps for ${proc.name} (${list()})`;
}
