/**
 * bootReport(): the dry run behind `rproc boot` — create the processor,
 * boot it, record where everything landed, shut it down. The CLI only
 * renders what this returns.
 */
import type { Diagnostic } from "../diagnostics.js";
import { hex, isRprocError } from "../errors.js";
import { VDEV_OFF, VRING_OFF, VRING_SIZE } from "../formats/resource-table.js";
import { Platform } from "../platform/platform.js";
import { carveoutPa, rprocFindCarveoutByName } from "../core/carveout.js";
import { openRproc } from "../drivers/registry.js";
import { recordEvents, type RprocEvent } from "../core/events.js";
import type { Rproc } from "../core/rproc.js";
import { RprocState, stateString } from "../core/state.js";
import { tableU32 } from "../core/table.js";

export interface BootReportOptions {
  /** Bundled platform name or path to a platform JSON file, or a loaded Platform. */
  platform: string | Platform;
  processor?: string;
  /** Firmware name (looked up on the search path) or an explicit path. */
  firmware?: string;
  searchPath?: string[];
  cwd?: string;
  driverOptions?: unknown;
  /** Override the processor's driver (e.g. "tee" for a signed image). */
  driver?: string;
  /** Let the processor run this long after boot before the snapshot (an emulated core executes its firmware meanwhile). Default: 200 for the emulated driver, else 0. */
  runMs?: number;
}

export interface BootReport {
  platform: string;
  processor: string;
  firmware: string;
  state: string;
  bootAddress: number | null;
  segments: { index: number; da: number; pa: number; filesz: number; memsz: number; region: string | null }[];
  carveouts: { name: string; da: number; pa: number | null; len: number; allocated: boolean }[];
  traces: { name: string; da: number; len: number; text: string }[];
  vdevs: { id: number; notifyid: number; status: number; vrings: { da: number; pa: number | null; num: number; align: number; notifyid: number }[] }[];
  diagnostics: Diagnostic[];
  events: RprocEvent[];
  error: null | { code: string; step: string | null; message: string; field?: string; teeError?: string };
  /** State after the dry run's shutdown. */
  finalState: string;
}

function snapshot(rproc: Rproc, report: BootReport): void {
  report.carveouts = rproc.carveouts.map((c) => ({
    name: c.name,
    da: c.da,
    pa: carveoutPa(c) ?? c.pa ?? (c.dma || null),
    len: c.len,
    allocated: c.allocated === true,
  }));
  report.traces = rproc.traces.map((t, i) => ({ name: t.name, da: t.da, len: t.len, text: rproc.traceText(i) }));
  const table = rproc.tablePtr;
  report.vdevs = rproc.rvdevs.map((v) => {
    const at = (off: number): number => (table ? tableU32(table, off) : 0);
    return {
      id: v.id,
      notifyid: at(v.rscOffset + VDEV_OFF.notifyid),
      status: at(v.rscOffset + VDEV_OFF.status) & 0xff,
      vrings: v.vrings.map((r) => {
        const base = v.rscOffset + VDEV_OFF.vrings + VRING_SIZE * r.index;
        const mem = rprocFindCarveoutByName(rproc, `vdev${v.index}vring${r.index}`);
        const published = at(base + VRING_OFF.da);
        // The table gets the vring da only when a virtio driver creates the queue (spec §9.1); for a
        // device no driver binds it keeps the firmware's value (ADDR_ANY), but the vring is allocated.
        if (mem && published !== (mem.da >>> 0))
          report.diagnostics.push({
            severity: "info",
            code: "vring-da-unpublished",
            path: `vdevs[${v.index}].vrings[${r.index}].da`,
            message: `vdev${v.index} (virtio id ${v.id}) vring${r.index} is allocated at da ${hex(mem.da)}, but no virtio driver bound the device, so the table still holds ${hex(published)} (the kernel writes the vring da in find_vqs)`,
          });
        return {
          da: mem ? mem.da : published,
          pa: (mem && carveoutPa(mem)) ?? null,
          num: r.num,
          align: r.align,
          notifyid: r.notifyid,
        };
      }),
    };
  });
}

export async function bootReport(opts: BootReportOptions): Promise<BootReport> {
  const platform = typeof opts.platform === "string" ? Platform.load(opts.platform) : opts.platform;
  const rproc = await openRproc(platform, opts.processor, {
    ...(opts.firmware !== undefined ? { firmware: opts.firmware } : {}),
    ...(opts.searchPath !== undefined ? { searchPath: opts.searchPath } : {}),
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    driverOptions: opts.driverOptions,
    ...(opts.driver !== undefined ? { driver: opts.driver } : {}),
  });
  const rec = recordEvents(rproc.events);
  const report: BootReport = {
    platform: platform.desc.name,
    processor: rproc.processor.name,
    firmware: rproc.firmware,
    state: stateString(rproc.state),
    bootAddress: null,
    segments: [],
    carveouts: [],
    traces: [],
    vdevs: [],
    diagnostics: [],
    events: rec.events,
    error: null,
    finalState: stateString(rproc.state),
  };
  try {
    await rproc.boot();
    const runMs = opts.runMs ?? ((opts.driver ?? rproc.processor.driver) === "emulated" ? 200 : 0);
    if (runMs > 0) await new Promise((r) => setTimeout(r, runMs));
    report.bootAddress = rproc.bootaddr;
    snapshot(rproc, report);
  } catch (e) {
    const err = isRprocError(e) ? e : undefined;
    report.error = {
      code: err?.code ?? "EIO",
      step: err?.step ?? null,
      message: e instanceof Error ? e.message : String(e),
      ...(err?.field !== undefined ? { field: err.field } : {}),
      ...(err?.teeError !== undefined ? { teeError: err.teeError } : {}),
    };
  }
  report.state = stateString(rproc.state);
  report.diagnostics = [...rproc.diagnostics, ...report.diagnostics];
  for (const e of rec.events)
    if (e.step === "load_segment" && e.args) report.segments.push(e.args as unknown as BootReport["segments"][number]);
  if (rproc.state === RprocState.RUNNING || rproc.state === RprocState.ATTACHED) {
    try {
      await rproc.shutdown();
    } catch (e) {
      report.diagnostics.push({ severity: "error", code: "shutdown-failed", path: "rproc", message: e instanceof Error ? e.message : String(e) });
    }
  }
  report.finalState = stateString(rproc.state);
  rec.stop();
  return report;
}
