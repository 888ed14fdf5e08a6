/**
 * struct rproc_ops: the only extension point between the core and a driver
 * or loader. Every op may be async; errors are thrown RprocErrors (never
 * negative integers). Absent ops take the kernel's default (spec §2).
 */
import type { MemView } from "../platform/mem-view.js";
import type { Platform } from "../platform/platform.js";
import type { ProcessorDesc } from "../platform/types.js";
import type { Firmware } from "./firmware.js";
import type { Rproc } from "./rproc.js";
import { elfLoaderOps } from "../loaders/elf-loader.js";
import { rprocCoredump } from "./coredump.js";

export const RSC_HANDLED = 0;
export const RSC_IGNORED = 1;

export interface RprocOps {
  prepare?(rproc: Rproc): Promise<void> | void;
  unprepare?(rproc: Rproc): Promise<void> | void;
  start?(rproc: Rproc): Promise<void> | void;
  stop?(rproc: Rproc): Promise<void> | void;
  attach?(rproc: Rproc): Promise<void> | void;
  detach?(rproc: Rproc): Promise<void> | void;
  /** vqid is the vring's notify id (virtqueue notify). */
  kick?(rproc: Rproc, vqid: number): void;
  daToVa?(rproc: Rproc, da: number, len: number): MemView | undefined;
  /** Sets rproc.cachedTable / tablePtr / tableSz. */
  parseFw?(rproc: Rproc, fw: Firmware): Promise<void> | void;
  /** Vendor resources (types 128..512): RSC_HANDLED 0 | RSC_IGNORED 1; throw to fail. */
  handleRsc?(rproc: Rproc, type: number, rscOffset: number, avail: number): Promise<number> | number;
  findLoadedRscTable?(rproc: Rproc, fw: Firmware): MemView | undefined | Promise<MemView | undefined>;
  getLoadedRscTable?(
    rproc: Rproc,
  ): { table: MemView; size: number } | undefined | Promise<{ table: MemView; size: number } | undefined>;
  load?(rproc: Rproc, fw: Firmware): Promise<void> | void;
  sanityCheck?(rproc: Rproc, fw: Firmware): Promise<void> | void;
  getBootAddr?(rproc: Rproc, fw: Firmware): number;
  /** Milliseconds the panic notifier should wait. */
  panic?(rproc: Rproc): number;
  coredump?(rproc: Rproc): Promise<void> | void;
  /** TEE series (proposed upstream, unmerged): undo what parseFw/load set up; called at the 3 points of spec §10.3. */
  releaseFw?(rproc: Rproc): Promise<void> | void;
}

/**
 * A driver as the composition root (drivers/registry.ts) builds it: its
 * RprocOps plus the typed hooks createRproc calls around rproc_add.
 */
export interface DriverOps extends RprocOps {
  /** The driver's probe: defaults it sets on struct rproc before rproc_add (ti_k3_r5: recovery_disabled). */
  probe?(rproc: Rproc): void;
  /** Model the boot stage that started the processor before Linux (initiallyRunning processors): load `fw`, leave its table in memory. */
  earlyBoot?(rproc: Rproc, fw: Firmware): void;
  /** Where the earlier boot stage started the core (its entry), for a driver that runs the firmware itself. */
  earlyBootAddr?(rproc: Rproc): number | undefined;
}

/** What a driver factory gets: the processor it drives. */
export interface DriverContext {
  platform: Platform;
  processor: ProcessorDesc;
  /** Driver-specific options passed through createRproc (e.g. a sim behaviour). */
  options: unknown;
}

export type DriverFactory = (ctx: DriverContext) => DriverOps;

/**
 * rproc_alloc_ops(): copy the driver's ops, default coredump, and when the
 * driver has no `load`, install the ELF set — overwriting whatever the
 * driver put in those five slots, exactly as the kernel does (quirk §11.2).
 */
export function withDefaultOps(ops: RprocOps): RprocOps {
  const out: RprocOps = { ...ops };
  if (!out.coredump) out.coredump = rprocCoredump;
  if (out.load) return out;
  out.load = elfLoaderOps.load;
  out.parseFw = elfLoaderOps.parseFw;
  out.findLoadedRscTable = elfLoaderOps.findLoadedRscTable;
  out.sanityCheck = elfLoaderOps.sanityCheck;
  out.getBootAddr = elfLoaderOps.getBootAddr;
  return out;
}
