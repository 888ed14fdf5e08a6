/**
 * One rpmsg conversation, as `rproc rpmsg` runs it: boot with an rpmsg host
 * attached, wait for the announcements, send each message to the chosen
 * channel (or address) and wait for its answer, snapshot the vdevs, shut
 * down. The report is the command's --json object.
 */
import { hex, isRprocError } from "../errors.js";
import type { Diagnostic } from "../diagnostics.js";
import { VDEV_OFF } from "../formats/resource-table.js";
import { Platform } from "../platform/platform.js";
import { createRproc, loadDriver } from "../drivers/registry.js";
import { recordEvents, type RprocEvent } from "../core/events.js";
import type { Rproc } from "../core/rproc.js";
import { stateString } from "../core/state.js";
import { tableU32, tableU8 } from "../core/table.js";
import { attachRpmsg, type RpmsgHost } from "./host.js";
import type { RpmsgEndpoint } from "./endpoint.js";
import { remoteServices, rpmsgRemoteBehaviour } from "./remote/sim.js";
import { RPMSG_ADDR_ANY } from "./wire.js";
import type { RpmsgChannel } from "./virtproc.js";

export interface RpmsgSessionOptions {
  platform: string | Platform;
  processor?: string;
  firmware: string;
  cwd?: string;
  searchPath?: string[];
  /** "sim" (default: the processor's driver) or "emulated". */
  driver?: string;
  /** Sim remote models ("tty", "raw", "sample", "openamp-echo"); default ["tty"]. */
  remote?: string[];
  /** Payloads to send, in order. */
  send?: Uint8Array[];
  /** Channel name or remote address; default: the first channel announced. */
  to?: string | number;
  /** How long to wait for the channel and for each answer (default 1000). */
  waitMs?: number;
  /** Wait for an answer to every message (default true). */
  expectReply?: boolean;
}

export interface RpmsgReportMessage {
  direction: "rx" | "tx";
  src: number;
  dst: number;
  len: number;
  text: string | null;
  hex: string;
}

export interface RpmsgReport {
  platform: string;
  processor: string;
  firmware: string;
  state: string;
  vdevs: {
    index: number;
    id: number;
    status: number;
    dfeatures: number;
    gfeatures: number;
    vrings: { index: number; da: number; pa: number | null; num: number; align: number; notifyid: number; role: "rx" | "tx" }[];
    buffers: { da: number; pa: number; count: number; size: number } | null;
  }[];
  channels: { name: string; src: number; dst: number; driver: string | null }[];
  messages: RpmsgReportMessage[];
  error: null | { code: string; step: string | null; message: string };
  diagnostics: Diagnostic[];
  events: RpmsgEventSummary[];
}

export type RpmsgEventSummary = Pick<RprocEvent, "step" | "phase"> & { args?: Record<string, unknown> };

/** Printable ASCII (plus tab/newline) as text, else null; hex always. */
export function describePayload(data: Uint8Array): { text: string | null; hex: string } {
  const printable = data.every((b) => (b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09);
  return { text: printable ? Buffer.from(data).toString("latin1") : null, hex: Buffer.from(data).toString("hex") };
}

function snapshotVdevs(rproc: Rproc, host: RpmsgHost): RpmsgReport["vdevs"] {
  const t = rproc.tablePtr;
  return rproc.rvdevs.map((v) => {
    const at = (off: number): number => (t ? tableU32(t, off) : 0);
    const bus = host.bus(v.index);
    return {
      index: v.index,
      id: v.id,
      status: t ? tableU8(t, v.rscOffset + VDEV_OFF.status) : 0,
      dfeatures: at(v.rscOffset + VDEV_OFF.dfeatures),
      gfeatures: at(v.rscOffset + VDEV_OFF.gfeatures),
      vrings: v.vrings.map((r) => ({
        index: r.index,
        da: r.vq?.da ?? at(v.rscOffset + VDEV_OFF.vrings + 20 * r.index),
        pa: r.vq?.pa ?? null,
        num: r.num,
        align: r.align,
        notifyid: r.notifyid,
        // vring0 is the host's RX ("input"), vring1 its TX ("output").
        role: r.index === 0 ? "rx" : "tx",
      })),
      buffers: bus ? { da: bus.bufs.dma, pa: bus.bufs.pa, count: bus.numBufs, size: bus.bufSize } : null,
    };
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function converse(host: RpmsgHost, opts: RpmsgSessionOptions, waitMs: number): Promise<{ ok: boolean; endpoint?: RpmsgEndpoint }> {
  const sends = opts.send ?? [];
  let ch: RpmsgChannel | undefined;
  if (opts.to !== undefined) ch = await host.waitForChannel(opts.to, waitMs).catch(() => undefined);
  else if (sends.length) ch = await firstChannel(host, waitMs);
  else {
    await firstChannel(host, waitMs);
    await sleep(Math.min(50, waitMs)); // let the rest of the announcements arrive
    return { ok: true };
  }
  let ept: RpmsgEndpoint;
  if (ch) ept = host.endpointFor(ch);
  else if (typeof opts.to === "number") ept = host.createEndpoint({ name: "rproc-cli", src: RPMSG_ADDR_ANY, dst: opts.to });
  else throw Object.assign(new Error(`no channel ${opts.to === undefined ? "" : `'${String(opts.to)}' `}announced within ${waitMs} ms`), { code: "ETIMEDOUT" });
  let ok = true;
  for (const data of sends) {
    await ept.send(data, { timeoutMs: waitMs });
    if (opts.expectReply === false) continue;
    const reply = await Promise.race([ept.receive(), sleep(waitMs).then(() => undefined)]);
    if (!reply) ok = false;
  }
  return { ok, endpoint: ept };
}

async function firstChannel(host: RpmsgHost, waitMs: number): Promise<RpmsgChannel | undefined> {
  const now = host.channels()[0];
  if (now) return now;
  return new Promise((resolve) => {
    const off = host.on("channel", (c) => {
      clearTimeout(t);
      off();
      resolve(c);
    });
    const t = setTimeout(() => {
      off();
      resolve(undefined);
    }, waitMs);
  });
}

/** Boot, talk, shut down. Never throws for a firmware or conversation failure: it is in `error`. */
export async function rpmsgSession(opts: RpmsgSessionOptions): Promise<RpmsgReport> {
  const platform = typeof opts.platform === "string" ? Platform.load(opts.platform) : opts.platform;
  const proc = platform.processor(opts.processor);
  const driver = opts.driver ?? proc.driver ?? "sim";
  await loadDriver(driver);
  const rproc = createRproc(platform, opts.processor, {
    firmware: opts.firmware,
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    ...(opts.searchPath !== undefined ? { searchPath: opts.searchPath } : {}),
    driver,
    ...(driver === "sim" ? { driverOptions: { behaviour: rpmsgRemoteBehaviour(remoteServices(opts.remote ?? ["tty"])) } } : {}),
  });
  const rec = recordEvents(rproc.events);
  const host = attachRpmsg(rproc);
  const report: RpmsgReport = {
    platform: platform.desc.name,
    processor: rproc.processor.name,
    firmware: rproc.firmware,
    state: stateString(rproc.state),
    vdevs: [],
    channels: [],
    messages: [],
    error: null,
    diagnostics: [],
    events: [],
  };
  host.on("traffic", (t) => report.messages.push({ direction: t.direction, src: t.src, dst: t.dst, len: t.data.length, ...describePayload(t.data) }));
  const waitMs = opts.waitMs ?? 1000;
  try {
    await rproc.boot();
    const r = await converse(host, opts, waitMs);
    // Delivered: the remote gave back every TX buffer the host posted.
    const undelivered = host.bus(0) ? host.bus(0)!.svq.ring.inFlight() - host.bus(0)!.svq.ring.usedPending() : 0;
    report.state = stateString(rproc.state);
    report.vdevs = snapshotVdevs(rproc, host);
    report.channels = host.channels().map((c) => ({ name: c.name, src: c.src | 0, dst: c.dst, driver: c.driver }));
    if (!r.ok) report.error = { code: "ETIMEDOUT", step: "rpmsg", message: `no answer within ${waitMs} ms to every message` };
    else if (undelivered > 0) report.error = { code: "ETIMEDOUT", step: "rpmsg", message: `${undelivered} message(s) still in the remote's RX ring (not consumed)` };
  } catch (e) {
    report.state = stateString(rproc.state);
    report.vdevs = snapshotVdevs(rproc, host);
    report.channels = host.channels().map((c) => ({ name: c.name, src: c.src | 0, dst: c.dst, driver: c.driver }));
    const code = isRprocError(e) ? e.code : typeof (e as { code?: unknown }).code === "string" ? (e as { code: string }).code : "EIO";
    report.error = { code, step: isRprocError(e) ? (e.step ?? null) : "rpmsg", message: e instanceof Error ? e.message : String(e) };
  }
  try {
    await rproc.shutdown();
  } catch {
    // The processor never reached running: nothing to shut down.
  }
  host.detach();
  report.diagnostics = rproc.diagnostics.slice();
  report.events = rec.events.map((e) => ({ step: e.step, phase: e.phase, ...(e.args ? { args: e.args } : {}) }));
  return report;
}

/** One line per channel and per message, for humans. */
export function renderRpmsgReport(r: RpmsgReport, trace: boolean): string {
  const out: string[] = [`platform ${r.platform}, processor ${r.processor}, firmware ${r.firmware}, state ${r.state}`];
  for (const v of r.vdevs) {
    out.push(`vdev${v.index}: id ${v.id} status ${hex(v.status)} dfeatures ${hex(v.dfeatures)} gfeatures ${hex(v.gfeatures)}`);
    for (const q of v.vrings) out.push(`  vring${q.index} (${q.role === "rx" ? "host RX" : "host TX"}): da ${hex(q.da)} num ${q.num} align ${q.align} notifyid ${q.notifyid}`);
    if (v.buffers) out.push(`  buffers: ${v.buffers.count} x ${v.buffers.size} at da ${hex(v.buffers.da)} (pa ${hex(v.buffers.pa)})`);
  }
  for (const c of r.channels) out.push(`channel ${c.name}: src ${c.src === -1 ? "-1" : hex(c.src)} dst ${hex(c.dst)} driver ${c.driver ?? "none (bind with driver_override)"}`);
  for (const m of r.messages)
    out.push(`${m.direction === "tx" ? "->" : "<-"} ${hex(m.src)} -> ${hex(m.dst)} ${m.len} B ${m.text !== null ? JSON.stringify(m.text) : m.hex}`);
  for (const d of r.diagnostics) out.push(`${d.severity}: ${d.code}: ${d.message}`);
  if (trace) for (const e of r.events) out.push(`  ${e.step} ${e.phase}${e.args ? " " + JSON.stringify(e.args) : ""}`);
  if (r.error) out.push(`error: ${r.error.code}: ${r.error.message}`);
  return out.join("\n") + "\n";
}
