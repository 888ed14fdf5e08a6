/**
 * struct rproc: one remote processor, its state and everything the core
 * acquired for it. Public entry points (boot/shutdown/detach/setFirmware)
 * take the lock and delegate to the sequences in lifecycle.ts, so the
 * class stays a thin, extensible shell (crash/recovery add methods the same way).
 */
import { RprocError, isRprocError } from "../errors.js";
import type { Diagnostic } from "../diagnostics.js";
import type { Platform } from "../platform/platform.js";
import type { ProcessorDesc } from "../platform/types.js";
import type { MemView } from "../platform/mem-view.js";
import { EventLog, type RprocEvent } from "./events.js";
import { AsyncMutex } from "./lock.js";
import { RprocDumpMechanism, RprocState } from "./state.js";
import { withDefaultOps, type RprocOps } from "./ops.js";
import { DEFAULT_FIRMWARE_DIR } from "./firmware.js";
import { rprocBoot, rprocDetach, rprocShutdown } from "./lifecycle.js";
import { rprocDaToVa, rprocPaToVa } from "./memory.js";
import { traceRead } from "./trace.js";
import { vqInterrupt } from "./vdev.js";
import type { RprocVirtioDevice } from "./virtio-device.js";
import { rprocReportCrash } from "./crash.js";
import { rprocTriggerRecovery } from "./recovery.js";
import { dumpsOf, type RprocDump } from "./coredump-store.js";
import { rprocCoredumpSetElfInfo } from "./coredump.js";

export { FW_RSC_ADDR_ANY } from "../formats/resource-table.js";

/** struct rproc_mem_entry */
export interface CarveoutEntry {
  name: string;
  da: number;
  dma: number;
  len: number;
  va: MemView | undefined;
  /** Body offset of the matching carveout entry in the table, FW_RSC_ADDR_ANY when not tied to one. */
  rscOffset: number;
  flags: number;
  ofResmIdx: number;
  alloc?: (rproc: Rproc, mem: CarveoutEntry) => void | Promise<void>;
  release?: (rproc: Rproc, mem: CarveoutEntry) => void | Promise<void>;
  /** Physical address backing `va` (rproc_va_to_pa); set by whoever maps the entry. */
  pa?: number;
  /** True when the core allocated it from the DMA pool (rproc_alloc_carveout), false for driver-registered memory. */
  allocated?: boolean;
}

/** struct rproc_debug_trace */
export interface TraceEntry {
  name: string;
  da: number;
  len: number;
  /** Body offset of the trace entry in the table. */
  rscOffset: number;
}

/** struct rproc_subdev: prepare/start/stop/unprepare hooks run around ops.start. */
export interface RprocSubdev {
  name: string;
  prepare?(): Promise<void> | void;
  start?(): Promise<void> | void;
  stop?(crashed: boolean): Promise<void> | void;
  unprepare?(): Promise<void> | void;
}

/** struct rproc_vring */
export interface RprocVring {
  index: number;
  num: number;
  align: number;
  notifyid: number;
  /** Set while the virtio driver has created the virtqueue (between find_vqs and del_vqs). */
  vq: { da: number; pa: number | undefined; mem?: MemView; callback?: () => boolean | void } | undefined;
  rvdev: RprocVdev;
}

/** struct rproc_vdev */
export interface RprocVdev {
  index: number;
  id: number;
  rscOffset: number;
  vrings: RprocVring[];
  subdev: RprocSubdev;
  /** True while a virtio device is registered (vdev subdevice started). */
  registered: boolean;
  /** The virtio device while one is registered with a driver bound (src/core/virtio-device.ts). */
  virtio?: RprocVirtioDevice;
}

/** struct rproc_dump_segment */
export interface DumpSegment {
  da: number;
  size: number;
  priv?: unknown;
  dump?: (rproc: Rproc, seg: DumpSegment, offset: number, size: number) => Uint8Array;
}

export interface RprocOptions {
  name: string;
  platform: Platform;
  processor: ProcessorDesc;
  ops: RprocOps;
  firmware?: string;
  searchPath?: string[];
  events?: EventLog;
  /** Directory relative firmware paths and search-path entries resolve against. */
  cwd?: string;
}

const usedIndexes = new Set<number>();

/** ida_alloc: lowest free remoteproc index. */
function allocIndex(): number {
  let i = 0;
  while (usedIndexes.has(i)) i++;
  usedIndexes.add(i);
  return i;
}

export class Rproc {
  readonly name: string;
  readonly index: number;
  readonly platform: Platform;
  readonly processor: ProcessorDesc;
  readonly ops: RprocOps;
  readonly events: EventLog;
  firmware: string;
  searchPath: string[];
  cwd: string;

  state: RprocState;
  power = 0;
  bootaddr = 0;
  recoveryDisabled = false;
  dumpConf: RprocDumpMechanism = RprocDumpMechanism.DISABLED;
  crashCnt = 0;
  features = new Set<number>();
  elfClass: 0 | 32 | 64 = 0;
  elfMachine = 0;

  carveouts: CarveoutEntry[] = [];
  mappings: { da: number; len: number }[] = [];
  traces: TraceEntry[] = [];
  rvdevs: RprocVdev[] = [];
  subdevs: RprocSubdev[] = [];
  dumpSegments: DumpSegment[] = [];
  /** idr notifyids: notify id → vring. */
  notifyIds = new Map<number, RprocVring>();
  maxNotifyId = -1;
  nbVdev = 0;
  numTraces = 0;
  /** rproc->domain: an IOMMU domain is attached between enable_iommu and disable_iommu. */
  iommuDomain = false;

  cachedTable: Uint8Array | null = null;
  tablePtr: MemView | Uint8Array | null = null;
  tableSz = 0;
  cleanTable: Uint8Array | null = null;

  /** Findings the kernel only logs (dev_warn), collected for reports. Cleared at each boot/attach. */
  diagnostics: Diagnostic[] = [];
  /** Driver data. */
  priv: unknown;
  readonly lock = new AsyncMutex();
  /** Fault injection: called at the begin of every forward step; throw to make that step fail. */
  injectFault?: (step: string) => void;

  constructor(opts: RprocOptions) {
    this.name = opts.name;
    this.index = allocIndex();
    this.platform = opts.platform;
    this.processor = opts.processor;
    this.ops = withDefaultOps(opts.ops);
    this.events = opts.events ?? new EventLog();
    // rproc_alloc: the default name is "rproc-%s-fw"; platforms name their firmware explicitly.
    this.firmware = opts.firmware ?? (opts.processor.firmware || `rproc-${opts.name}-fw`);
    this.searchPath = opts.searchPath ?? [...(opts.platform.dir ? [opts.platform.dir] : []), DEFAULT_FIRMWARE_DIR];
    this.cwd = opts.cwd ?? process.cwd();
    this.state = opts.processor.initiallyRunning ? RprocState.DETACHED : RprocState.OFFLINE;
    this.validate();
  }

  /** rproc_validate() as run by rproc_add(). */
  private validate(): void {
    if (this.state === RprocState.OFFLINE && !this.ops.start)
      throw new RprocError("EINVAL", `${this.name}: a processor booted by Linux needs ops.start`);
    if (this.state === RprocState.DETACHED && !this.ops.attach)
      throw new RprocError("EINVAL", `${this.name}: a processor started by an earlier boot stage needs ops.attach`);
  }

  /** Device name, as /sys/class/remoteproc shows it. */
  get devName(): string {
    return `remoteproc${this.index}`;
  }

  boot(opts: { signal?: AbortSignal } = {}): Promise<void> {
    return rprocBoot(this, opts.signal);
  }

  shutdown(opts: { signal?: AbortSignal } = {}): Promise<void> {
    return rprocShutdown(this, opts.signal);
  }

  detach(opts: { signal?: AbortSignal } = {}): Promise<void> {
    return rprocDetach(this, opts.signal);
  }

  /** rproc_set_firmware(): quirk — an interrupted lock returns EINVAL, not EINTR. */
  async setFirmware(name: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    let unlock: () => void;
    try {
      unlock = await this.lock.lock(opts.signal);
    } catch (e) {
      throw new RprocError("EINVAL", "can't lock rproc (interrupted)", { cause: e, step: "rproc_set_firmware" });
    }
    try {
      if (this.state !== RprocState.OFFLINE)
        throw new RprocError("EBUSY", "can't change firmware while running", { step: "rproc_set_firmware" });
      const cut = name.split("\n")[0]!;
      if (cut.length === 0) throw new RprocError("EINVAL", "empty firmware name", { step: "rproc_set_firmware" });
      this.firmware = cut;
    } finally {
      unlock();
    }
  }

  daToVa(da: number, len: number): MemView | undefined {
    return rprocDaToVa(this, da, len);
  }

  paToVa(pa: number, len: number): MemView | undefined {
    return rprocPaToVa(this, pa, len);
  }

  /** rproc_coredump_set_elf_info(): the only place elf class/machine are set (coredump.ts). */
  setElfInfo(cls: 32 | 64, machine: number): void {
    rprocCoredumpSetElfInfo(this, cls, machine);
  }

  /** rproc_report_crash(): queue the crash work; returns at once (crash.ts). */
  reportCrash(type: number): void {
    rprocReportCrash(this, type);
  }

  /** rproc_trigger_recovery(): the sysfs `recover` word for a processor left crashed (recovery.ts). */
  triggerRecovery(opts: { signal?: AbortSignal } = {}): Promise<void> {
    return rprocTriggerRecovery(this, opts.signal);
  }

  /** Coredumps kept for this processor, newest first (coredump-store.ts). */
  get dumps(): readonly RprocDump[] {
    return dumpsOf(this);
  }

  get lastDump(): RprocDump | undefined {
    return dumpsOf(this)[0];
  }

  /** debugfs traceN read. */
  traceText(index: number): string {
    return traceRead(this, index);
  }

  vqInterrupt(notifyid: number): boolean {
    return vqInterrupt(this, notifyid);
  }

  emit(step: string, phase: RprocEvent["phase"], args?: Record<string, unknown>, err?: unknown): void {
    const e: Omit<RprocEvent, "seq"> = { rproc: this.name, step, phase };
    if (args !== undefined) e.args = args;
    if (err !== undefined) {
      if (isRprocError(err)) e.errno = err.code;
      e.message = err instanceof Error ? err.message : String(err);
    }
    this.events.emit(e);
  }

  /** Resource bookkeeping event: the harness counts acquire/release per kind. */
  account(op: "acquire" | "release", kind: string, id: string | number): void {
    this.emit(op, "info", { kind, id });
  }

  /** A dev_warn the kernel logs: kept as a diagnostic and emitted as an info event. */
  warn(code: string, path: string, message: string): void {
    this.diagnostics.push({ severity: "warning", code, path, message });
    this.emit("warning", "info", { code, path, message });
  }
}
