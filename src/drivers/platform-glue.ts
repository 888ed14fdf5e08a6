/**
 * The platform half every driver shares: what the kernel driver of a
 * processor does with the board's memory, as its platform's driver
 * description says (platform/driver-model.ts). The sim, emulated and TEE
 * drivers compose it; only how the core runs differs between them.
 *
 *   prepare / unprepare   memory-regions -> carveouts and dump segments
 *                         (stm32_rproc_prepare, imx_rproc_prepare)
 *   daToVa                the driver's own da_to_va (k3_r5_rproc_da_to_va, imx_rproc_da_to_va)
 *   deviceView            what the remote core's bus reaches (its trace writes, counters)
 *   parseFw               the driver's parse_fw (stm32/imx/zynqmp only warn without a table)
 *   findLoadedRscTable    imx_rproc_elf_find_loaded_rsc_table's rsc-table region, else the section
 *   earlyBoot             the boot stage before Linux (attach path)
 *   probe                 defaults the driver's probe sets (ti_k3_r5: recovery_disabled)
 */
import { RprocError, hex } from "../errors.js";
import { MemView } from "../platform/mem-view.js";
import { driverWindows, registeredMemoryRegions, resolveDriverModel, windowAt, type DriverWindow } from "../platform/driver-model.js";
import type { DriverModel } from "../platform/types.js";
import { PT_LOAD, segmentData, type ElfFile } from "../formats/elf.js";
import { findTable, firmwareElf, rprocElfFindLoadedRscTable, rprocElfLoadRscTable } from "../loaders/elf-loader.js";
import type { Firmware } from "../core/firmware.js";
import type { CarveoutEntry, DumpSegment, Rproc } from "../core/rproc.js";
import { rprocAddCarveout, rprocMemEntryInit } from "../core/carveout.js";
import { rprocCoredumpAddSegment } from "../core/coredump.js";

const isBuffer = (name: string): boolean => /^vdev\d+buffer$/.test(name);

/** What the boot stage before Linux left behind. */
export interface EarlyBootResult {
  elf: ElfFile;
  table: { table: MemView; size: number } | undefined;
  bootAddr: number | undefined;
}

export interface PlatformGlue {
  probe(rproc: Rproc): void;
  prepare(rproc: Rproc): void;
  unprepare(rproc: Rproc): void;
  daToVa(rproc: Rproc, da: number, len: number): MemView | undefined;
  deviceView(rproc: Rproc, da: number, len: number): MemView | undefined;
  parseFw(rproc: Rproc, fw: Firmware): ElfFile;
  findLoadedRscTable(rproc: Rproc, fw: Firmware): MemView | undefined;
  earlyBoot(rproc: Rproc, fw: Firmware): EarlyBootResult;
}

/** One glue per driver instance: it remembers what it registered, to drop what the core did not take back. */
export function createPlatformGlue(): PlatformGlue {
  const registered: CarveoutEntry[] = [];
  const segments: DumpSegment[] = [];
  let cache: { rproc: Rproc; model: DriverModel; windows: DriverWindow[] } | undefined;

  const modelOf = (rproc: Rproc): { model: DriverModel; windows: DriverWindow[] } => {
    if (cache?.rproc !== rproc) {
      const p = rproc.platform;
      const windows = driverWindows(rproc.processor, (n) => p.pool(n), (pa, len) => p.paToDa(rproc.processor, pa, len));
      cache = { rproc, model: resolveDriverModel(rproc.processor), windows };
    }
    return cache;
  };

  /** The driver's da_to_va: da -> pa through the processor's translations, then only inside a window the driver maps. */
  const daToVa = (rproc: Rproc, da: number, len: number): MemView | undefined => {
    const pa = rproc.platform.daToPa(rproc.processor, da, len);
    if (pa === undefined) return undefined;
    const { model, windows } = modelOf(rproc);
    if (!windowAt(windows, pa, len, model.daToVa.strictEnd)) return undefined;
    try {
      return new MemView(rproc.platform, pa, len);
    } catch {
      return undefined;
    }
  };

  /**
   * The remote core's own (device-world) view of [da, da+len): what its bus
   * reaches, not what the host may map. Its translations first, then an
   * allocated carveout's device mapping (da -> dma, e.g. behind an IOMMU).
   * A TEE firewall that locks the firmware memory from the host grants it to
   * this core, so the host's EACCES must not stop the remote from writing its
   * own trace buffer; TEE-owned regions stay out of reach.
   */
  const deviceView = (rproc: Rproc, da: number, len: number): MemView | undefined => {
    const p = rproc.platform;
    let pa = p.daToPa(rproc.processor, da, len);
    if (pa === undefined) {
      const c = rproc.carveouts.find((m) => m.va !== undefined && da >= m.da && da + len <= m.da + m.len);
      if (c) pa = c.dma + (da - c.da);
    }
    if (pa === undefined) return undefined;
    const start = pa;
    if (p.desc.regions.some((r) => r.owner === "tee" && start < r.pa + r.size && r.pa < start + Math.max(len, 1))) return undefined;
    try {
      return new MemView(p, pa, len, "secure");
    } catch {
      return undefined;
    }
  };

  const dropUnclaimed = (rproc: Rproc): void => {
    for (const mem of registered.splice(0)) {
      const i = rproc.carveouts.indexOf(mem);
      if (i < 0) continue;
      rproc.carveouts.splice(i, 1);
      mem.va = undefined;
      rproc.account("release", "carveout", mem.name);
    }
    for (const seg of segments.splice(0)) {
      const i = rproc.dumpSegments.indexOf(seg);
      if (i < 0) continue;
      rproc.dumpSegments.splice(i, 1);
      rproc.account("release", "dump_segment", seg.da);
    }
  };

  /** One memory-region as the driver registers it: vdevNbuffer by index only (rproc_of_resm_mem_entry_init), others mapped on alloc. */
  const registerRegion = (rproc: Rproc, name: string, idx: number): void => {
    const proc = rproc.processor;
    const pool = rproc.platform.pool(name);
    if (!pool) throw new RprocError("EINVAL", `unable to acquire memory-region ${name}: no such reserved-memory pool`, { field: `memoryRegions[${idx}]` });
    const da = rproc.platform.paToDa(proc, pool.pa, pool.size);
    if (da === undefined)
      throw new RprocError("EINVAL", `memory-region ${name} (${hex(pool.pa)} + ${hex(pool.size)}) is not addressable by ${proc.name}`, {
        field: `memoryRegions[${idx}]`,
      });
    if (proc.registerCarveouts) {
      const mem = isBuffer(name)
        ? rprocMemEntryInit({ name, len: pool.size, da, dma: pool.pa, ofResmIdx: idx })
        : rprocMemEntryInit({
            name,
            len: pool.size,
            da,
            dma: pool.pa,
            pa: pool.pa,
            alloc: (r, m) => {
              m.va = new MemView(r.platform, pool.pa, pool.size);
            },
            // iounmap: nothing to free, the memory belongs to the platform.
            release: (_r, m) => {
              m.va = undefined;
            },
          });
      rprocAddCarveout(rproc, mem);
      registered.push(mem);
    }
    if (proc.coredumpSegments === "memory-regions" && !isBuffer(name)) segments.push(rprocCoredumpAddSegment(rproc, da, pool.size));
  };

  return {
    probe(rproc) {
      if (modelOf(rproc).model.recovery === "disabled") rproc.recoveryDisabled = true;
    },

    /** stm32_rproc_prepare / imx_rproc_prepare: each memory-region becomes a named carveout and a coredump segment. */
    prepare(rproc) {
      const proc = rproc.processor;
      if (!proc.registerCarveouts && proc.coredumpSegments !== "memory-regions") return;
      try {
        for (const { name, index } of registeredMemoryRegions(proc, modelOf(rproc).model)) registerRegion(rproc, name, index);
      } catch (e) {
        dropUnclaimed(rproc);
        throw e;
      }
    },

    /**
     * The core frees registered carveouts and dump segments in
     * rproc_resource_cleanup, but a parse_fw failure unwinds through
     * unprepare only (no cleanup): stm32_rproc, which registers in parse_fw,
     * leaks them then. The glue drops whatever the core did not take back.
     */
    unprepare(rproc) {
      dropUnclaimed(rproc);
    },

    daToVa,
    deviceView,

    /**
     * The driver's parse_fw. stm32_rproc_parse_fw, imx_rproc_parse_fw and
     * zynqmp_r5_parse_fw only log when rproc_elf_load_rsc_table fails and
     * boot without a table; the default (K3) fails the boot with its EINVAL.
     */
    parseFw(rproc, fw) {
      const elf = firmwareElf(fw);
      const { model } = modelOf(rproc);
      if (model.setsElfInfo && (elf.header.class === 32 || elf.header.class === 64)) rproc.setElfInfo(elf.header.class, elf.header.machine);
      if (model.missingResourceTable === "warn") {
        const t = findTable(elf);
        if (typeof t === "string") {
          rproc.warn("no-resource-table", ".resource_table", `no resource table found for this firmware (${t}); ${model.kernelDriver} boots it without one`);
          rproc.cachedTable = null;
          rproc.tablePtr = null;
          rproc.tableSz = 0;
          return elf;
        }
      }
      rprocElfLoadRscTable(rproc, fw);
      return elf;
    },

    findLoadedRscTable(rproc, fw) {
      const region = modelOf(rproc).model.loadedTableRegion;
      if (region === undefined) return rprocElfFindLoadedRscTable(rproc, fw);
      // imx_rproc_elf_find_loaded_rsc_table: no table in the firmware, no loaded table; else the rsc-table region.
      if (!rproc.tablePtr) return undefined;
      const pool = rproc.platform.pool(region)!;
      if (rproc.tableSz > pool.size)
        throw new RprocError("EINVAL", `resource table (${rproc.tableSz} bytes) does not fit memory-region ${region} (${hex(pool.size)} bytes)`, {
          field: "driverModel.loadedTableRegion",
          value: rproc.tableSz,
          limit: pool.size,
        });
      return new MemView(rproc.platform, pool.pa, rproc.tableSz);
    },

    /** The boot stage that started the processor before Linux: its segments in memory, its table where the driver will look. */
    earlyBoot(rproc, fw) {
      const elf = firmwareElf(fw);
      for (const ph of elf.programHeaders) {
        if (ph.type !== PT_LOAD || ph.memsz === 0 || typeof ph.paddr !== "number") continue;
        const va = daToVa(rproc, ph.paddr, ph.memsz);
        if (!va) throw new RprocError("EINVAL", `early boot: segment ${ph.index} at da ${hex(ph.paddr)} is not addressable`, { field: `programHeaders[${ph.index}].p_paddr` });
        va.write(0, segmentData(elf, ph));
        if (ph.memsz > ph.filesz) va.fill(ph.filesz, ph.memsz - ph.filesz, 0);
      }
      const t = findTable(elf);
      let table: EarlyBootResult["table"];
      if (typeof t !== "string" && typeof t.section.addr === "number") {
        const view = daToVa(rproc, t.section.addr, t.section.size);
        if (view) table = { table: view, size: t.section.size };
      }
      return { elf, table, bootAddr: typeof elf.header.entry === "number" ? elf.header.entry : undefined };
    },
  };
}
