// Real images boot, or are refused, as SOURCES.md (fixtures/real-firmware) says
// the board's kernel driver does; the driver rules come from each platform's
// driverModel (issue 10 items 2, 3, 4, 8).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Platform } from "../../src/platform/platform.js";
import { createRproc } from "../../src/drivers/registry.js";
import { RprocState } from "../../src/core/state.js";
import { tableU32 } from "../../src/core/table.js";
import { runCommand } from "../../src/cli/command.js";
import { command as crashCommand } from "../../src/cli/commands/crash.js";
import type { CliIO } from "../../src/cli/io.js";
import type { Rproc } from "../../src/core/rproc.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const REAL = join(ROOT, "fixtures/real-firmware");
const FW = join(ROOT, "fixtures/firmware");

function make(platform: string, firmware: string, dir: string): Rproc {
  return createRproc(Platform.load(platform), undefined, { firmware, searchPath: [dir] });
}

async function bootError(r: Rproc): Promise<Error & { code?: string }> {
  try {
    await r.boot();
  } catch (e) {
    return e as Error & { code?: string };
  }
  assert.fail("the boot was expected to fail");
}

test("ti/am64-main-r5f0_0-fw boots on am64x: vrings from the DMA pool, trace in r5f-memory, recovery disabled by the driver", async () => {
  const r = make("am64x", "am64-main-r5f0_0-fw", join(REAL, "ti"));
  assert.equal(r.recoveryDisabled, true, "ti_k3_r5 sets recovery_disabled");
  await r.boot();
  assert.equal(r.state, RprocState.RUNNING);
  const vrings = r.rvdevs.flatMap((v) => v.vrings.map((x) => r.carveouts.find((c) => c.name === `vdev${v.index}vring${x.index}`)!));
  assert.deepEqual(vrings.map((c) => [c.da, c.len]), [[0xa0000000, 0x3000], [0xa0004000, 0x3000]]);
  assert.deepEqual(r.traces.map((t) => [t.name, t.da, t.len]), [["trace0", 0xa0106080, 0x1000]]);
  await r.shutdown();
});

test("derived seg2-in-dma-pool image is refused by ti_k3_r5: the DMA pool (memory-region 0) is not in its da_to_va", async () => {
  const r = make("am64x", "am64-main-r5f0_0-fw.seg2-in-dma-pool.elf", join(REAL, "derived"));
  const e = await bootError(r);
  assert.equal(e.code, "EINVAL");
  assert.match(e.message, /^bad phdr da 0xa0050000 mem 0x14d80: /);
  assert.match(e.message, /memory-region 0, r5f-dma-memory@a0000000: the DMA pool\), which ti_k3_r5 does not map; it maps: atcm 0x0\+0x8000, .*r5f-memory@a0100000 0xa0100000\+0xf00000/);
  assert.doesNotMatch(e.message, /-\d|0x-/, "never a negative size");
  assert.equal(r.state, RprocState.OFFLINE);
});

test("st/ images boot on stm32mp157 as SOURCES.md says (RETRAM + mcuram2, vrings from the DT carveouts, trace)", async () => {
  const multi = make("stm32mp157", "stm32mp157c-dk2_rpmsg_multi_services.elf", join(REAL, "st"));
  await multi.boot();
  assert.equal(multi.state, RprocState.RUNNING);
  const vq = multi.rvdevs[0]!.vrings.map((x) => x.vq?.da);
  assert.deepEqual(vq, [0x10040000, 0x10041000]);
  assert.deepEqual(multi.traces.map((t) => [t.name, t.da, t.len]), [["trace0", 0x10000955, 0x401]]);
  await multi.shutdown();
  const hello = make("stm32mp157", "stm32mp157c-dk2_zephyr-hello.elf", join(REAL, "st"));
  await hello.boot();
  assert.equal(hello.state, RprocState.RUNNING);
  assert.equal(hello.rvdevs.length, 0);
  assert.equal(hello.traces.length, 1);
  await hello.shutdown();
});

test("no resource table: stm32_rproc warns and boots; ti_k3_r5 refuses as rproc_elf_load_rsc_table does", async () => {
  const st = make("stm32mp157", "stm32mp157c-dk2_zephyr-hello.no-rsc-table.elf", join(REAL, "derived"));
  await st.boot();
  assert.equal(st.state, RprocState.RUNNING);
  assert.ok(st.diagnostics.some((d) => d.code === "no-resource-table" && /stm32_rproc boots it without one/.test(d.message)));
  assert.equal(st.tablePtr, null);
  await st.shutdown();
  const k3 = make("am64x", "no-rsc-table.elf", FW);
  const e = await bootError(k3);
  assert.equal(e.code, "EINVAL");
  assert.match(e.message, /no \.resource_table section/);
});

test("imx8mp: an NXP-layout TCM image (all PT_LOAD in ITCM, .data LMA != VMA) boots; the table goes to the rsc-table region", async () => {
  const platform = Platform.load("imx8mp");
  const r = createRproc(platform, undefined, { firmware: "imx8mp-m7-tcm.elf", searchPath: [FW] });
  const loads: Record<string, unknown>[] = [];
  r.events.on((e) => void (e.step === "load_segment" && loads.push(e.args!)));
  await r.boot();
  assert.equal(r.state, RprocState.RUNNING);
  assert.deepEqual(loads.map((a) => [a.da, a.pa, a.region]), [[0, 0x7e0000, "itcm"], [0x88, 0x7e0088, "itcm"]]);
  // imx_rproc_elf_find_loaded_rsc_table: the rsc-table memory-region, not the section address.
  assert.equal((r.tablePtr as { pa: number }).pa, 0x550ff000);
  assert.equal(tableU32(r.tablePtr!, 0), 1);
  assert.deepEqual(r.traces.map((t) => t.da), [0x20001000]);
  // imx_rproc_prepare skips vdev0buffer and rsc-table.
  assert.deepEqual(r.carveouts.map((c) => c.name), ["vdev0vring0", "vdev0vring1"]);
  await r.shutdown();
});

test("imx8mp: a segment outside the ATT_OWN windows is refused, naming the windows imx_rproc maps", async () => {
  const r = make("imx8mp", "stm32mp15-m4.elf", FW);
  const e = await bootError(r);
  // Its code fits ITCM (da 0); its data at 0x10000000 is the DDR code alias, which imx_rproc maps only through a memory-region.
  assert.match(e.message, /^bad phdr da 0x10000000 mem 0x490: segment 1 \(1168 bytes\) is in ddr-code \(da 0x10000000\+0xffe0000\), which imx_rproc does not map; it maps: itcm 0x0\+0x20000, dtcm 0x20000000\+0x20000, /);
});

async function crashCli(args: string[]): Promise<{ code: number; json: Record<string, unknown> }> {
  let out = "";
  const io: CliIO = { stdout: (t) => void (out += t), stderr: () => undefined, isTTY: false, cwd: ROOT, env: {} };
  const code = await runCommand(crashCommand, [...args, "--json"], io);
  return { code, json: JSON.parse(out) as Record<string, unknown> };
}

test("rproc crash: am64x defaults to recovery disabled (ti_k3_r5); imx8mp says why there is no dump (ELF class never set)", { timeout: 60_000 }, async () => {
  const k3 = await crashCli([join(REAL, "ti/am64-main-r5f0_0-fw"), "--platform", "am64x"]);
  assert.equal(k3.json.recovery, "disabled");
  assert.equal(k3.json.state, "crashed");
  assert.equal(k3.code, 0);
  const imx = await crashCli([join(FW, "imx8mp-m7-tcm.elf"), "--platform", "imx8mp"]);
  assert.equal(imx.json.recovery, "enabled");
  assert.match(JSON.stringify(imx.json), /never sets the coredump ELF class/);
  assert.doesNotMatch(JSON.stringify(imx.json), /registers no coredump segments/);
});
