/**
 * The page: header, memory map, diagnostics, lifecycle, crash, trace buffers
 * and timeline, each rendered by a small function from the page data, and
 * the data itself embedded as JSON. A report is this page with no live
 * section; `rproc serve` adds the controls and swaps sections as they change.
 */
import type { PageData } from "./data.js";
import { eventsOf } from "./data.js";
import { bytes, esc, hx, jsonForScript } from "./escape.js";
import { renderStateMachine, renderTimeline } from "./lifecycle.js";
import { buildMapModel, type MapModel } from "./map-model.js";
import { renderMapSvg } from "./map-svg.js";
import { STYLE } from "./style.js";
import { CLIENT_JS } from "./client.js";

export interface Sections {
  head: string;
  map: string;
  diagnostics: string;
  states: string;
  crash: string;
  traces: string;
  timeline: string;
}

function stateOf(data: PageData): string {
  return data.live?.state ?? data.crash?.state ?? data.boot?.state ?? "offline";
}

function head(data: PageData): string {
  const b = data.boot;
  const proc = b?.processor ?? (data.crash as { processor?: string } | undefined)?.processor ?? "";
  const fw = b?.firmware ?? (data.crash as { firmware?: string } | undefined)?.firmware ?? "";
  const state = stateOf(data);
  const out = [
    `<h1>rproc · ${esc(data.platform.name)} · ${esc(proc)}</h1>`,
    `<div class="sub">firmware <code>${esc(fw)}</code> · state <span class="badge ${esc(state)}" id="state-badge">${esc(state)}</span>`,
  ];
  if (b && b.bootAddress !== null) out.push(` · boot address <code>${hx(b.bootAddress)}</code>`);
  if (b && !data.live && b.finalState !== b.state) out.push(` · after the dry run: ${esc(b.finalState)}`);
  out.push(`</div><div class="sub">${esc(data.platform.description)}</div>`);
  const err = b?.error;
  if (err)
    out.push(
      `<div class="banner" id="boot-error"><b>boot refused at ${esc(err.step ?? "?")}: ${esc(err.code)}</b>${err.field ? ` (<code>${esc(err.field)}</code>)` : ""}<br>${esc(err.message)}${
        err.segment ? `<br>segment ${err.segment.index}: da ${hx(err.segment.da)} memsz ${hx(err.segment.memsz)}, drawn in red on the PT_LOAD lane against the window it missed` : ""
      }</div>`,
    );
  return out.join("");
}

const LEGEND: [string, string][] = [
  ["#e9e1f5", "translation window"],
  ["#bcd7f2", "PT_LOAD segment"],
  ["#f6f1e1", "zero-filled tail (hatched)"],
  ["#c7ebd1", "carveout allocated"],
  ["#fff", "carveout registered (dashed)"],
  ["#f5d99b", "resource table"],
  ["#e2d5f7", "trace buffer"],
  ["#9ed6db", "vring desc/avail/used"],
  ["#d5eec0", "rpmsg RX"],
  ["#f2e2c0", "rpmsg TX"],
  ["#3c3f58", "TEE-owned region"],
  ["#f6c6c6", "refused"],
];

function mapSection(model: MapModel): string {
  const legend = LEGEND.map(([c, t]) => `<span><i style="background:${c}"></i>${t}</span>`).join("");
  return `<div class="scroll">${renderMapSvg(model)}</div><div class="legend">${legend}</div>`;
}

function diagnostics(model: MapModel): string {
  const all = [...model.lanes.flatMap((l) => l.diagnostics), ...model.unpinned];
  if (!all.length) return `<p class="sub">no diagnostics</p>`;
  return `<ul class="diags">${all
    .map((d) => `<li class="${esc(d.severity)}" data-lane="${esc(d.lane ?? "")}">${esc(d.severity)} <b>${esc(d.code)}</b> · lane <code>${esc(d.lane ?? "-")}</code> · field <code>${esc(d.path)}</code>: ${esc(d.message)}</li>`)
    .join("")}</ul>`;
}

function crashSection(data: PageData): string {
  const c = data.crash;
  if (!c) return "";
  const rows: [string, string][] = [
    ["crash", `${c.crash.type} (crash #${c.crash.crashCnt})${c.crash.injected ? ", injected" : ""}`],
    ["recovery", c.recovery],
    ["coredump", c.coredump],
    ["state", `${c.state}${c.expectedState ? ` (expected ${c.expectedState})` : ""}`],
  ];
  if (c.fault) rows.push(["fault", `${c.fault.kind} at pc ${c.fault.pc}${c.fault.address ? `, address ${c.fault.address}` : ""}: ${c.fault.message}`]);
  if (c.dump) rows.push(["dump", `${c.dump.mode}, ${c.dump.variant}, ${bytes(c.dump.size)}, ${c.dump.segments.length} segment(s) (coredump lane)`]);
  else if (c.noDump) rows.push(["dump", `none: ${c.noDump}`]);
  if (c.dump?.prstatus) rows.push(["registers", Object.entries(c.dump.prstatus).map(([k, v]) => `${k}=${v}`).join(" ")]);
  if (c.error) rows.push(["error", `${c.error.code}: ${c.error.message}`]);
  return `<h2>Crash</h2><table class="kv">${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join("")}</table>`;
}

function traces(data: PageData): string {
  const t = data.boot?.traces ?? [];
  if (!t.length) return `<p class="sub">no trace buffers</p>`;
  return t.map((x) => `<div class="sub">${esc(x.name)} · da ${hx(x.da)} · ${bytes(x.len)}</div><pre class="trace" data-name="${esc(x.name)}">${esc(x.text)}</pre>`).join("");
}

export function renderSections(data: PageData): Sections {
  const model = buildMapModel(data);
  const crashCnt = data.live?.crashCnt ?? data.crash?.crash.crashCnt ?? null;
  return {
    head: head(data),
    map: mapSection(model),
    diagnostics: diagnostics(model),
    states: renderStateMachine(stateOf(data), data.live ? data.live.power : null, crashCnt),
    crash: crashSection(data),
    traces: traces(data),
    timeline: renderTimeline(eventsOf(data)),
  };
}

export interface PageOptions {
  /** Live page: controls, the event stream, and a per-server token its commands must carry. */
  live?: { controls: string; token: string };
  title?: string;
}

export function renderPage(data: PageData, opts: PageOptions = {}): string {
  const s = renderSections(data);
  const live = opts.live;
  // A report reaches nothing outside itself; a live page talks only to the server that served it.
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:${live ? "; connect-src 'self'" : ""}; base-uri 'none'; form-action 'none'`;
  const title = opts.title ?? `rproc · ${data.platform.name} · ${data.boot?.processor ?? ""}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style></head>
<body data-live="${live ? "1" : "0"}" data-state="${esc(stateOf(data))}"${live ? ` data-token="${esc(live.token)}"` : ""}>
<header id="head">${s.head}</header>
<main>
${live ? `<section id="controls">${live.controls}</section>` : ""}
<h2>Memory map</h2>
<div id="map">${s.map}</div>
<h2>Diagnostics</h2>
<div id="diagnostics">${s.diagnostics}</div>
<h2>Lifecycle</h2>
<div id="states">${s.states}</div>
<div id="crash">${s.crash}</div>
<h2>Trace buffers</h2>
<div id="traces">${s.traces}</div>
${live ? `<h2>Live events</h2><ol class="timeline" id="live-events"></ol>` : ""}
<h2>Timeline of the kernel's steps</h2>
<div id="timeline">${s.timeline}</div>
</main>
<div id="tip"></div>
<script type="application/json" id="rproc-data">${jsonForScript(data)}</script>
<script>${CLIENT_JS}</script>
</body></html>
`;
}
