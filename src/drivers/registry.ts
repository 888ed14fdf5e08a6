/**
 * The composition root: every driver a platform file may name, in one list,
 * and createRproc(), which builds an Rproc from a processor description and
 * its driver (rproc_alloc + the driver's probe + rproc_add).
 *
 *   sim       the simulated core over the platform glue (always loaded)
 *   emulated  the firmware's own instructions on Unicorn (imported on first use)
 *   tee       firmware handled by the OP-TEE remoteproc TA model (imported on first use)
 *
 * Lazily imported drivers are loaded with `await loadDriver(name)` (or
 * openRproc, which does it); createRproc is synchronous and names what to load
 * when asked for a driver not loaded yet. A library user adds a driver with
 * registerDriver: explicitly, never as a side effect of importing a module.
 */
import { RprocError } from "../errors.js";
import type { Platform } from "../platform/platform.js";
import type { DriverFactory } from "../core/ops.js";
import type { EventLog } from "../core/events.js";
import { requestFirmware, type Firmware } from "../core/firmware.js";
import { Rproc } from "../core/rproc.js";
import { createSimDriver, type SimDriverOptions } from "./sim/driver.js";

/** The built-in drivers: a loader each, imported only when a processor uses it. */
const BUILTIN: Record<string, () => Promise<DriverFactory>> = {
  sim: async () => simFactory,
  emulated: async () => (await import("./emulated/index.js")).emulatedDriverFactory,
  tee: async () => (await import("./tee/driver.js")).createTeeDriver,
};

const simFactory: DriverFactory = (ctx) => createSimDriver((ctx.options ?? {}) as SimDriverOptions);

const loaded = new Map<string, DriverFactory>([["sim", simFactory]]);

/** Add (or replace) a driver under `name`; the built-ins can be overridden this way too. */
export function registerDriver(name: string, factory: DriverFactory): void {
  loaded.set(name, factory);
}

/** Every driver name a processor may use: the built-ins and the registered ones. */
export function registeredDrivers(): string[] {
  return [...new Set([...Object.keys(BUILTIN), ...loaded.keys()])];
}

/** Load a driver (a built-in on first use); the factory is then available to createRproc. */
export async function loadDriver(name: string): Promise<DriverFactory> {
  const have = loaded.get(name);
  if (have) return have;
  const load = BUILTIN[name];
  if (!load) throw noDriver(name);
  const factory = await load();
  loaded.set(name, factory);
  return factory;
}

function noDriver(name: string, processor?: string): RprocError {
  return new RprocError("ENODEV", `no driver '${name}'${processor ? ` for processor ${processor}` : ""} (drivers: ${registeredDrivers().join(", ")})`, {
    field: "driver",
    value: name,
  });
}

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

/** rproc_alloc + probe + rproc_add for one processor of a platform, with a driver already loaded. */
export function createRproc(platform: Platform, processorName?: string, opts: CreateRprocOptions = {}): Rproc {
  const processor = platform.processor(processorName);
  const driverName = opts.driver ?? processor.driver ?? "sim";
  const factory = loaded.get(driverName);
  if (!factory) {
    if (BUILTIN[driverName])
      throw new RprocError("ENODEV", `driver '${driverName}' is loaded on first use: await loadDriver("${driverName}") before createRproc, or use openRproc`, {
        field: "driver",
        value: driverName,
      });
    throw noDriver(driverName, processor.name);
  }
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
  ops.probe?.(rproc);
  if (processor.initiallyRunning && ops.earlyBoot) {
    ops.earlyBoot(rproc, opts.earlyFirmware ?? requestFirmware(rproc.firmware, rproc.searchPath, rproc.cwd));
  }
  return rproc;
}

/** createRproc after loading the processor's driver (the built-ins on first use). */
export async function openRproc(platform: Platform, processorName?: string, opts: CreateRprocOptions = {}): Promise<Rproc> {
  await loadDriver(opts.driver ?? platform.processor(processorName).driver ?? "sim");
  return createRproc(platform, processorName, opts);
}
