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
import { requestFirmware } from "../core/firmware.js";
import { parseElf } from "../formats/elf.js";

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
  vdevs: {
    id: number;
    notifyid: number;
    status: number;
    vrings: { da: number; pa: number | null; num: number; align: number; notifyid: number; layout: VringLayout }[];
    /** rpmsg (virtio id 7) with a vdev%dbuffer carveout: where virtio_rpmsg_bus puts its RX and TX buffers. */
    buffers?: RpmsgBuffers;
  }[];
  /** The resource table: table_sz, and where the loaded copy lives (null while only the cached copy exists). */
  resourceTable?: { size: number; da: number | null; pa: number | null } | null;
  /** devmem mappings (rproc->mappings). */
  devmem?: { da: number; len: number }[];
  diagnostics: Diagnostic[];
  events: RprocEvent[];
  error: null | {
    code: string;
    step: string | null;
    message: string;
    field?: string;
    teeError?: string;
    /** The PT_LOAD segment the loader refused, when the error names one (programHeaders[N].…). */
    segment?: { index: number; da: number; filesz: number; memsz: number };
  };
  /** State after the dry run's shutdown. */
  finalState: string;
  /** Crashes while the processor ran (rproc_report_crash). Two or more: it crashed again after a recovery — a crash loop. */
  crashes?: { count: number; loop: boolean; first: null | { type: number; fault: Record<string, unknown> | null } };
  /** What the firmware wrote to its console UART (emulated cores), "" when nothing. */
  console?: string;
}

/** Offsets of a split virtqueue's three parts (vring_init / vring_size, include/uapi/linux/virtio_ring.h). */
export interface VringLayout {
  desc: number;
  avail: number;
  used: number;
  size: number;
}

export function vringLayout(num: number, align: number): VringLayout {
  const avail = 16 * num;
  const availEnd = avail + 2 * (3 + num);
  const a = align > 0 ? align : 1;
  const used = Math.ceil(availEnd / a) * a;
  return { desc: 0, avail, used, size: used + 2 * 3 + 8 * num };
}

/** virtio_rpmsg_bus.c rpmsg_probe: num_bufs = 2 x the RX vring size (at most 512), 512-byte buffers, RX first, TX second half. */
export interface RpmsgBuffers {
  name: string;
  da: number;
  pa: number | null;
  len: number;
  bufSize: number;
  numBufs: number;
  rx: { da: number; len: number };
  tx: { da: number; len: number };
}

const MAX_RPMSG_NUM_BUFS = 512;
const MAX_RPMSG_BUF_SIZE = 512;

function rpmsgBuffers(rproc: Rproc, vdevIndex: number, rxNum: number): RpmsgBuffers | undefined {
  const mem = rprocFindCarveoutByName(rproc, `vdev${vdevIndex}buffer`);
  if (!mem) return undefined;
  const numBufs = Math.min(rxNum * 2, MAX_RPMSG_NUM_BUFS);
  const half = (numBufs * MAX_RPMSG_BUF_SIZE) / 2;
  return {
    name: mem.name,
    da: mem.da,
    pa: carveoutPa(mem) ?? mem.pa ?? (mem.dma || null),
    len: mem.len,
    bufSize: MAX_RPMSG_BUF_SIZE,
    numBufs,
    rx: { da: mem.da, len: half },
    tx: { da: mem.da + half, len: half },
  };
}

/** The device address of a host physical address through the processor's translations (rproc_pa_to_da's direction). */
function paToDa(rproc: Rproc, pa: number): number | null {
  for (const t of rproc.processor.translations) if (pa >= t.pa && pa < t.pa + t.size) return t.da + (pa - t.pa);
  return null;
}

/** The refused PT_LOAD segment, read back from the firmware, when the loader's error names one. */
function failedSegment(rproc: Rproc, field: string | undefined): NonNullable<BootReport["error"]>["segment"] {
  const m = field ? /^programHeaders\[(\d+)\]/.exec(field) : null;
  if (!m) return undefined;
  try {
    const ph = parseElf(requestFirmware(rproc.firmware, rproc.searchPath, rproc.cwd).data).programHeaders[Number(m[1])];
    if (!ph || typeof ph.paddr !== "number") return undefined;
    return { index: ph.index, da: ph.paddr, filesz: ph.filesz, memsz: ph.memsz };
  } catch {
    return undefined;
  }
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
          layout: vringLayout(r.num, r.align),
        };
      }),
      ...(v.id === 7 && v.vrings[0] ? { buffers: rpmsgBuffers(rproc, v.index, v.vrings[0].num) } : {}),
    };
  });
  const loaded = table && !(table instanceof Uint8Array) ? table : null;
  report.resourceTable = rproc.tableSz > 0 ? { size: rproc.tableSz, pa: loaded ? loaded.pa : null, da: loaded ? paToDa(rproc, loaded.pa) : null } : null;
  report.devmem = rproc.mappings.map((m) => ({ da: m.da, len: m.len }));
}

/**
 * The report of a processor as it is now (no boot, no shutdown): what `rproc serve` pushes to the
 * page after every change, the same shape `rproc boot --json` prints.
 */
export function liveReport(rproc: Rproc, events: RprocEvent[]): BootReport {
  const report: BootReport = {
    platform: rproc.platform.desc.name,
    processor: rproc.processor.name,
    firmware: rproc.firmware,
    state: stateString(rproc.state),
    bootAddress: rproc.state === RprocState.RUNNING || rproc.state === RprocState.ATTACHED ? rproc.bootaddr : null,
    segments: [],
    carveouts: [],
    traces: [],
    vdevs: [],
    diagnostics: [],
    events,
    error: null,
    finalState: stateString(rproc.state),
  };
  snapshot(rproc, report);
  report.diagnostics = [...rproc.diagnostics, ...report.diagnostics];
  // The segments of the last load, as the loader announced them.
  let from = 0;
  for (let i = events.length - 1; i >= 0; i--)
    if (events[i]!.step === "load" && events[i]!.phase === "begin") {
      from = i;
      break;
    }
  for (const e of events.slice(from)) if (e.step === "load_segment" && e.args) report.segments.push(e.args as unknown as BootReport["segments"][number]);
  return report;
}

/**
 * Segments of the first load only (a recovery reloads the same image); the
 * crashes of the run, with the first fault the driver described; the console.
 */
function summariseRun(report: BootReport, events: RprocEvent[]): void {
  const crashes: NonNullable<BootReport["crashes"]> = (report.crashes = { count: 0, loop: false, first: null });
  report.console = "";
  const seen = new Set<number>();
  let firstFault: Record<string, unknown> | null = null;
  for (const e of events) {
    if (e.step === "load_segment" && e.args) {
      const seg = e.args as unknown as BootReport["segments"][number];
      if (seen.has(seg.index)) continue;
      seen.add(seg.index);
      report.segments.push(seg);
    } else if (e.step === "rproc_report_crash" && e.args) {
      crashes.count++;
      crashes.first ??= { type: Number(e.args.type), fault: firstFault };
    } else if (e.step === "emulated_fault" && e.args && firstFault === null) {
      firstFault = e.args as Record<string, unknown>;
    } else if (e.step === "emulated_console" && typeof e.args?.text === "string") {
      report.console += e.args.text;
    }
  }
  if (crashes.first && crashes.first.fault === null) crashes.first.fault = firstFault;
  crashes.loop = crashes.count >= 2;
  if (crashes.count > 0 && report.state === "running") report.state = crashes.loop ? "crash-loop" : "running (recovered from a crash)";
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
    const segment = failedSegment(rproc, err?.field);
    if (segment) report.error.segment = segment;
  }
  report.state = stateString(rproc.state);
  report.diagnostics = [...rproc.diagnostics, ...report.diagnostics];
  summariseRun(report, rec.events);
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
