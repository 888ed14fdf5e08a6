/**
 * The lifecycle sequences of remoteproc_core.c (spec §5): rproc_boot,
 * rproc_fw_boot, rproc_start, rproc_stop, rproc_shutdown, rproc_attach,
 * __rproc_attach, rproc_detach, __rproc_detach. Step and undo names are the
 * kernel's; the unwind order is the kernel's label order, commented where it
 * is not a plain reverse.
 */
import { RprocError } from "../errors.js";
import { requestFirmware, type Firmware } from "./firmware.js";
import type { Rproc, RprocSubdev } from "./rproc.js";
import { RprocState, stateString } from "./state.js";
import { runStep, runSteps, runUndo, toRprocError } from "./steps.js";
import { allocRegisteredCarveouts, handleResources, rprocResourceCleanup } from "./resources.js";
import { tableCopy, tableLength, tableRead } from "./table.js";

// ---------------------------------------------------------------- helpers

async function lockRproc(rproc: Rproc, step: string, signal?: AbortSignal): Promise<() => void> {
  try {
    return await rproc.lock.lock(signal);
  } catch (e) {
    const err = toRprocError(e, step);
    rproc.emit(step, "fail", undefined, err);
    throw err;
  }
}

/** rproc_enable_iommu: a no-op unless the processor sits behind an IOMMU. */
function enableIommu(rproc: Rproc): void {
  if (!rproc.processor.hasIommu) return;
  rproc.iommuDomain = true;
  rproc.account("acquire", "iommu_domain", rproc.name);
}

function disableIommu(rproc: Rproc): void {
  if (!rproc.iommuDomain) return;
  rproc.iommuDomain = false;
  rproc.account("release", "iommu_domain", rproc.name);
}

function freeCachedTable(rproc: Rproc): void {
  if (rproc.cachedTable) rproc.account("release", "cached_table", rproc.name);
  rproc.cachedTable = null;
  rproc.tablePtr = null;
}

function freeCleanTable(rproc: Rproc): void {
  if (rproc.cleanTable) rproc.account("release", "clean_table", rproc.name);
  rproc.cleanTable = null;
}

/** rproc_release_fw() (TEE series): a no-op when the driver has no releaseFw. */
export async function rprocReleaseFw(rproc: Rproc): Promise<void> {
  const op = rproc.ops.releaseFw;
  if (!op) return;
  await runUndo(rproc, "release_fw", () => op(rproc));
}

/** `run` on each subdevice in list order; when one fails, `unroll` those already done, in reverse (list_for_each_entry_continue_reverse). */
async function subdevsInOrder(rproc: Rproc, run: (sd: RprocSubdev) => unknown, unroll: (sd: RprocSubdev) => unknown): Promise<void> {
  const done: RprocSubdev[] = [];
  for (const sd of rproc.subdevs) {
    try {
      await run(sd);
    } catch (e) {
      for (const d of done.reverse()) await unroll(d);
      throw e;
    }
    done.push(sd);
  }
}

async function subdevsInReverse(rproc: Rproc, fn: (sd: RprocSubdev) => unknown): Promise<void> {
  for (const sd of [...rproc.subdevs].reverse()) await fn(sd);
}

const prepareSubdevices = (rproc: Rproc): Promise<void> =>
  subdevsInOrder(rproc, (sd) => sd.prepare?.(), (sd) => sd.unprepare?.());

/** rproc_start_subdevices: on failure the started ones are stopped as crashed, in reverse. */
const startSubdevices = (rproc: Rproc): Promise<void> =>
  subdevsInOrder(rproc, (sd) => sd.start?.(), (sd) => sd.stop?.(true));

const stopSubdevices = (rproc: Rproc, crashed: boolean): Promise<void> => subdevsInReverse(rproc, (sd) => sd.stop?.(crashed));

const unprepareSubdevices = (rproc: Rproc): Promise<void> => subdevsInReverse(rproc, (sd) => sd.unprepare?.());

/** rproc_fw_boot and rproc_attach both reset the vdev and notify-id counters just before rproc_handle_resources. */
function handleResourcesAfresh(rproc: Rproc): Promise<void> {
  rproc.maxNotifyId = -1;
  rproc.nbVdev = 0;
  return handleResources(rproc);
}

// ---------------------------------------------------------------- boot

/** rproc_boot(): refcounted; attach when DETACHED, else request the firmware and rproc_fw_boot. */
export async function rprocBoot(rproc: Rproc, signal?: AbortSignal): Promise<void> {
  const unlock = await lockRproc(rproc, "rproc_boot", signal);
  rproc.emit("rproc_boot", "begin", { state: stateString(rproc.state), power: rproc.power });
  try {
    rproc.injectFault?.("rproc_boot");
    if (rproc.state === RprocState.DELETED) throw new RprocError("ENODEV", `can't boot deleted rproc ${rproc.name}`, { step: "rproc_boot" });
    // Like the kernel, a later user only counts — whatever the state (a CRASHED rproc included).
    if (++rproc.power > 1) {
      rproc.emit("rproc_boot", "end", { power: rproc.power, skipped: true });
      return;
    }
    rproc.diagnostics = [];
    try {
      if (rproc.state === RprocState.DETACHED) {
        await rprocAttach(rproc);
      } else {
        const fw = await runStep(rproc, "request_firmware", () => requestFirmware(rproc.firmware, rproc.searchPath, rproc.cwd), {
          name: rproc.firmware,
        });
        try {
          await rprocFwBoot(rproc, fw);
        } catch (e) {
          // TEE series: the driver releases what parse_fw/load set up; the firmware is still held here.
          await rprocReleaseFw(rproc);
          throw e;
        } finally {
          rproc.emit("release_firmware", "info", { name: fw.name });
        }
      }
    } catch (e) {
      rproc.power--;
      throw e;
    }
    rproc.emit("rproc_boot", "end", { state: stateString(rproc.state), power: rproc.power });
  } catch (e) {
    const err = toRprocError(e, "rproc_boot");
    rproc.emit("rproc_boot", "fail", { state: stateString(rproc.state), power: rproc.power }, err);
    throw err;
  } finally {
    unlock();
  }
}

/**
 * rproc_fw_boot(). Kernel order: sanity_check runs first, before the IOMMU
 * and prepare. Labels: clean_up_resources (resource cleanup, free the cached
 * table) → unprepare_rproc → disable_iommu; parse_fw failure enters at
 * unprepare_rproc, which the step list reproduces.
 */
async function rprocFwBoot(rproc: Rproc, fw: Firmware): Promise<void> {
  const ops = rproc.ops;
  await runSteps(rproc, [
    { name: "sanity_check", run: () => ops.sanityCheck?.(rproc, fw), args: { size: fw.data.byteLength } },
    { name: "enable_iommu", run: () => enableIommu(rproc), undo: () => disableIommu(rproc), undoName: "disable_iommu" },
    { name: "prepare", run: () => ops.prepare?.(rproc), undo: () => ops.unprepare?.(rproc), undoName: "unprepare" },
    {
      name: "get_boot_addr",
      run: () => {
        rproc.bootaddr = ops.getBootAddr ? ops.getBootAddr(rproc, fw) : 0;
      },
    },
    {
      name: "parse_fw",
      run: async () => {
        await ops.parseFw?.(rproc, fw);
        if (rproc.cachedTable) rproc.account("acquire", "cached_table", rproc.name);
      },
      undo: () => freeCachedTable(rproc),
      undoName: "free_cached_table",
    },
    {
      name: "handle_resources",
      run: () => handleResourcesAfresh(rproc),
      // clean_up_resources is reached when rproc_handle_resources itself fails: its partial work is undone.
      undoOnFailure: true,
      undo: () => rprocResourceCleanup(rproc),
      undoName: "resource_cleanup",
    },
    { name: "alloc_registered_carveouts", run: () => allocRegisteredCarveouts(rproc) },
    { name: "rproc_start", run: () => rprocStart(rproc, fw, { nested: true }) },
  ]);
}

/**
 * rproc_start(): load, install the loaded table, prepare subdevices, start,
 * start subdevices. Labels: stop_rproc → unprepare_subdevices →
 * reset_table_ptr. Exported for recovery (lock held by the caller).
 */
export async function rprocStart(rproc: Rproc, fw: Firmware, opts: { nested?: boolean } = {}): Promise<void> {
  const ops = rproc.ops;
  const steps = async (): Promise<void> => {
    await runSteps(rproc, [
      {
        name: "load",
        run: () => {
          if (!ops.load) throw new RprocError("EINVAL", "no load op (rproc_load_segments)");
          return ops.load(rproc, fw);
        },
      },
      {
        name: "find_loaded_rsc_table",
        run: async () => {
          const loaded = ops.findLoadedRscTable ? await ops.findLoadedRscTable(rproc, fw) : undefined;
          if (!loaded) return;
          // memcpy(loaded_table, cached_table, table_sz)
          if (rproc.cachedTable && rproc.tableSz > 0) tableCopy(loaded, rproc.cachedTable, Math.min(rproc.tableSz, tableLength(rproc.cachedTable)));
          rproc.tablePtr = loaded;
          rproc.emit("find_loaded_rsc_table", "info", { pa: loaded.pa, len: loaded.len });
        },
        undo: () => {
          rproc.tablePtr = rproc.cachedTable;
        },
        undoName: "reset_table_ptr",
      },
      { name: "prepare_subdevices", run: () => prepareSubdevices(rproc), undo: () => unprepareSubdevices(rproc), undoName: "unprepare_subdevices" },
      {
        name: "start",
        run: () => {
          if (!ops.start) throw new RprocError("EINVAL", "no start op");
          return ops.start(rproc);
        },
        undo: () => ops.stop?.(rproc),
        undoName: "stop",
      },
      { name: "start_subdevices", run: () => startSubdevices(rproc) },
    ]);
    rproc.state = RprocState.RUNNING;
    rproc.emit("running", "info", { bootaddr: rproc.bootaddr });
  };
  // Nested inside rproc_fw_boot the runner already emits rproc_start begin/end.
  if (opts.nested) return steps();
  return runStep(rproc, "rproc_start", steps);
}

// ---------------------------------------------------------------- stop / shutdown

/** rproc_stop(): subdevices (reverse), table back to the cached copy, ops.stop, unprepare subdevices. */
export async function rprocStop(rproc: Rproc, crashed: boolean): Promise<void> {
  await runStep(
    rproc,
    "rproc_stop",
    async () => {
      const ops = rproc.ops;
      if (!ops.stop) throw new RprocError("EINVAL", `${rproc.name} has no stop op`);
      await runStep(rproc, "stop_subdevices", () => stopSubdevices(rproc, crashed), { crashed });
      await runStep(rproc, "reset_rsc_table_on_stop", () => resetRscTableOnStop(rproc));
      await runStep(rproc, "stop", () => ops.stop!(rproc));
      await runStep(rproc, "unprepare_subdevices", () => unprepareSubdevices(rproc));
      rproc.state = RprocState.OFFLINE;
    },
    { crashed },
  );
}

/** rproc_reset_rsc_table_on_stop(): an attached processor gets a cached copy made from the live table now. */
function resetRscTableOnStop(rproc: Rproc): void {
  if (!rproc.tablePtr) return;
  if (!rproc.cachedTable) {
    rproc.cachedTable = tableRead(rproc.tablePtr, 0, rproc.tableSz, "resourceTable (live copy)");
    rproc.account("acquire", "cached_table", rproc.name);
    freeCleanTable(rproc);
  }
  rproc.tablePtr = rproc.cachedTable;
}

/** rproc_shutdown(): only the last user stops. */
export async function rprocShutdown(rproc: Rproc, signal?: AbortSignal): Promise<void> {
  const unlock = await lockRproc(rproc, "rproc_shutdown", signal);
  rproc.emit("rproc_shutdown", "begin", { state: stateString(rproc.state), power: rproc.power });
  try {
    rproc.injectFault?.("rproc_shutdown");
    if (rproc.state !== RprocState.RUNNING && rproc.state !== RprocState.ATTACHED)
      throw new RprocError("EINVAL", `can't shut down ${rproc.name}: state is ${stateString(rproc.state)} (needs running or attached)`, {
        step: "rproc_shutdown",
      });
    // atomic_dec_and_test: only reaching exactly 0 stops. A processor recovered from DETACHED
    // runs with power 0 (crash work → boot recovery never counts a user): 0 → -1 keeps it running.
    if (--rproc.power !== 0) {
      rproc.emit("rproc_shutdown", "end", { power: rproc.power, skipped: true });
      return;
    }
    try {
      await rprocStop(rproc, false);
    } catch (e) {
      rproc.power++;
      throw e;
    }
    await runUndo(rproc, "resource_cleanup", () => rprocResourceCleanup(rproc));
    await runUndo(rproc, "unprepare", () => rproc.ops.unprepare?.(rproc));
    await runUndo(rproc, "disable_iommu", () => disableIommu(rproc));
    await rprocReleaseFw(rproc);
    await runUndo(rproc, "free_cached_table", () => freeCachedTable(rproc));
    rproc.tableSz = 0; // the 2025 fix (efdde3d73ab2): no stale size for a next firmware without a table
    rproc.emit("rproc_shutdown", "end", { state: stateString(rproc.state), power: rproc.power });
  } catch (e) {
    const err = toRprocError(e, "rproc_shutdown");
    rproc.emit("rproc_shutdown", "fail", { state: stateString(rproc.state), power: rproc.power }, err);
    throw err;
  } finally {
    unlock();
  }
}

// ---------------------------------------------------------------- attach / detach

/**
 * rproc_attach() (DETACHED → ATTACHED). Written out rather than as a step
 * list because its label order is not a plain reverse: clean_up_resources
 * runs resource cleanup, *then* unprepare, *then* frees clean_table (taken
 * after prepare), then disable_iommu.
 */
async function rprocAttach(rproc: Rproc): Promise<void> {
  const ops = rproc.ops;
  await runStep(rproc, "enable_iommu", () => enableIommu(rproc));
  try {
    await runStep(rproc, "prepare", () => ops.prepare?.(rproc));
  } catch (e) {
    await runUndo(rproc, "disable_iommu", () => disableIommu(rproc));
    throw e;
  }
  try {
    await runStep(rproc, "set_rsc_table", () => setRscTable(rproc));
    await runStep(rproc, "handle_resources", () => handleResourcesAfresh(rproc));
    await runStep(rproc, "alloc_registered_carveouts", () => allocRegisteredCarveouts(rproc));
    await runStep(rproc, "__rproc_attach", () => rprocAttachInner(rproc));
  } catch (e) {
    await runUndo(rproc, "resource_cleanup", () => rprocResourceCleanup(rproc));
    await runUndo(rproc, "unprepare", () => ops.unprepare?.(rproc));
    await runUndo(rproc, "free_clean_table", () => freeCleanTable(rproc));
    await runUndo(rproc, "disable_iommu", () => disableIommu(rproc));
    throw e;
  }
}

/** rproc_set_rsc_table(): the table the earlier boot stage installed; a pristine copy when detach is possible. */
async function setRscTable(rproc: Rproc): Promise<void> {
  const r = rproc.ops.getLoadedRscTable ? await rproc.ops.getLoadedRscTable(rproc) : undefined;
  if (!r) return; // no table is acceptable
  if (rproc.ops.detach) {
    rproc.cleanTable = tableRead(r.table, 0, r.size, "resourceTable (clean copy)");
    rproc.account("acquire", "clean_table", rproc.name);
  } else rproc.cleanTable = null;
  rproc.cachedTable = null;
  rproc.tablePtr = r.table;
  rproc.tableSz = r.size;
}

/** __rproc_attach(): subdevices around ops.attach; a start-subdevices failure calls ops.stop (kernel). */
export async function rprocAttachInner(rproc: Rproc): Promise<void> {
  const ops = rproc.ops;
  await runStep(rproc, "prepare_subdevices", () => prepareSubdevices(rproc));
  try {
    await runStep(rproc, "attach", () => ops.attach?.(rproc));
  } catch (e) {
    await runUndo(rproc, "unprepare_subdevices", () => unprepareSubdevices(rproc));
    throw e;
  }
  try {
    await runStep(rproc, "start_subdevices", () => startSubdevices(rproc));
  } catch (e) {
    await runUndo(rproc, "stop", () => ops.stop?.(rproc));
    await runUndo(rproc, "unprepare_subdevices", () => unprepareSubdevices(rproc));
    throw e;
  }
  rproc.state = RprocState.ATTACHED;
  rproc.emit("attached", "info");
}

/** rproc_detach(): only the last user detaches. */
export async function rprocDetach(rproc: Rproc, signal?: AbortSignal): Promise<void> {
  const unlock = await lockRproc(rproc, "rproc_detach", signal);
  rproc.emit("rproc_detach", "begin", { state: stateString(rproc.state), power: rproc.power });
  try {
    rproc.injectFault?.("rproc_detach");
    if (rproc.state !== RprocState.ATTACHED)
      throw new RprocError("EINVAL", `can't detach ${rproc.name}: state is ${stateString(rproc.state)} (needs attached)`, { step: "rproc_detach" });
    if (--rproc.power !== 0) {
      // atomic_dec_and_test, as rproc_shutdown (attach recovery from DETACHED leaves power 0)
      rproc.emit("rproc_detach", "end", { power: rproc.power, skipped: true });
      return;
    }
    try {
      await runStep(rproc, "__rproc_detach", () => rprocDetachInner(rproc));
    } catch (e) {
      rproc.power++;
      throw e;
    }
    await runUndo(rproc, "resource_cleanup", () => rprocResourceCleanup(rproc));
    await runUndo(rproc, "unprepare", () => rproc.ops.unprepare?.(rproc));
    await runUndo(rproc, "disable_iommu", () => disableIommu(rproc));
    await runUndo(rproc, "free_cached_table", () => freeCachedTable(rproc));
    rproc.emit("rproc_detach", "end", { state: stateString(rproc.state), power: rproc.power });
  } catch (e) {
    const err = toRprocError(e, "rproc_detach");
    rproc.emit("rproc_detach", "fail", { state: stateString(rproc.state), power: rproc.power }, err);
    throw err;
  } finally {
    unlock();
  }
}

/** __rproc_detach(): stop subdevices, give the device back its pristine table, ops.detach. */
export async function rprocDetachInner(rproc: Rproc): Promise<void> {
  const ops = rproc.ops;
  if (!ops.detach) throw new RprocError("EINVAL", `${rproc.name} has no detach op`);
  await runStep(rproc, "stop_subdevices", () => stopSubdevices(rproc, false), { crashed: false });
  await runStep(rproc, "reset_rsc_table_on_detach", () => resetRscTableOnDetach(rproc));
  await runStep(rproc, "detach", () => ops.detach!(rproc));
  await runStep(rproc, "unprepare_subdevices", () => unprepareSubdevices(rproc));
  rproc.state = RprocState.DETACHED;
}

function resetRscTableOnDetach(rproc: Rproc): void {
  if (!rproc.tablePtr) return;
  if (!rproc.cleanTable) throw new RprocError("EINVAL", "no clean resource table to restore on detach");
  const device = rproc.tablePtr;
  rproc.cachedTable = tableRead(device, 0, rproc.tableSz, "resourceTable (live copy)");
  rproc.account("acquire", "cached_table", rproc.name);
  rproc.tablePtr = rproc.cachedTable;
  tableCopy(device, rproc.cleanTable, rproc.tableSz);
  freeCleanTable(rproc);
}
