/**
 * The simulated remoteproc driver: RprocOps over platform memory, shaped
 * like stm32_rproc.c / ti_k3_r5_remoteproc.c. It sets `load` itself (so no
 * ELF defaults overwrite its parse_fw) and reuses the ELF ops one by one,
 * as stm32_rproc does.
 */
import { RprocError, hex } from "../../errors.js";
import { MemView } from "../../platform/mem-view.js";
import type { ElfFile } from "../../formats/elf.js";
import { findTable, firmwareElf, rprocElfFindLoadedRscTable, rprocElfGetBootAddr, rprocElfLoadRscTable, rprocElfLoadSegments, rprocElfSanityCheck } from "../../loaders/elf-loader.js";
import { segmentData, PT_LOAD } from "../../formats/elf.js";
import type { RprocOps } from "../../core/ops.js";
import type { Firmware } from "../../core/firmware.js";
import type { CarveoutEntry, DumpSegment, Rproc } from "../../core/rproc.js";
import { rprocAddCarveout, rprocMemEntryInit } from "../../core/carveout.js";
import { rprocCoredumpAddSegment } from "../../core/coredump.js";
import { RprocCrashType } from "../../core/state.js";
import { defaultBehaviour, type SimBehaviour, type SimBehaviourContext } from "./behaviour.js";

export interface SimDriverOptions {
  behaviour?: SimBehaviour;
}

/** Bound of the kick log, so a long-running processor (soak, recovery loops) does not grow it forever. */
export const SIM_KICK_LOG_LIMIT = 256;

/** What the simulated processor did, for tests and reports. */
export interface SimState {
  running: boolean;
  bootAddr: number | undefined;
  starts: number;
  stops: number;
  /** The newest kicks (vring notify ids), at most SIM_KICK_LOG_LIMIT; `kickCount` counts them all. */
  kicks: number[];
  kickCount: number;
  elf: ElfFile | undefined;
  firmwareName: string | undefined;
  /** Where the earlier boot stage left the resource table (attach path). */
  earlyTable: { table: MemView; size: number } | undefined;
  /** Report a crash now (rproc_report_crash). */
  crash(type?: RprocCrashType): void;
}

export interface SimDriverOps extends RprocOps {
  sim: SimState;
  /** Model the boot stage that started the processor before Linux: load `fw` and leave its table in memory. */
  earlyBoot(rproc: Rproc, fw: Firmware): void;
}

const isBuffer = (name: string): boolean => /^vdev\d+buffer$/.test(name);

export function createSimDriver(opts: SimDriverOptions = {}): SimDriverOps {
  const behaviour = opts.behaviour ?? defaultBehaviour();
  let rprocRef: Rproc | undefined;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const registered: CarveoutEntry[] = [];
  const segments: DumpSegment[] = [];

  const reportCrash = (type: RprocCrashType): void => {
    if (!rprocRef) return;
    rprocRef.emit("sim_crash", "info", { type });
    rprocRef.reportCrash(type);
  };

  const sim: SimState = {
    running: false,
    bootAddr: undefined,
    starts: 0,
    stops: 0,
    kicks: [],
    kickCount: 0,
    elf: undefined,
    firmwareName: undefined,
    earlyTable: undefined,
    crash: (type = RprocCrashType.FATAL_ERROR) => reportCrash(type),
  };

  const ctx = (rproc: Rproc): SimBehaviourContext => ({
    rproc,
    elf: sim.elf,
    firmwareName: sim.firmwareName,
    writeTrace(text, index = 0) {
      const t = rproc.traces[index];
      const va = t && t.len > 0 ? deviceView(rproc, t.da, t.len) : undefined;
      if (!t || !va) return false;
      const bytes = Buffer.from(text, "latin1").subarray(0, t.len - 1);
      va.write(0, bytes);
      va.write(bytes.length, Uint8Array.of(0));
      return true;
    },
    readU32(da) {
      return deviceView(rproc, da, 4)?.u32(0);
    },
    writeU32(da, v) {
      const va = deviceView(rproc, da, 4);
      if (!va) return false;
      va.setU32(0, v);
      return true;
    },
    crash: (type = RprocCrashType.FATAL_ERROR) => reportCrash(type),
    after(ms, fn) {
      const h = setTimeout(() => {
        timers.delete(h);
        if (sim.running) fn();
      }, ms);
      h.unref?.();
      timers.add(h);
    },
  });

  const stopTimers = (): void => {
    for (const h of timers) clearTimeout(h);
    timers.clear();
  };

  /** The processor's own view: its translations, limited to its memory-regions when it registers them (STM32/i.MX). */
  const daToVa = (rproc: Rproc, da: number, len: number): MemView | undefined => {
    const p = rproc.platform;
    const pa = p.daToPa(rproc.processor, da, len);
    if (pa === undefined) return undefined;
    if (rproc.processor.registerCarveouts) {
      const inRegion = rproc.processor.memoryRegions.some((n) => {
        const pool = p.pool(n);
        return pool !== undefined && !isBuffer(n) && pa >= pool.pa && pa + len <= pool.pa + pool.size;
      });
      if (!inRegion) return undefined;
    }
    try {
      return new MemView(p, pa, len);
    } catch {
      return undefined;
    }
  };

  /**
   * The remote core's own (device-world) view of [da, da+len): what its bus
   * reaches, not what the host may map. Its translations first, then an
   * allocated carveout's device mapping (da -> dma, e.g. behind an IOMMU).
   * The access does not go through the host's checks: a TEE firewall that
   * locks the firmware memory from the host grants it to this core (the
   * whole point of locking it), so the host's EACCES must not stop the
   * remote from writing its own trace buffer. TEE-owned regions stay out of
   * reach. Host code must keep using daToVa (host world).
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

  const ops: SimDriverOps = {
    sim,

    /** stm32_rproc_parse_memory_regions: each memory-region becomes a named carveout and a coredump segment. */
    prepare(rproc) {
      rprocRef = rproc;
      const proc = rproc.processor;
      try {
        proc.memoryRegions.forEach((name, idx) => {
          if (!proc.registerCarveouts && proc.coredumpSegments !== "memory-regions") return;
          const pool = rproc.platform.pool(name);
          if (!pool) throw new RprocError("EINVAL", `unable to acquire memory-region ${name}: no such reserved-memory pool`, { field: `memoryRegions[${idx}]` });
          const da = rproc.platform.paToDa(proc, pool.pa, pool.size);
          if (da === undefined)
            throw new RprocError("EINVAL", `memory-region ${name} (${hex(pool.pa)} + ${hex(pool.size)}) is not addressable by ${proc.name}`, {
              field: `memoryRegions[${idx}]`,
            });
          if (proc.registerCarveouts) {
            const mem = isBuffer(name)
              ? // vdev0buffer is registered by reserved-memory index only: no mapping (rproc_of_resm_mem_entry_init).
                rprocMemEntryInit({ name, len: pool.size, da, dma: pool.pa, ofResmIdx: idx })
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
        });
      } catch (e) {
        dropUnclaimed(rproc);
        throw e;
      }
    },

    /**
     * The core frees registered carveouts and dump segments in
     * rproc_resource_cleanup, but a parse_fw failure unwinds through unprepare
     * only (no cleanup): stm32_rproc, which registers in parse_fw, leaks them
     * then. This driver drops whatever the core did not take back.
     */
    unprepare(rproc) {
      dropUnclaimed(rproc);
    },

    parseFw(rproc, fw) {
      const elf = firmwareElf(fw);
      rproc.setElfInfo(elf.header.class, elf.header.machine);
      sim.elf = elf;
      sim.firmwareName = fw.name;
      rprocElfLoadRscTable(rproc, fw);
    },
    load: rprocElfLoadSegments,
    sanityCheck: rprocElfSanityCheck,
    getBootAddr: rprocElfGetBootAddr,
    findLoadedRscTable: rprocElfFindLoadedRscTable,

    daToVa,

    start(rproc) {
      rprocRef = rproc;
      sim.running = true;
      sim.bootAddr = rproc.bootaddr;
      sim.starts++;
      behaviour.onStart?.(ctx(rproc));
    },

    stop(rproc) {
      stopTimers();
      sim.running = false;
      sim.stops++;
      behaviour.onStop?.(ctx(rproc));
    },

    attach(rproc) {
      rprocRef = rproc;
      sim.running = true;
      behaviour.onAttach?.(ctx(rproc));
    },

    /** The remote keeps running; only the host lets go. */
    detach() {
      stopTimers();
    },

    kick(rproc, vqid) {
      sim.kickCount++;
      sim.kicks.push(vqid);
      if (sim.kicks.length > SIM_KICK_LOG_LIMIT) sim.kicks.splice(0, sim.kicks.length - SIM_KICK_LOG_LIMIT);
      behaviour.onKick?.(ctx(rproc), vqid);
    },

    getLoadedRscTable() {
      return sim.earlyTable;
    },

    earlyBoot(rproc, fw) {
      rprocRef = rproc;
      const elf = firmwareElf(fw);
      for (const ph of elf.programHeaders) {
        if (ph.type !== PT_LOAD || ph.memsz === 0 || typeof ph.paddr !== "number") continue;
        const va = daToVa(rproc, ph.paddr, ph.memsz);
        if (!va) throw new RprocError("EINVAL", `early boot: segment ${ph.index} at da ${hex(ph.paddr)} is not addressable`, { field: `programHeaders[${ph.index}].p_paddr` });
        va.write(0, segmentData(elf, ph));
        if (ph.memsz > ph.filesz) va.fill(ph.filesz, ph.memsz - ph.filesz, 0);
      }
      const t = findTable(elf);
      if (typeof t !== "string" && typeof t.section.addr === "number") {
        const table = daToVa(rproc, t.section.addr, t.section.size);
        if (table) sim.earlyTable = { table, size: t.section.size };
      }
      sim.elf = elf;
      sim.firmwareName = fw.name;
      sim.running = true;
      sim.bootAddr = typeof elf.header.entry === "number" ? elf.header.entry : undefined;
    },
  };

  function dropUnclaimed(rproc: Rproc): void {
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
  }

  return ops;
}
