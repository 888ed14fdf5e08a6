/**
 * Driver registry and createRproc(): the processor description names its
 * driver ("sim", "tee", "emulated", ...); other layers register theirs with
 * registerDriver() without touching the core. The sim driver is built in
 * (imported here as the one default a platform file may rely on).
 */
import { RprocError } from "../errors.js";
import type { Platform } from "../platform/platform.js";
import type { ProcessorDesc } from "../platform/types.js";
import { createSimDriver, type SimDriverOptions } from "../drivers/sim/driver.js";
import type { EventLog } from "./events.js";
import { requestFirmware, type Firmware } from "./firmware.js";
import type { RprocOps } from "./ops.js";
import { Rproc } from "./rproc.js";

export interface DriverContext {
  platform: Platform;
  processor: ProcessorDesc;
  /** Driver-specific options passed through createRproc (e.g. a sim behaviour). */
  options: unknown;
}

export type DriverFactory = (ctx: DriverContext) => RprocOps;

const drivers = new Map<string, DriverFactory>();

export function registerDriver(name: string, factory: DriverFactory): void {
  drivers.set(name, factory);
}

export function registeredDrivers(): string[] {
  return [...drivers.keys()];
}

registerDriver("sim", (ctx) => createSimDriver((ctx.options ?? {}) as SimDriverOptions));

export interface CreateRprocOptions {
  firmware?: string;
  searchPath?: string[];
  events?: EventLog;
  cwd?: string;
  /** Override the processor's driver name. */
  driver?: string;
  driverOptions?: unknown;
  /** Firmware the earlier boot stage started (initiallyRunning processors); default: the processor's firmware. */
  earlyFirmware?: Firmware;
}

/** rproc_alloc + rproc_add for one processor of a platform. */
export function createRproc(platform: Platform, processorName?: string, opts: CreateRprocOptions = {}): Rproc {
  const processor = platform.processor(processorName);
  const driverName = opts.driver ?? processor.driver ?? "sim";
  const factory = drivers.get(driverName);
  if (!factory)
    throw new RprocError("ENODEV", `no driver '${driverName}' for processor ${processor.name} (registered: ${registeredDrivers().join(", ")})`, {
      field: "driver",
      value: driverName,
    });
  const ops = factory({ platform, processor, options: opts.driverOptions });
  const rproc = new Rproc({
    name: processor.name,
    platform,
    processor,
    ops,
    ...(opts.firmware !== undefined ? { firmware: opts.firmware } : {}),
    ...(opts.searchPath !== undefined ? { searchPath: opts.searchPath } : {}),
    ...(opts.events !== undefined ? { events: opts.events } : {}),
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
  });
  const early = (rproc.ops as { earlyBoot?: (r: Rproc, fw: Firmware) => void }).earlyBoot;
  if (processor.initiallyRunning && early) {
    early(rproc, opts.earlyFirmware ?? requestFirmware(rproc.firmware, rproc.searchPath, rproc.cwd));
  }
  return rproc;
}
