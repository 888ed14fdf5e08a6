/**
 * The memory map as data: lanes of boxes in the two address spaces (device
 * da on the left, host pa on the right) and the processor's translations
 * joining them. Everything comes from the page data (platform JSON, boot and
 * crash reports); nothing is recomputed from firmware.
 */
import type { PageData } from "./data.js";
import { processorOf } from "./data.js";
import { hx, rangeText } from "./escape.js";

export type Space = "da" | "pa";

export interface MapBox {
  /** Stable key tests and diagnostics refer to, e.g. "segment:1", "vring:0.1.used". */
  key: string;
  lane: string;
  space: Space;
  start: number;
  size: number;
  label: string;
  /** CSS class: the kind of thing drawn. */
  cls: string;
  /** Hover text: name, exact range, details. */
  tip: string[];
  /** Zero-filled tail of a segment: [tailStart, start+size) hatched. */
  tailStart?: number;
  /** Sub-column within the lane when boxes overlap (assigned by assignColumns). */
  col?: number;
  cols?: number;
}

export interface Lane {
  id: string;
  space: Space;
  title: string;
  boxes: MapBox[];
  /** Diagnostics pinned to this lane. */
  diagnostics: PinnedDiagnostic[];
}

export interface PinnedDiagnostic {
  severity: string;
  code: string;
  path: string;
  message: string;
  lane: string | null;
}

export interface Join {
  name: string;
  da: number;
  pa: number;
  size: number;
}

export interface MapModel {
  lanes: Lane[];
  joins: Join[];
  /** A refused boot: the box that failed and the window it missed (null when nothing is known). */
  failure: null | { key: string; message: string; window: Join | null };
  unpinned: PinnedDiagnostic[];
}

const DA_LANES: [string, string][] = [
  ["windows", "da windows"],
  ["segments", "PT_LOAD (da)"],
  ["carveouts", "carveouts (da)"],
  ["rsc", "rsc table"],
  ["trace", "trace"],
  ["vrings", "vrings"],
  ["rpmsg", "rpmsg bufs"],
  ["devmem", "devmem"],
  ["coredump", "coredump"],
];
const PA_LANES: [string, string][] = [
  ["pa-carveouts", "carveouts (pa)"],
  ["pa-segments", "PT_LOAD (pa)"],
  ["pools", "reserved pools"],
  ["regions", "regions"],
];

/** Which lane a report path (diagnostic path or error field) concerns. */
export function laneOfPath(path: string): string | null {
  const rules: [RegExp, string][] = [
    [/^(segments|programHeaders)\b/, "segments"],
    [/^carveouts\b/, "carveouts"],
    [/^vdevs\[\d+\]\.vrings|^resourceTable\.entries\[\d+\]\.vrings/, "vrings"],
    [/^vdevs\b/, "vrings"],
    [/^(traces|trace)\b/, "trace"],
    [/^devmem\b/, "devmem"],
    [/^resourceTable\b|^rsc/, "rsc"],
    [/^coredump|^dump\b/, "coredump"],
    [/^(regions|platform\.regions)\b/, "regions"],
    [/^pools\b/, "pools"],
  ];
  for (const [re, lane] of rules) if (re.test(path)) return lane;
  return null;
}

function box(b: Omit<MapBox, "tip"> & { tip?: string[] }): MapBox {
  return { ...b, tip: [b.label, `${b.space} ${rangeText(b.start, b.size)}`, ...(b.tip ?? [])] };
}

/** Greedy interval colouring: overlapping boxes in one lane side by side. */
export function assignColumns(boxes: MapBox[]): void {
  const order = [...boxes].sort((a, b) => a.start - b.start || b.size - a.size);
  const colEnds: number[] = [];
  const groupOf: MapBox[][] = [];
  let group: MapBox[] = [];
  let groupEnd = -Infinity;
  for (const b of order) {
    if (b.start >= groupEnd && group.length) {
      groupOf.push(group);
      group = [];
      colEnds.length = 0;
    }
    let col = colEnds.findIndex((end) => end <= b.start);
    if (col < 0) col = colEnds.push(0) - 1;
    colEnds[col] = b.start + Math.max(b.size, 1);
    b.col = col;
    group.push(b);
    groupEnd = Math.max(groupEnd === -Infinity ? 0 : groupEnd, b.start + Math.max(b.size, 1));
  }
  if (group.length) groupOf.push(group);
  for (const g of groupOf) {
    const cols = Math.max(...g.map((b) => b.col! + 1));
    for (const b of g) b.cols = cols;
  }
}

export function buildMapModel(data: PageData): MapModel {
  const proc = processorOf(data);
  const boot = data.boot;
  const boxes: MapBox[] = [];
  const joins: Join[] = (proc?.translations ?? []).map((t, i) => ({ name: t.name ?? `window${i}`, da: t.da, pa: t.pa, size: t.size }));
  for (const [i, t] of joins.entries())
    boxes.push(box({ key: `window:${i}`, lane: "windows", space: "da", start: t.da, size: t.size, label: t.name, cls: "window", tip: [`-> pa ${rangeText(t.pa, t.size)}`] }));
  const firewall = proc?.firewall === true;
  for (const r of data.platform.regions)
    boxes.push(
      box({
        key: `region:${r.name}`,
        lane: "regions",
        space: "pa",
        start: r.pa,
        size: r.size,
        label: `${r.name} ${r.kind}`,
        cls: `region kind-${r.kind} owner-${r.owner}`,
        tip: [`kind ${r.kind}, owner ${r.owner}${r.aliasOf ? `, alias of ${r.aliasOf}` : ""}`, ...(r.owner === "tee" ? ["TEE only: the host cannot touch it"] : []), ...(firewall ? ["TEE firewall on for this processor: firmware memory locked from the host while loaded"] : [])],
      }),
    );
  for (const p of data.platform.pools)
    boxes.push(box({ key: `pool:${p.name}`, lane: "pools", space: "pa", start: p.pa, size: p.size, label: p.name, cls: "pool", tip: [`reserved-memory${p.noMap ? ", no-map" : ""}`] }));
  if (boot) addBootBoxes(boot, boxes);
  const dump = data.crash?.dump;
  if (dump)
    for (const [i, s] of dump.segments.entries())
      boxes.push(box({ key: `coredump:${i}`, lane: "coredump", space: "da", start: s.da, size: s.size, label: s.name ?? `dump seg ${i}`, cls: "coredump", tip: [`coredump (${dump.mode}, ${dump.variant})`] }));
  let failure: MapModel["failure"] = null;
  const err = boot?.error;
  if (err) {
    const seg = err.segment;
    if (seg) {
      const key = `failed-segment:${seg.index}`;
      boxes.push(box({ key, lane: "segments", space: "da", start: seg.da, size: Math.max(seg.memsz, 1), label: `segment ${seg.index} refused`, cls: "failed", tip: [`${err.code} at ${err.step ?? "?"}: ${err.message}`, `filesz ${hx(seg.filesz)} memsz ${hx(seg.memsz)}`] }));
      failure = { key, message: err.message, window: nearestWindow(joins, seg.da, seg.memsz) };
    } else failure = { key: "", message: err.message, window: null };
  }
  const diags: PinnedDiagnostic[] = [...(boot?.diagnostics ?? []), ...(((data.crash?.diagnostics as PinnedDiagnostic[] | undefined) ?? []))].map((d) => ({
    severity: d.severity,
    code: d.code,
    path: d.path,
    message: d.message,
    lane: laneOfPath(d.path),
  }));
  if (err) diags.unshift({ severity: "error", code: err.code, path: err.field ?? err.step ?? "", message: `boot failed at ${err.step ?? "?"}: ${err.message}`, lane: laneOfPath(err.field ?? "") });
  const lanes: Lane[] = [...DA_LANES.map(([id, title]) => ({ id, title, space: "da" as Space })), ...PA_LANES.map(([id, title]) => ({ id, title, space: "pa" as Space }))].map((l) => ({
    ...l,
    boxes: boxes.filter((b) => b.lane === l.id),
    diagnostics: diags.filter((d) => d.lane === l.id),
  }));
  for (const l of lanes) assignColumns(l.boxes);
  return { lanes, joins, failure, unpinned: diags.filter((d) => d.lane === null) };
}

/** The translation window a refused range was meant for: the one holding its start, else the closest. */
function nearestWindow(joins: Join[], da: number, size: number): Join | null {
  let best: Join | null = null;
  let bestDist = Infinity;
  for (const j of joins) {
    const dist = da >= j.da && da < j.da + j.size ? 0 : Math.min(Math.abs(da - j.da), Math.abs(da + size - (j.da + j.size)));
    if (dist < bestDist) {
      best = j;
      bestDist = dist;
    }
  }
  return best;
}

function addBootBoxes(boot: NonNullable<PageData["boot"]>, boxes: MapBox[]): void {
  for (const s of boot.segments) {
    const tip = [`filesz ${hx(s.filesz)} memsz ${hx(s.memsz)}${s.memsz > s.filesz ? ` (zero-filled tail ${hx(s.memsz - s.filesz)})` : ""}`, `region ${s.region ?? "?"}`];
    const tail = s.memsz > s.filesz ? { tailStart: s.da + s.filesz } : {};
    boxes.push(box({ key: `segment:${s.index}`, lane: "segments", space: "da", start: s.da, size: s.memsz, label: `seg ${s.index}`, cls: "segment", tip: [...tip, `-> pa ${hx(s.pa)}`], ...tail }));
    boxes.push(box({ key: `pa-segment:${s.index}`, lane: "pa-segments", space: "pa", start: s.pa, size: s.memsz, label: `seg ${s.index}`, cls: "segment", tip: [...tip, `<- da ${hx(s.da)}`], ...(s.memsz > s.filesz ? { tailStart: s.pa + s.filesz } : {}) }));
  }
  for (const c of boot.carveouts) {
    const how = c.allocated ? "allocated from the DMA pool" : "registered by the driver";
    const cls = `carveout ${c.allocated ? "allocated" : "registered"}`;
    boxes.push(box({ key: `carveout:${c.name}`, lane: "carveouts", space: "da", start: c.da, size: c.len, label: c.name, cls, tip: [how, c.pa === null ? "pa -" : `-> pa ${hx(c.pa)}`] }));
    if (c.pa !== null) boxes.push(box({ key: `pa-carveout:${c.name}`, lane: "pa-carveouts", space: "pa", start: c.pa, size: c.len, label: c.name, cls, tip: [how, `<- da ${hx(c.da)}`] }));
  }
  const rt = boot.resourceTable;
  if (rt && rt.da !== null)
    boxes.push(box({ key: "rsc:loaded", lane: "rsc", space: "da", start: rt.da, size: rt.size, label: "resource table", cls: "rsc", tip: [`table_sz ${rt.size}: the cached copy (host memory) was copied here at find_loaded_rsc_table`, rt.pa === null ? "" : `pa ${hx(rt.pa)}`] }));
  for (const [i, t] of boot.traces.entries())
    boxes.push(box({ key: `trace:${i}`, lane: "trace", space: "da", start: t.da, size: t.len, label: t.name, cls: "trace", tip: [`${t.text.length} characters written`] }));
  for (const [v, vd] of boot.vdevs.entries()) {
    for (const [r, q] of vd.vrings.entries()) {
      const L = q.layout;
      if (!L) continue;
      const parts: [string, number, number][] = [
        ["desc", L.desc, L.avail - L.desc],
        ["avail", L.avail, 2 * (3 + q.num)],
        ["used", L.used, L.size - L.used],
      ];
      for (const [part, off, len] of parts)
        boxes.push(
          box({
            key: `vring:${v}.${r}.${part}`,
            lane: "vrings",
            space: "da",
            start: q.da + off,
            size: len,
            label: `vring${r} ${part}`,
            cls: `vring vring-${part}`,
            tip: [`vdev${v} (virtio id ${vd.id}) vring${r}: num ${q.num} align ${q.align} notifyid ${q.notifyid}`, `${part} at offset ${hx(off)}`],
          }),
        );
    }
    const b = vd.buffers;
    if (b) {
      boxes.push(box({ key: `rpmsg:${v}.rx`, lane: "rpmsg", space: "da", start: b.rx.da, size: b.rx.len, label: "RX bufs", cls: "rpmsg rx", tip: [`${b.numBufs / 2} x ${b.bufSize} B the host receives in (first half of ${b.name})`] }));
      boxes.push(box({ key: `rpmsg:${v}.tx`, lane: "rpmsg", space: "da", start: b.tx.da, size: b.tx.len, label: "TX bufs", cls: "rpmsg tx", tip: [`${b.numBufs / 2} x ${b.bufSize} B the host sends from (second half of ${b.name})`] }));
    }
  }
  for (const [i, m] of (boot.devmem ?? []).entries())
    boxes.push(box({ key: `devmem:${i}`, lane: "devmem", space: "da", start: m.da, size: m.len, label: `devmem ${i}`, cls: "devmem", tip: ["mapped through the IOMMU"] }));
}
