/**
 * The HTML report in a real browser (Debian's chromium through
 * playwright-core, one browser for the whole file): for each bundled
 * platform the page loads without console errors, its lanes and boxes are
 * the boot JSON's, hover shows the exact ranges, no two labels overlap; a
 * refused boot shows the segment that overflowed against the window it
 * missed; `rproc serve`'s buttons change the state shown and the library's
 * alike. Screenshots go to test-output/screenshots/ for a person to look at.
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { bootReport, type BootReport } from "../../src/report/boot.js";
import { Platform } from "../../src/platform/platform.js";
import { renderPage } from "../../src/web/page.js";
import { openRproc } from "../../src/drivers/registry.js";
import { RprocState } from "../../src/core/state.js";
import { LiveSession } from "../../src/web/live.js";
import { startServer } from "../../src/web/server.js";
import { chromiumPresent, launch, newPage, type Session } from "./browser.js";
import { imx8mpImage, stm32OverflowImage } from "./images.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SHOTS = join(ROOT, "test-output", "screenshots");
const FW = join(ROOT, "fixtures", "firmware");

const skip = !chromiumPresent() && !process.env.CI ? "chromium not installed (scripts/setup.sh installs it)" : false;
let session: Session;
let tmp: string;

before(async () => {
  if (skip) return;
  tmp = mkdtempSync(join(tmpdir(), "rproc-web-"));
  mkdirSync(SHOTS, { recursive: true });
  session = await launch();
});
after(async () => {
  if (skip) return;
  await session.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function open(name: string, platform: Platform, boot: BootReport): Promise<{ page: Page; errors: string[] }> {
  const file = join(tmp, `${name}.html`);
  writeFileSync(file, renderPage({ platform: platform.desc, boot }));
  const p = await newPage(session);
  await p.page.goto(`file://${file}`);
  return p;
}

interface Rect {
  text: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Every pair of label/tick/title boxes that intersect (a sweep over x-sorted rectangles). */
async function overlappingLabels(page: Page): Promise<string[]> {
  const rects: Rect[] = await page.$$eval("svg.memmap text.label, svg.memmap text.tick, svg.memmap text.lane-title, svg.states text", (els) =>
    els.map((e) => {
      const r = e.getBoundingClientRect();
      return { text: e.textContent ?? "", x: r.x, y: r.y, w: r.width, h: r.height };
    }),
  );
  assert.ok(rects.length > 10, `only ${rects.length} labels found`);
  rects.sort((a, b) => a.x - b.x);
  const bad: string[] = [];
  for (let i = 0; i < rects.length; i++) {
    const a = rects[i]!;
    for (let j = i + 1; j < rects.length && rects[j]!.x < a.x + a.w; j++) {
      const b = rects[j]!;
      if (b.y < a.y + a.h - 0.5 && a.y < b.y + b.h - 0.5 && b.x < a.x + a.w - 0.5) bad.push(`"${a.text}" / "${b.text}"`);
    }
  }
  return bad;
}

const hex = (v: number): string => "0x" + v.toString(16);

async function boxRange(page: Page, key: string): Promise<{ start: string; end: string; cls: string } | null> {
  return page.$eval(`g.box[data-key="${key}"]`, (g) => ({ start: g.getAttribute("data-start")!, end: g.getAttribute("data-end")!, cls: g.getAttribute("class")! })).catch(() => null);
}

const CASES: { platform: string; firmware: string | (() => Uint8Array) }[] = [
  { platform: "stm32mp157", firmware: join(FW, "stm32mp15-m4.elf") },
  { platform: "stm32mp157-firewall", firmware: join(FW, "stm32mp15-m4.elf") },
  { platform: "am64x", firmware: join(FW, "am64x-r5f-nodevmem.elf") },
  { platform: "imx8mp", firmware: imx8mpImage },
];

test("each bundled platform: no console errors, boxes = boot JSON, hover ranges, no overlapping labels, screenshot", { skip }, async () => {
  for (const c of CASES) {
    const platform = Platform.load(c.platform);
    let firmware = c.firmware;
    if (typeof firmware !== "string") {
      const f = join(tmp, `${c.platform}.elf`);
      writeFileSync(f, firmware());
      firmware = f;
    }
    const boot = await bootReport({ platform, firmware });
    assert.equal(boot.error, null, `${c.platform}: ${boot.error?.message}`);
    const { page, errors } = await open(c.platform, platform, boot);
    for (const s of boot.segments) {
      assert.deepEqual(await boxRange(page, `segment:${s.index}`), { start: hex(s.da), end: hex(s.da + s.memsz), cls: "box segment" }, `${c.platform} segment ${s.index}`);
      assert.equal((await boxRange(page, `pa-segment:${s.index}`))?.start, hex(s.pa));
      assert.equal(await page.locator(`g.box[data-key="segment:${s.index}"] rect.tail`).count(), s.memsz > s.filesz ? 1 : 0, "zero-filled tail hatched");
    }
    for (const cv of boot.carveouts) {
      const b = await boxRange(page, `carveout:${cv.name}`);
      assert.deepEqual(b, { start: hex(cv.da), end: hex(cv.da + cv.len), cls: `box carveout ${cv.allocated ? "allocated" : "registered"}` }, `${c.platform} carveout ${cv.name}`);
    }
    for (const [v, vd] of boot.vdevs.entries())
      for (const [r, q] of vd.vrings.entries()) {
        assert.equal((await boxRange(page, `vring:${v}.${r}.desc`))?.start, hex(q.da));
        assert.equal((await boxRange(page, `vring:${v}.${r}.used`))?.start, hex(q.da + q.layout.used));
      }
    for (const r of platform.desc.regions) assert.equal((await boxRange(page, `region:${r.name}`))?.start, hex(r.pa));
    const lanes = await page.$$eval("svg.memmap g.lane", (ls) => ls.map((l) => l.getAttribute("data-lane")));
    for (const want of ["windows", "segments", "carveouts", "regions", "pools", ...(boot.vdevs.length ? ["vrings"] : []), ...(boot.traces.length ? ["trace"] : [])])
      assert.ok(lanes.includes(want), `${c.platform}: lane ${want} in ${lanes.join(",")}`);
    assert.equal(await page.locator(`#states g.state.current`).getAttribute("data-state"), boot.state);

    // Hover: the first segment's exact range.
    const s0 = boot.segments[0]!;
    await page.locator(`g.box[data-key="segment:${s0.index}"] rect`).first().hover();
    const tip = await page.locator("#tip").textContent();
    assert.ok(tip?.includes(`da ${hex(s0.da)}–${hex(s0.da + s0.memsz - 1)}`), `${c.platform} hover: ${tip}`);
    assert.deepEqual(await overlappingLabels(page), [], `${c.platform}: overlapping labels`);
    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(SHOTS, `${c.platform}.png`), fullPage: true });
    assert.deepEqual(errors, [], `${c.platform}: console errors`);
    await page.close();
  }
});

test("a refused boot shows the overflowing segment against the window it missed", { skip }, async () => {
  const platform = Platform.load("stm32mp157");
  const f = join(tmp, "overflow.elf");
  writeFileSync(f, stm32OverflowImage());
  const boot = await bootReport({ platform, firmware: f });
  assert.equal(boot.error?.segment?.index, 1);
  const { page, errors } = await open("refused", platform, boot);
  const seg = await boxRange(page, "failed-segment:1");
  assert.deepEqual(seg, { start: hex(0x10050000), end: hex(0x10070000), cls: "box failed" });
  const missed = await page.$$eval("g.box.missed", (gs) => gs.map((g) => g.getAttribute("data-tip")!.split("\n")[0]));
  assert.deepEqual(missed, ["mcu-sram-code-bus"]);
  assert.match((await page.locator("#boot-error").textContent()) ?? "", /refused at load: EINVAL.*segment 1/s);
  assert.equal(await page.locator('g.diag-pin[data-lane="segments"]').count(), 1, "the error is pinned to the PT_LOAD lane");
  assert.deepEqual(await overlappingLabels(page), []);
  await page.screenshot({ path: join(SHOTS, "refused-boot.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("rproc serve: the buttons change the state shown and the library's state alike; events stream in; the dump downloads", { skip }, async () => {
  const platform = Platform.load("stm32mp157");
  const rproc = await openRproc(platform, "m4", { firmware: join(FW, "stm32mp15-m4.elf") });
  const live = new LiveSession(rproc, platform.desc, "sim");
  const server = await startServer(live, { port: 0 });
  const { page, errors } = await newPage(session);
  try {
    await page.goto(server.url);
    await page.waitForSelector("body[data-connected='1']");
    const click = async (cmd: string, arg?: string): Promise<void> => {
      const sel = arg === undefined ? `button[data-cmd="${cmd}"]` : `button[data-cmd="${cmd}"][data-arg="${arg}"]`;
      await page.locator(sel).click();
      await page.locator("#cmd-status", { hasText: new RegExp(`^${cmd}: `) }).waitFor();
    };
    const shown = async (state: string): Promise<void> => {
      await page.waitForSelector(`body[data-state='${state}'] #states g.state.current[data-state='${state}']`);
    };
    await click("start");
    await shown("running");
    assert.equal(rproc.state, RprocState.RUNNING);
    assert.ok((await page.locator('g.box[data-key="segment:0"]').count()) === 1, "the map shows the loaded segments");
    assert.match((await page.locator("#traces pre.trace").textContent()) ?? "", /started at 0x41/);
    await click("coredump", "enabled");
    await click("crash", "watchdog");
    // Recovery enabled: crashed, dumped, running again; the crash count shows.
    await page.locator("#states .state-facts", { hasText: "crashes: 1" }).waitFor();
    await shown("running");
    assert.equal(rproc.state, RprocState.RUNNING);
    assert.ok((await page.locator('#live-events li[data-step="rproc_crash_handler_work"]').count()) >= 1, "crash work streamed as events");
    const dump = await page.evaluate(async () => {
      const r = await fetch("/dump");
      const b = new Uint8Array(await r.arrayBuffer());
      return { status: r.status, magic: Array.from(b.slice(0, 4)), disposition: r.headers.get("content-disposition") };
    });
    assert.deepEqual(dump.magic, [0x7f, 0x45, 0x4c, 0x46]);
    assert.match(dump.disposition ?? "", /attachment; filename="m4-core-1\.elf"/);
    await click("recovery", "disabled");
    await click("crash", "mmufault");
    await shown("crashed");
    assert.equal(rproc.state, RprocState.CRASHED);
    await click("recovery", "recover");
    await shown("running");
    assert.equal(rproc.state, RprocState.RUNNING);
    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(SHOTS, "serve-live.png"), fullPage: true });
    await click("stop");
    await shown("offline");
    assert.equal(rproc.state, RprocState.OFFLINE);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
    await server.close();
    await live.close();
  }
});
