import { test } from "node:test";
import * as assert from "node:assert/strict";
import { buildAxis, MIN_STRETCH } from "./axis.js";
import { esc, jsonForScript, rangeText } from "./escape.js";
import { assignColumns, buildMapModel, type MapBox } from "./map-model.js";
import { fitLabel } from "./map-svg.js";
import { renderPage } from "./page.js";
import { Platform } from "../platform/platform.js";
import type { BootReport } from "../report/boot.js";

test("escaping: HTML specials, control characters, and JSON that cannot close its script element", () => {
  assert.equal(esc(`<img src=x onerror="a('b')">&`), "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;");
  assert.equal(esc("a\u0000b\u001bc\nd"), "a\\x00b\\x1bc\nd");
  const j = jsonForScript({ name: "</script><!--x\u2028" });
  assert.ok(!j.includes("<") && !j.includes(">") && !j.includes("\u2028"));
  assert.deepEqual(JSON.parse(j), { name: "</script><!--x\u2028" });
  assert.equal(rangeText(0x10040000, 0x1000), "0x10040000–0x10040fff (4 KiB)");
});

test("axis: monotonic, a 4 KiB stretch readable next to 256 MiB, gaps collapsed", () => {
  const ax = buildAxis([
    { start: 0x10000000, end: 0x10001000 },
    { start: 0xc0000000, end: 0xd0000000 },
    { start: 0x10000000, end: 0x10040000 },
  ]);
  assert.ok(ax.y(0x10001000) - ax.y(0x10000000) >= MIN_STRETCH);
  const big = ax.y(0xd0000000) - ax.y(0xc0000000);
  assert.ok(big > MIN_STRETCH && big < 20 * MIN_STRETCH, `256 MiB is ${big}px`);
  let last = -1;
  for (let a = 0x0fff0000; a < 0xd0001000; a += 0x00fff123) {
    const y = ax.y(a);
    assert.ok(y >= last, `monotonic at ${a.toString(16)}`);
    last = y;
  }
  assert.equal(ax.stretches.filter((s) => !s.covered).length, 1);
});

test("overlapping boxes in one lane get side-by-side columns", () => {
  const mk = (key: string, start: number, size: number): MapBox => ({ key, lane: "l", space: "da", start, size, label: key, cls: "", tip: [] });
  const boxes = [mk("a", 0, 100), mk("b", 50, 100), mk("c", 200, 10), mk("d", 60, 10)];
  assignColumns(boxes);
  const by = Object.fromEntries(boxes.map((b) => [b.key, [b.col, b.cols]]));
  assert.deepEqual(by, { a: [0, 3], b: [1, 3], d: [2, 3], c: [0, 1] });
});

test("labels are clipped to their box", () => {
  assert.equal(fitLabel("vdev0buffer", 200), "vdev0buffer");
  assert.equal(fitLabel("mcu-sram-code-bus", 60).length, 8);
  assert.ok(fitLabel("mcu-sram-code-bus", 60).endsWith("…"));
  assert.equal(fitLabel("x", 10), "");
});

function hostileReport(): BootReport {
  const evil = `<script>alert(1)</script>`;
  return {
    platform: "stm32mp157",
    processor: "m4",
    firmware: `fw${evil}.elf`,
    state: "running",
    bootAddress: 0x41,
    segments: [{ index: 0, da: 0, pa: 0x38000000, filesz: 0x10, memsz: 0x100, region: evil }],
    carveouts: [{ name: `c${evil}`, da: 0x10000000, pa: 0x10000000, len: 0x1000, allocated: false }],
    traces: [{ name: `t${evil}`, da: 0x10000100, len: 0x100, text: `hello ${evil} </pre><img src=x onerror=alert(2)>` }],
    vdevs: [],
    resourceTable: null,
    devmem: [],
    diagnostics: [{ severity: "warning", code: "name-not-terminated", path: "carveouts[0].name", message: `name ${evil}` }],
    events: [{ seq: 1, rproc: "m4", step: "rproc_boot", phase: "begin", args: { name: evil } }],
    error: null,
    finalState: "offline",
  };
}

test("a report escapes every firmware string (names, trace text, event arguments, diagnostics)", () => {
  const html = renderPage({ platform: Platform.load("stm32mp157").desc, boot: hostileReport() });
  // Exactly the page's own two script elements, no firmware-made markup.
  assert.equal(html.match(/<script/g)?.length, 2);
  assert.ok(!/<img/i.test(html));
  assert.ok(html.includes("hello &lt;script&gt;alert(1)&lt;/script&gt; &lt;/pre&gt;&lt;img src=x onerror=alert(2)&gt;"));
  assert.match(html, /Content-Security-Policy" content="default-src &#39;none&#39;/);
  assert.ok(!/https?:\/\//.test(html.replace(/http:\/\/www\.w3\.org\/2000\/svg/g, "")), "no network reference");
});

test("map model: diagnostics pinned to the lane of their path", () => {
  const m = buildMapModel({ platform: Platform.load("stm32mp157").desc, boot: hostileReport() });
  const carve = m.lanes.find((l) => l.id === "carveouts")!;
  assert.equal(carve.diagnostics.length, 1);
  assert.equal(m.lanes.find((l) => l.id === "segments")!.boxes[0]!.tailStart, 0x10);
});
