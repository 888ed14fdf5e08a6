/**
 * struct rproc_ops: the only extension point between the core and a driver
 * or loader. Every op may be async; errors are thrown RprocErrors (never
 * negative integers). Absent ops take the kernel's default (spec §2).
 */
import type { MemView } from "../platform/mem-view.js";
import type { Firmware } from "./firmware.js";
import type { Rproc } from "./rproc.js";
import { elfLoaderOps } from "../loaders/elf-loader.js";

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

type CoredumpFn = (rproc: Rproc) => Promise<void> | void;
let defaultCoredump: CoredumpFn | undefined;

/**
 * The coredump module (owned separately) installs rproc_coredump here; the
 * default op looks it up at call time so load order does not matter.
 */
export function setDefaultCoredump(fn: CoredumpFn | undefined): void {
  defaultCoredump = fn;
}

/**
 * rproc_alloc_ops(): copy the driver's ops, default coredump, and when the
 * driver has no `load`, install the ELF set — overwriting whatever the
 * driver put in those five slots, exactly as the kernel does (quirk §11.2).
 */
export function withDefaultOps(ops: RprocOps): RprocOps {
  const out: RprocOps = { ...ops };
  if (!out.coredump) out.coredump = (rproc) => defaultCoredump?.(rproc);
  if (out.load) return out;
  out.load = elfLoaderOps.load;
  out.parseFw = elfLoaderOps.parseFw;
  out.findLoadedRscTable = elfLoaderOps.findLoadedRscTable;
  out.sanityCheck = elfLoaderOps.sanityCheck;
  out.getBootAddr = elfLoaderOps.getBootAddr;
  return out;
}
