/**
 * The windows a processor's kernel driver maps with its own da_to_va, from
 * the platform's driver description (ProcessorDesc.driverModel). The sim,
 * emulated and TEE drivers translate through these (drivers/platform-glue.ts)
 * and the ELF loader's "bad phdr da" message names them (core/memory.ts):
 * one rule, two readers.
 *
 *   stm32_rproc  no da_to_va: its memory-regions are carveouts (all but vdev0buffer)
 *   ti_k3_r5     k3_r5_rproc_da_to_va: TCMs (R5 and SoC views), then memory-regions 1..
 *                (region 0 is the DMA pool, k3_reserved_mem_init)
 *   imx_rproc    imx_rproc_da_to_va: da -> sys through the ATT, then the ATT_OWN entries and
 *                the memory-regions not named vdev* (imx_rproc_addr_init)
 */
import type { DriverModel, ProcessorDesc, ReservedPool, Translation } from "./types.js";

const isVdevBuffer = (name: string): boolean => /^vdev\d+buffer$/.test(name);

/**
 * A processor's driver model; a platform that states none gets the old
 * rule: a driver that registers its memory-regions maps exactly those
 * (but vdev buffers), else every translation.
 */
export function resolveDriverModel(proc: ProcessorDesc): DriverModel {
  if (proc.driverModel) return proc.driverModel;
  return {
    kernelDriver: "generic",
    daToVa: proc.registerCarveouts
      ? { translations: "none", memoryRegions: { from: 0, skip: [] }, strictEnd: false }
      : { translations: "all", memoryRegions: "none", strictEnd: false },
    missingResourceTable: "refuse",
    carveoutSkip: [],
    recovery: "enabled",
    setsElfInfo: true,
  };
}

/** One range the driver maps, by physical address, with the device address it is known by. */
export interface DriverWindow {
  name: string;
  pa: number;
  size: number;
  /** Device address of the window; undefined for a memory-region no translation reaches. */
  da: number | undefined;
}

/** The memory-regions the driver maps itself (after from/skip); vdev buffers never have a mapping. */
export function mappedMemoryRegions(proc: ProcessorDesc, model: DriverModel): string[] {
  const m = model.daToVa.memoryRegions;
  if (m === "none") return [];
  return proc.memoryRegions.filter((n, i) => i >= m.from && !isVdevBuffer(n) && !m.skip.some((p) => n.startsWith(p)));
}

/** Memory-regions the driver registers as carveouts / dump segments (carveoutSkip left out). */
export function registeredMemoryRegions(proc: ProcessorDesc, model: DriverModel): { name: string; index: number }[] {
  const out: { name: string; index: number }[] = [];
  proc.memoryRegions.forEach((name, index) => {
    if (!model.carveoutSkip.some((p) => name.startsWith(p))) out.push({ name, index });
  });
  return out;
}

/**
 * Every window the driver maps: its translations (as named by the model)
 * and its mapped memory-regions. `pool` and `paToDa` come from the Platform.
 */
export function driverWindows(
  proc: ProcessorDesc,
  pool: (name: string) => ReservedPool | undefined,
  paToDa: (pa: number, len: number) => number | undefined,
): DriverWindow[] {
  const model = resolveDriverModel(proc);
  const t = model.daToVa.translations;
  const picked: Translation[] = t === "all" ? proc.translations : t === "none" ? [] : proc.translations.filter((x) => x.name !== undefined && t.includes(x.name));
  const out: DriverWindow[] = picked.map((x) => ({ name: x.name ?? `translation da ${x.da}`, pa: x.pa, size: x.size, da: x.da }));
  for (const name of mappedMemoryRegions(proc, model)) {
    const p = pool(name);
    if (p) out.push({ name, pa: p.pa, size: p.size, da: paToDa(p.pa, p.size) });
  }
  return out;
}

/** The window holding all of [pa, pa+len), honouring the driver's end comparison. */
export function windowAt(windows: readonly DriverWindow[], pa: number, len: number, strictEnd: boolean): DriverWindow | undefined {
  return windows.find((w) => pa >= w.pa && (strictEnd ? pa + len < w.pa + w.size : pa + len <= w.pa + w.size));
}
