/**
 * The emulated-core driver, "emulated" in the composition root
 * (../registry.ts: a processor's `driver` in the platform file, or
 * createRproc's `driver` override).
 * Platform behaviour — carveouts from memory-regions, address translation,
 * coredump segments, the ELF loader — is the simulated driver's; only the
 * CPU is real. Importing this module loads neither koffi nor Unicorn.
 */
import { createSimDriver } from "../sim/driver.js";
import { emulatedOps, type EmulatedDriverOptions } from "./driver.js";
import type { DriverFactory, DriverOps } from "../../core/ops.js";

/** The emulated driver's ops: the simulated driver's platform behaviour (the platform glue) under an emulated CPU. */
export function createEmulatedDriver(options: EmulatedDriverOptions = {}): DriverOps {
  return emulatedOps(createSimDriver({ behaviour: { name: "emulated" } }), options);
}

/** The factory the composition root (../registry.ts) loads on first use of "emulated". */
export const emulatedDriverFactory: DriverFactory = (ctx) => createEmulatedDriver((ctx.options ?? {}) as EmulatedDriverOptions);

export { emulatedOps, lastCrash, lastCrashRegisters, emulatedMachine, crashTypeOf, DEFAULT_SLICE_INSNS, DEFAULT_SLICE_MS, DEFAULT_INSNS_PER_MS } from "./driver.js";
export type { EmulatedDriverOptions } from "./driver.js";
export type { CoreFault, FaultKind } from "./machine.js";
export { SliceScheduler, defaultScheduler } from "./scheduler.js";
export { loadUnicorn, unicornAvailable, UNICORN_PACKAGE } from "./unicorn.js";
export { COMMAND_WORD, FIXTURE_FAULTS, commandWordAddress, injectFixtureFault, isFixtureFault, waitForCrash } from "./fault-command.js";
export type { FixtureFault } from "./fault-command.js";
export { SliceBudget, MIN_SLICE_INSNS, FIRST_SLICE_INSNS } from "./slice-budget.js";
