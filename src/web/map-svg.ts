/**
 * Draws a MapModel as one SVG: device address space on the left, host
 * physical space on the right, translations as bands between them. Each box
 * carries its exact range in data attributes and a hover text; labels sit
 * inside their box, clipped to its width, so no two labels can overlap.
 */
import { buildAxis, type Axis } from "./axis.js";
import { esc, hx } from "./escape.js";
import type { Lane, MapBox, MapModel, Space } from "./map-model.js";

const AXIS_W = 92;
const LANE_W = 104;
const LANE_GAP = 6;
const JOIN_W = 150;
const HEAD = 58;
/** Conservative advance of a 10px monospace glyph, so a clipped label never leaves its box. */
const CHAR_W = 6.6;
const ALWAYS = new Set(["windows", "segments", "carveouts", "regions"]);

export interface MapGeometry {
  width: number;
  height: number;
}

/** The text that fits a box `width` wide: whole, clipped with an ellipsis, or nothing. */
export function fitLabel(label: string, width: number): string {
  const max = Math.floor((width - 6) / CHAR_W);
  if (max < 2) return "";
  return label.length <= max ? label : label.slice(0, max - 1) + "…";
}

function laneVisible(l: Lane): boolean {
  return l.boxes.length > 0 || l.diagnostics.length > 0 || ALWAYS.has(l.id);
}

export function renderMapSvg(model: MapModel): string {
  const lanes = model.lanes.filter(laneVisible);
  const da = lanes.filter((l) => l.space === "da");
  const pa = lanes.filter((l) => l.space === "pa");
  const daBoxes = da.flatMap((l) => l.boxes);
  const paBoxes = pa.flatMap((l) => l.boxes);
  const iv = (b: MapBox): { start: number; end: number }[] => [{ start: b.start, end: b.start + b.size }, ...(b.tailStart !== undefined ? [{ start: b.start, end: b.tailStart }] : [])];
  const axDa = buildAxis(daBoxes.flatMap(iv), HEAD);
  const axPa = buildAxis([...paBoxes.flatMap(iv), ...model.joins.map((j) => ({ start: j.pa, end: j.pa + j.size }))], HEAD);
  const xDa = (i: number): number => AXIS_W + i * (LANE_W + LANE_GAP);
  const daRight = xDa(da.length) - LANE_GAP;
  const paLeft = daRight + JOIN_W;
  const xPa = (i: number): number => paLeft + i * (LANE_W + LANE_GAP);
  const paRight = xPa(pa.length) - LANE_GAP;
  const width = paRight + AXIS_W;
  const height = HEAD + Math.max(axDa.height, axPa.height) + 16;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="memmap" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="memory map">`,
    `<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" class="hatch-bg"/><line x1="0" y1="0" x2="0" y2="6" class="hatch-line"/></pattern></defs>`,
    `<text x="${AXIS_W}" y="14" class="space-title">device address space (da)</text>`,
    `<text x="${paLeft}" y="14" class="space-title">host physical address space (pa)</text>`,
  );
  out.push(ticks(axDa, AXIS_W - 6, "end", "da"), ticks(axPa, paRight + 6, "start", "pa"));
  for (const [i, j] of model.joins.entries()) {
    const y1 = axDa.y(j.da);
    const y2 = axDa.y(j.da + j.size);
    const y3 = axPa.y(j.pa + j.size);
    const y4 = axPa.y(j.pa);
    const missed = model.failure?.window === j ? " missed" : "";
    out.push(
      `<polygon class="join${missed}" data-key="join:${i}" points="${daRight},${f(y1)} ${daRight},${f(y2)} ${paLeft},${f(y3)} ${paLeft},${f(y4)}"><title>${esc(`${j.name}: da ${hx(j.da)}..${hx(j.da + j.size - 1)} -> pa ${hx(j.pa)}..${hx(j.pa + j.size - 1)}`)}</title></polygon>`,
    );
  }
  da.forEach((l, i) => out.push(renderLane(l, xDa(i), axDa, model)));
  pa.forEach((l, i) => out.push(renderLane(l, xPa(i), axPa, model)));
  out.push("</svg>");
  return out.join("\n");
}

const f = (n: number): string => (Math.round(n * 10) / 10).toString();

function ticks(ax: Axis, x: number, anchor: "start" | "end", space: Space): string {
  const out: string[] = [`<g class="ticks" data-space="${space}">`];
  // One tick per stretch start (stretches are at least GAP_STRETCH apart, more than a 9px label).
  for (const s of ax.stretches) {
    out.push(`<text class="tick" x="${x}" y="${f(s.y + 3)}" text-anchor="${anchor}">${hx(s.start)}</text>`);
    if (!s.covered) out.push(`<line class="gap" x1="${anchor === "end" ? x - 70 : x}" x2="${anchor === "end" ? x : x + 70}" y1="${f(s.y + s.h / 2)}" y2="${f(s.y + s.h / 2)}"/>`);
  }
  const end = ax.stretches[ax.stretches.length - 1];
  if (end) out.push(`<text class="tick" x="${x}" y="${f(end.y + end.h + 3)}" text-anchor="${anchor}">${hx(end.end)}</text>`);
  out.push("</g>");
  return out.join("");
}

function renderLane(l: Lane, x: number, ax: Axis, model: MapModel): string {
  const out: string[] = [`<g class="lane" data-lane="${l.id}" data-space="${l.space}">`];
  out.push(`<rect class="lane-bg" x="${x}" y="${HEAD}" width="${LANE_W}" height="${f(ax.height)}"/>`);
  out.push(`<text class="lane-title" x="${x + 2}" y="${HEAD - 8}">${esc(l.title)}</text>`);
  if (l.diagnostics.length) {
    const worst = l.diagnostics.some((d) => d.severity === "error") ? "error" : l.diagnostics.some((d) => d.severity === "warning") ? "warning" : "info";
    const text = l.diagnostics.map((d) => `${d.severity} ${d.code} at ${d.path}: ${d.message}`).join("\n");
    out.push(
      `<g class="diag-pin ${worst}" data-lane="${l.id}" data-tip="${esc(text)}"><circle cx="${x + LANE_W - 9}" cy="${HEAD - 30}" r="8"/><text x="${x + LANE_W - 9}" y="${HEAD - 26.5}" text-anchor="middle">${l.diagnostics.length}</text><title>${esc(text)}</title></g>`,
    );
  }
  for (const b of l.boxes) out.push(renderBox(b, x, ax, model));
  out.push("</g>");
  return out.join("");
}

function renderBox(b: MapBox, laneX: number, ax: Axis, model: MapModel): string {
  const cols = b.cols ?? 1;
  const w = (LANE_W - (cols - 1) * 2) / cols;
  const x = laneX + (b.col ?? 0) * (w + 2);
  const y0 = ax.y(b.start);
  const y1 = ax.y(b.start + b.size);
  const h = Math.max(y1 - y0, 2);
  const missed = model.failure?.window && b.key.startsWith("window:") && model.joins[Number(b.key.slice(7))] === model.failure.window ? " missed" : "";
  const tip = b.tip.filter(Boolean).join("\n");
  const parts = [
    `<g class="box ${esc(b.cls)}${missed}" data-key="${esc(b.key)}" data-start="${hx(b.start)}" data-end="${hx(b.start + b.size)}" data-size="${b.size}" data-tip="${esc(tip)}">`,
    `<rect x="${f(x)}" y="${f(y0)}" width="${f(w)}" height="${f(h)}"/>`,
  ];
  if (b.tailStart !== undefined) {
    const yt = ax.y(b.tailStart);
    parts.push(`<rect class="tail" x="${f(x)}" y="${f(yt)}" width="${f(w)}" height="${f(Math.max(y1 - yt, 1))}" fill="url(#hatch)"/>`);
  }
  const text = h >= 12 ? fitLabel(b.label, w) : "";
  if (text) parts.push(`<text class="label" x="${f(x + 3)}" y="${f(Math.min(y0 + h / 2 + 3.5, y0 + 12))}">${esc(text)}</text>`);
  parts.push(`<title>${esc(tip)}</title></g>`);
  return parts.join("");
}
