/**
 * The simulated remoteproc driver: a behaviour model of the remote core over
 * the platform glue every driver shares (../platform-glue.ts: carveouts from
 * memory-regions, the driver's da_to_va, parse_fw, coredump segments). It
 * sets `load` itself (so no ELF defaults overwrite its parse_fw) and reuses
 * the ELF ops one by one, as stm32_rproc does.
 */
import type { ElfFile } from "../../formats/elf.js";
import { rprocElfGetBootAddr, rprocElfLoadSegments, rprocElfSanityCheck } from "../../loaders/elf-loader.js";
import type { DriverOps } from "../../core/ops.js";
import type { Firmware } from "../../core/firmware.js";
import type { Rproc } from "../../core/rproc.js";
import type { MemView } from "../../platform/mem-view.js";
import { RprocCrashType } from "../../core/state.js";
import { createPlatformGlue } from "../platform-glue.js";
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

export interface SimDriverOps extends DriverOps {
  sim: SimState;
  /** Model the boot stage that started the processor before Linux: load `fw` and leave its table in memory. */
  earlyBoot(rproc: Rproc, fw: Firmware): void;
}

export function createSimDriver(opts: SimDriverOptions = {}): SimDriverOps {
  const behaviour = opts.behaviour ?? defaultBehaviour();
  let rprocRef: Rproc | undefined;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const glue = createPlatformGlue();
  const deviceView = glue.deviceView;

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
    view: (da, len) => deviceView(rproc, da, len),
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

  const ops: SimDriverOps = {
    sim,

    probe: glue.probe,

    prepare(rproc) {
      rprocRef = rproc;
      glue.prepare(rproc);
    },
    unprepare: glue.unprepare,

    parseFw(rproc, fw) {
      sim.elf = glue.parseFw(rproc, fw);
      sim.firmwareName = fw.name;
    },
    load: rprocElfLoadSegments,
    sanityCheck: rprocElfSanityCheck,
    getBootAddr: rprocElfGetBootAddr,
    findLoadedRscTable: glue.findLoadedRscTable,
    daToVa: glue.daToVa,

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
      const early = glue.earlyBoot(rproc, fw);
      sim.earlyTable = early.table;
      sim.elf = early.elf;
      sim.firmwareName = fw.name;
      sim.running = true;
      sim.bootAddr = early.bootAddr;
    },

    earlyBootAddr() {
      return sim.bootAddr;
    },
  };

  return ops;
}
