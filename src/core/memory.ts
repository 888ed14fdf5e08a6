/**
 * rproc_da_to_va / rproc_pa_to_va and the "where was this meant to go"
 * explanation used by the ELF loader's "bad phdr da" (user problem #1).
 */
import { hex } from "../errors.js";
import type { MemView } from "../platform/mem-view.js";
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
 * Explain why [da, da+len) is not addressable: which translation window or
 * carveout the start falls in and by how many bytes the range overflows it.
 */
export function explainDa(rproc: Rproc, da: number, len: number): string {
  const end = da + len;
  const windows: { name: string; da: number; size: number }[] = [];
  for (const t of rproc.processor.translations) {
    const region = rproc.platform.regionAt(t.pa, 1);
    windows.push({ name: t.name ?? region?.name ?? `translation ${hex(t.da)}`, da: t.da, size: t.size });
  }
  for (const c of rproc.carveouts) if (c.va) windows.push({ name: `carveout ${c.name}`, da: c.da, size: c.len });
  const home = windows.find((w) => da >= w.da && da < w.da + w.size);
  if (home) {
    const limit = home.da + home.size;
    return `meant for ${home.name} (da ${hex(home.da)}..${hex(limit - 1)}), overflows it by ${end - limit} bytes (${hex(end - limit)})`;
  }
  if (windows.length === 0) return `${rproc.processor.name} has no address translation`;
  return `da ${hex(da)} is in none of ${rproc.processor.name}'s windows (${windows.map((w) => `${w.name} ${hex(w.da)}+${hex(w.size)}`).join(", ")})`;
}
