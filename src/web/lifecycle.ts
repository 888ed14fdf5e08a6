/**
 * The lifecycle: the kernel's state machine (enum rproc_state) with the
 * current state lit, and the timeline of steps as the core emitted them
 * (begin/end/fail/info, errno), crash, coredump and recovery marked, and the
 * step where a fault was injected.
 */
import type { RprocEvent } from "../core/events.js";
import { esc } from "./escape.js";

const STATES: { name: string; x: number; y: number }[] = [
  { name: "offline", x: 20, y: 60 },
  { name: "running", x: 220, y: 60 },
  { name: "crashed", x: 420, y: 60 },
  { name: "deleted", x: 600, y: 60 },
  { name: "detached", x: 20, y: 150 },
  { name: "attached", x: 220, y: 150 },
  { name: "suspended", x: 420, y: 150 },
];

/** rproc_boot/rproc_shutdown/rproc_report_crash/recovery/attach/detach as edges. */
const EDGES: [string, string, string][] = [
  ["offline", "running", "boot"],
  ["running", "offline", "shutdown"],
  ["running", "crashed", "crash"],
  ["crashed", "running", "recovery"],
  ["detached", "attached", "attach"],
  ["attached", "detached", "detach"],
  ["attached", "crashed", "crash"],
  ["crashed", "deleted", "rproc_del"],
];

const W = 120;
const H = 34;

export function renderStateMachine(current: string, power: number | null, crashCnt: number | null): string {
  const at = new Map(STATES.map((s) => [s.name, s]));
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" class="states" width="740" height="200" viewBox="0 0 740 200" role="img" aria-label="state machine">`];
  out.push(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>`);
  const drawn = new Set<string>();
  for (const [a, b, label] of EDGES) {
    const s = at.get(a)!;
    const t = at.get(b)!;
    const back = drawn.has(`${b}>${a}`);
    drawn.add(`${a}>${b}`);
    const off = back ? 8 : -8;
    let x1: number, y1: number, x2: number, y2: number;
    if (s.y === t.y) {
      const dir = t.x > s.x ? 1 : -1;
      x1 = s.x + (dir > 0 ? W : 0);
      x2 = t.x + (dir > 0 ? 0 : W);
      y1 = y2 = s.y + H / 2 + off;
    } else {
      x1 = s.x + W / 2 + off;
      x2 = t.x + W / 2 + off;
      y1 = s.y + (t.y > s.y ? H : 0);
      y2 = t.y + (t.y > s.y ? 0 : H);
      if (s.x !== t.x) {
        x1 = s.x + (t.x > s.x ? W - 10 : 10);
        x2 = t.x + W / 2;
      }
    }
    const lx = (x1 + x2) / 2;
    const ly = (y1 + y2) / 2 + (back ? 12 : -4);
    out.push(`<line class="edge" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" marker-end="url(#arrow)"/><text class="edge-label" x="${lx}" y="${ly}" text-anchor="middle">${label}</text>`);
  }
  for (const s of STATES) {
    const cur = s.name === current ? " current" : "";
    out.push(`<g class="state${cur}" data-state="${s.name}"><rect x="${s.x}" y="${s.y}" width="${W}" height="${H}" rx="8"/><text x="${s.x + W / 2}" y="${s.y + 21}" text-anchor="middle">${s.name}</text></g>`);
  }
  const facts = [`state: ${current}`, ...(power !== null ? [`power: ${power}`] : []), ...(crashCnt !== null ? [`crashes: ${crashCnt}`] : [])];
  out.push(`<text class="state-facts" x="20" y="24" data-state="${esc(current)}">${esc(facts.join("   "))}</text>`);
  out.push("</svg>");
  return out.join("");
}

const MILESTONE = /crash|coredump|recovery|inject_fault|emulated_fault/;

/** Short text of an event's arguments (firmware-controlled strings are escaped by the caller). */
function argsText(e: RprocEvent): string {
  if (!e.args) return "";
  return Object.entries(e.args)
    .map(([k, v]) => `${k}=${typeof v === "number" ? (v > 9 ? "0x" + v.toString(16) : String(v)) : typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ")
    .slice(0, 240);
}

/** One row per event, indented by nesting depth (begin opens, end/fail closes). */
export function renderTimeline(events: RprocEvent[], opts: { limit?: number } = {}): string {
  const limit = opts.limit ?? 2000;
  const shown = events.length > limit ? events.slice(events.length - limit) : events;
  const out = [`<ol class="timeline">`];
  if (shown.length < events.length) out.push(`<li class="ev elided">${events.length - shown.length} earlier events not shown</li>`);
  let depth = 0;
  for (const e of shown) {
    if (e.phase === "end" || e.phase === "fail") depth = Math.max(0, depth - 1);
    out.push(eventRow(e, depth));
    if (e.phase === "begin") depth++;
  }
  out.push("</ol>");
  return out.join("");
}

export function eventRow(e: RprocEvent, depth = 0): string {
  const cls = ["ev", `ph-${e.phase}`, MILESTONE.test(e.step) ? "milestone" : "", e.step === "inject_fault" || /injected/.test(e.message ?? "") ? "injected" : ""].filter(Boolean).join(" ");
  const errno = e.errno ? ` <span class="errno">${esc(e.errno)}</span>` : "";
  const msg = e.message ? ` <span class="msg">${esc(e.message)}</span>` : "";
  return `<li class="${cls}" data-seq="${e.seq}" data-step="${esc(e.step)}" data-phase="${e.phase}" style="--depth:${Math.min(depth, 12)}"><span class="seq">${e.seq}</span> <span class="phase">${e.phase}</span> <span class="step">${esc(e.step)}</span>${errno}${msg} <span class="args">${esc(argsText(e))}</span></li>`;
}
