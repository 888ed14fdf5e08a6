import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Platform } from "../../src/platform/platform.js";
import { RprocState } from "../../src/core/state.js";
import { RprocError } from "../../src/errors.js";
import { fixture, forward, makeRproc, platformVariant, tempFirmware, unwind } from "../harness/setup.js";
import { leftovers } from "../harness/fault.js";
import { am64xTestImage, buildElf32, buildRscTable } from "../harness/elf-build.js";

const BOOT_ORDER = [
  "rproc_boot", "request_firmware", "sanity_check", "enable_iommu", "prepare", "get_boot_addr", "parse_fw",
  "handle_resources", "alloc_registered_carveouts", "rproc_start", "load", "find_loaded_rsc_table",
  "prepare_subdevices", "start", "start_subdevices",
];
const SHUTDOWN_ORDER = ["rproc_shutdown", "rproc_stop", "stop_subdevices", "reset_rsc_table_on_stop", "stop", "unprepare_subdevices"];
const SHUTDOWN_UNWIND = ["resource_cleanup", "unprepare", "disable_iommu", "free_cached_table"];

async function rejects(p: Promise<unknown>, code: string, step: string): Promise<RprocError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof RprocError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.step, step, e.message);
    return e;
  }
  assert.fail("expected a failure");
}

test("stm32mp15 M4 fixture boots in the kernel's step order with every address resolved", async () => {
  const { rproc, events } = makeRproc(Platform.load("stm32mp157"), fixture("stm32mp15-m4.elf"));
  await rproc.boot();
  assert.equal(rproc.state, RprocState.RUNNING);
  assert.equal(rproc.power, 1);
  assert.deepEqual(forward(events), BOOT_ORDER);
  // driver-registered memory regions (stm32_rproc), vrings found by name
  assert.deepEqual(rproc.carveouts.map((c) => c.name), ["retram", "mcuram", "mcuram2", "vdev0vring0", "vdev0vring1", "vdev0buffer"]);
  const retram = rproc.carveouts[0]!;
  assert.equal(retram.da, 0);
  assert.equal(retram.va?.pa, 0x38000000);
  // vring da written by find_vqs after start, notify ids 0 and 1
  const t = rproc.tablePtr!;
  assert.ok(!(t instanceof Uint8Array), "table in effect is the loaded one in device memory");
  const v = rproc.rvdevs[0]!;
  assert.deepEqual(v.vrings.map((r) => r.notifyid), [0, 1]);
  assert.equal(t.u32(v.rscOffset + 24), 0x10040000);
  assert.equal(t.u32(v.rscOffset + 24 + 20), 0x10041000);
  assert.equal(t.read(v.rscOffset + 20, 1)[0], 7); // ACKNOWLEDGE|DRIVER|DRIVER_OK
  assert.match(rproc.traceText(0), /rproc-sim.*started at 0x41/);
  assert.deepEqual(rproc.diagnostics, []);
  events.length = 0;
  await rproc.shutdown();
  assert.deepEqual(forward(events), SHUTDOWN_ORDER);
  assert.deepEqual(unwind(events), SHUTDOWN_UNWIND);
  assert.equal(rproc.state, RprocState.OFFLINE);
  assert.equal(rproc.tableSz, 0);
  assert.deepEqual(leftovers(rproc, []), []);
});

test("boot is refcounted: later users only count, only the last shutdown stops", async () => {
  const { rproc, events } = makeRproc(Platform.load("stm32mp157"), fixture("stm32mp15-m4.elf"));
  await rproc.boot();
  await rproc.boot();
  assert.equal(rproc.power, 2);
  assert.equal(forward(events).filter((s) => s === "start").length, 1);
  await rproc.shutdown();
  assert.equal(rproc.state, RprocState.RUNNING);
  await rproc.shutdown();
  assert.equal(rproc.state, RprocState.OFFLINE);
  await rejects(rproc.shutdown(), "EINVAL", "rproc_shutdown");
  assert.deepEqual(leftovers(rproc, events), []);
});

test("second start is as fresh as the first (user problem #4)", async () => {
  const { rproc, events } = makeRproc(Platform.load("stm32mp157"), fixture("stm32mp15-m4.elf"));
  await rproc.boot();
  const first = rproc.tablePtr instanceof Uint8Array ? null : rproc.tablePtr!.read(0, rproc.tableSz);
  await rproc.shutdown();
  await rproc.boot();
  const second = rproc.tablePtr instanceof Uint8Array ? null : rproc.tablePtr!.read(0, rproc.tableSz);
  assert.deepEqual(second, first);
  await rproc.shutdown();
  assert.deepEqual(leftovers(rproc, events), []);
});

test("am64x: devmem R5 image is refused at handle_resources with EINVAL (no IOMMU)", async () => {
  const { rproc, events } = makeRproc(Platform.load("am64x"), fixture("am64x-r5f.elf"));
  const e = await rejects(rproc.boot(), "EINVAL", "handle_resources");
  assert.match(e.message, /entry 2.*IOMMU/);
  assert.equal(rproc.state, RprocState.OFFLINE);
  assert.equal(rproc.power, 0);
  // clean_up_resources → unprepare_rproc → disable_iommu
  assert.deepEqual(unwind(events), ["resource_cleanup", "free_cached_table", "unprepare", "disable_iommu"]);
  assert.deepEqual(leftovers(rproc, events), []);
});

test("big-endian image: EINVAL at sanity_check; no table: EINVAL at parse_fw", async () => {
  const p = Platform.load("am64x");
  const be = makeRproc(p, fixture("bigendian.elf"));
  const e1 = await rejects(be.rproc.boot(), "EINVAL", "sanity_check");
  assert.match(e1.message, /Unsupported firmware endianness/);
  assert.deepEqual(unwind(be.events), []);
  const nt = makeRproc(p, fixture("no-rsc-table.elf"));
  await rejects(nt.rproc.boot(), "EINVAL", "parse_fw");
  // parse_fw failure enters the ladder at unprepare_rproc
  assert.deepEqual(unwind(nt.events), ["unprepare", "disable_iommu"]);
  assert.deepEqual(leftovers(nt.rproc, nt.events), []);
});

test("am64x: ADDR_ANY carveout and vrings come from the DMA pool; addresses written back", async () => {
  const p = Platform.load("am64x");
  const { rproc, events } = makeRproc(p, tempFirmware(am64xTestImage()));
  await rproc.boot();
  const pool = p.pool(p.processor().dmaPool!)!;
  const scratch = rproc.carveouts.find((c) => c.name === "scratch")!;
  assert.equal(scratch.da, scratch.pa);
  assert.ok(scratch.pa! >= pool.pa && scratch.pa! < pool.pa + pool.size);
  const t = rproc.tablePtr!;
  assert.ok(!(t instanceof Uint8Array));
  // carveout write-back: pa, da, len
  assert.equal(t.u32(scratch.rscOffset + 4), scratch.pa);
  assert.equal(t.u32(scratch.rscOffset + 0), scratch.da);
  const v = rproc.rvdevs[0]!;
  for (const r of v.vrings) {
    const mem = rproc.carveouts.find((c) => c.name === `vdev0vring${r.index}`)!;
    assert.equal(mem.len, 12288); // PAGE_ALIGN(vring_size(256, 4096))
    assert.equal(t.u32(v.rscOffset + 24 + 20 * r.index), mem.da);
    assert.notEqual(mem.da, 0xffffffff);
  }
  await rproc.shutdown();
  assert.deepEqual(leftovers(rproc, events), []);
});

test("quirk: an ignored vendor entry that is the last entry fails the boot with 'Failed to process resources: 1'", async () => {
  const p = Platform.load("am64x");
  const img = am64xTestImage([{ type: "raw", typeId: 130, body: new Uint8Array(8) }]);
  const { rproc, events } = makeRproc(p, tempFirmware(img));
  const e = await rejects(rproc.boot(), "EINVAL", "handle_resources");
  assert.match(e.message, /Failed to process resources: 1/);
  assert.equal(e.value, 1);
  assert.deepEqual(leftovers(rproc, events), []);
  // the same vendor entry followed by a standard one boots
  const img2 = am64xTestImage([{ type: "raw", typeId: 130, body: new Uint8Array(8) }, { type: "trace", da: 0xa0111000, len: 0x100, name: "t2" }]);
  const ok = makeRproc(p, tempFirmware(img2));
  await ok.rproc.boot();
  assert.ok(ok.rproc.diagnostics.some((d) => d.code === "unsupported-vendor-resource"));
  await ok.rproc.shutdown();
});

test("a segment the core cannot address: EINVAL 'bad phdr da' naming the region and the overflow", async () => {
  const p = Platform.load("am64x");
  const table = buildRscTable([{ type: "trace", da: 0xa0110000, len: 0x100, name: "log" }]);
  const img = buildElf32({
    entry: 0,
    segments: [{ paddr: 0x0, data: new Uint8Array(0x10), memsz: 0x8000 + 100 }, { paddr: 0xa0100000, data: table }],
    sections: [{ name: ".resource_table", addr: 0xa0100000, data: table }],
  });
  const { rproc, events } = makeRproc(p, tempFirmware(img));
  const e = await rejects(rproc.boot(), "EINVAL", "load");
  assert.match(e.message, /bad phdr da 0x0 mem 0x8064: segment 0 .*atcm.*overflows it by 100 bytes/);
  assert.equal(e.field, "programHeaders[0].p_paddr");
  assert.deepEqual(unwind(events), ["resource_cleanup", "free_cached_table", "unprepare", "disable_iommu"]);
  assert.deepEqual(leftovers(rproc, events), []);
});

test("fixed-da carveout the DMA allocation cannot honour is a warning (diagnostic), as in the kernel", async () => {
  const p = Platform.load("am64x");
  const img = am64xTestImage([{ type: "carveout", da: 0x12340000, len: 0x1000, name: "fixed" }]);
  const { rproc } = makeRproc(p, tempFirmware(img));
  await rproc.boot();
  assert.ok(rproc.diagnostics.some((d) => d.code === "carveout-da-mismatch" && /0x12340000/.test(d.message)));
  await rproc.shutdown();
});

test("e_machine differing from the core is a warning only", async () => {
  const p = Platform.load("am64x");
  const table = buildRscTable([{ type: "trace", da: 0xa0110000, len: 0x100, name: "log" }]);
  const img = buildElf32({ entry: 0, machine: 183, segments: [{ paddr: 0xa0100000, data: table }], sections: [{ name: ".resource_table", addr: 0xa0100000, data: table }] });
  const { rproc } = makeRproc(p, tempFirmware(img));
  await rproc.boot();
  assert.ok(rproc.diagnostics.some((d) => d.code === "elf-machine-mismatch"));
  await rproc.shutdown();
});

test("request_firmware: ENOENT lists where it looked", async () => {
  const { rproc } = makeRproc(Platform.load("am64x"), "no-such-fw");
  const e = await rejects(rproc.boot(), "ENOENT", "request_firmware");
  assert.match(e.message, /Direct firmware load for no-such-fw failed with error -2.*platforms\/no-such-fw.*\/lib\/firmware\/no-such-fw/);
  assert.equal(rproc.power, 0);
});

test("attach/detach: a processor started by an earlier boot stage", async () => {
  const p = platformVariant("stm32mp157", { initiallyRunning: true, firmware: fixture("stm32mp15-m4.elf") });
  const { rproc, events } = makeRproc(p, fixture("stm32mp15-m4.elf"));
  assert.equal(rproc.state, RprocState.DETACHED);
  await rproc.boot();
  assert.equal(rproc.state, RprocState.ATTACHED);
  assert.deepEqual(forward(events), [
    "rproc_boot", "enable_iommu", "prepare", "set_rsc_table", "handle_resources", "alloc_registered_carveouts",
    "__rproc_attach", "prepare_subdevices", "attach", "start_subdevices",
  ]);
  const live = rproc.tablePtr!;
  assert.ok(!(live instanceof Uint8Array));
  const pristine = rproc.cleanTable!;
  assert.notDeepEqual(live.read(0, rproc.tableSz), pristine, "the live table got notify ids and vring addresses");
  await rproc.detach();
  assert.equal(rproc.state, RprocState.DETACHED);
  assert.deepEqual(live.read(0, pristine.length), pristine, "detach restores the pristine table");
  assert.deepEqual(leftovers(rproc, events), []);
  await rproc.boot();
  await rproc.shutdown();
  assert.equal(rproc.state, RprocState.OFFLINE);
  assert.deepEqual(leftovers(rproc, events), []);
});

test("a waiting boot aborted by its signal fails with EINTR and does not count", async () => {
  const { rproc } = makeRproc(Platform.load("stm32mp157"), fixture("stm32mp15-m4.elf"));
  const unlock = await rproc.lock.lock();
  const ac = new AbortController();
  const p = rproc.boot({ signal: ac.signal });
  ac.abort();
  await rejects(p, "EINTR", "rproc_boot");
  unlock();
  assert.equal(rproc.power, 0);
  await assert.rejects(rproc.setFirmware("x", { signal: AbortSignal.abort() }), (e: unknown) => e instanceof RprocError && e.code === "EINVAL");
});

test("devmem on a processor behind an IOMMU: mapped (with the fixed-da carveout), unmapped at shutdown", async () => {
  const p = platformVariant("am64x", { hasIommu: true });
  const { rproc, events } = makeRproc(p, fixture("am64x-r5f.elf"));
  await rproc.boot();
  assert.equal(rproc.state, RprocState.RUNNING);
  // main UART0 devmem, then the fixed-da r5f-dma-pool carveout mapped at its da (no da-mismatch warning)
  assert.deepEqual(rproc.mappings, [{ da: 0x02800000, len: 0x1000 }, { da: 0xa0000000, len: 0x40000 }]);
  assert.ok(!rproc.diagnostics.some((d) => d.code === "carveout-da-mismatch"));
  await rproc.shutdown();
  assert.deepEqual(unwind(events).slice(-4), SHUTDOWN_UNWIND);
  const kinds = events.filter((e) => e.step === "release").map((e) => String(e.args?.kind));
  assert.equal(kinds.filter((k) => k === "mapping").length, 2);
  assert.equal(kinds.filter((k) => k === "iommu_domain").length, 1);
  assert.deepEqual(leftovers(rproc, events), []);
});

test("am64x: the R5F fixture without devmem lands where a board puts it (dma_alloc_coherent order rounding)", async () => {
  const { rproc, events } = makeRproc(Platform.load("am64x"), fixture("am64x-r5f-nodevmem.elf"));
  await rproc.boot();
  const at = Object.fromEntries(rproc.carveouts.map((c) => [c.name, [c.da, c.pa, c.len]]));
  assert.deepEqual(at, {
    "r5f-dma-pool": [0xa0000000, 0xa0000000, 0x40000],
    "r5f-scratch": [0xa0040000, 0xa0040000, 0x10000],
    // vring_size(256, 4096) = 0x2806 -> PAGE_ALIGN 0x3000 -> order 2: each vring takes 0x4000 of the pool
    vdev0vring0: [0xa0050000, 0xa0050000, 0x3000],
    vdev0vring1: [0xa0054000, 0xa0054000, 0x3000],
  });
  // the table the firmware reads has them, with the notify ids the idr gives (0, 1: lowest free)
  const t = rproc.tablePtr!;
  assert.ok(!(t instanceof Uint8Array));
  const v = rproc.rvdevs[0]!;
  assert.deepEqual([t.u32(v.rscOffset + 24), t.u32(v.rscOffset + 24 + 12)], [0xa0050000, 0]);
  assert.deepEqual([t.u32(v.rscOffset + 44), t.u32(v.rscOffset + 44 + 12)], [0xa0054000, 1]);
  await rproc.shutdown();
  assert.deepEqual(leftovers(rproc, events), []);
});

test("DMA memory comes back zeroed on the next boot, as dma_alloc_coherent returns it", async () => {
  const p = Platform.load("am64x");
  const { rproc } = makeRproc(p, tempFirmware(am64xTestImage()));
  await rproc.boot();
  const scratch = rproc.carveouts.find((c) => c.name === "scratch")!;
  const pa = scratch.pa!;
  scratch.va!.fill(0, scratch.len, 0x5a); // what the firmware left there
  await rproc.shutdown();
  await rproc.boot();
  const again = rproc.carveouts.find((c) => c.name === "scratch")!;
  assert.equal(again.pa, pa);
  assert.deepEqual(again.va!.read(0, 16), new Uint8Array(16));
  await rproc.shutdown();
});

test("notify ids are the lowest free ones (idr_alloc), reused after a vdev whose probe failed gave its id back", async () => {
  // stm32mp157 registers vdev0vring0/1 (0x1000 each); let vdev1's vrings come from the vdev0buffer pool
  const p = platformVariant("stm32mp157", { dmaPool: "vdev0buffer" });
  const table = buildRscTable([
    // vdev0: vring0 fits its registered carveout (id 0), vring1 needs 0x3000 > 0x1000: probe fails, id 0 is freed
    { type: "vdev", id: 7, vrings: [{ da: 0xffffffff, align: 16, num: 16 }, { da: 0xffffffff, align: 4096, num: 256 }] },
    { type: "vdev", id: 7, vrings: [{ da: 0xffffffff, align: 16, num: 16 }, { da: 0xffffffff, align: 16, num: 16 }] },
  ]);
  const img = buildElf32({ entry: 0x10000000, segments: [{ paddr: 0x10000000, data: table }], sections: [{ name: ".resource_table", addr: 0x10000000, data: table }] });
  const { rproc, events } = makeRproc(p, tempFirmware(img));
  await rproc.boot();
  assert.ok(rproc.diagnostics.some((d) => d.code === "vdev-probe-failed"));
  assert.deepEqual(rproc.rvdevs.map((v) => v.index), [1], "vdev1 keeps index 1: nb_vdev counted the failed one");
  assert.deepEqual(rproc.rvdevs[0]!.vrings.map((r) => r.notifyid), [0, 1], "lowest free ids, not max + 1");
  const t = rproc.tablePtr!;
  assert.ok(!(t instanceof Uint8Array));
  const v0 = 16 + 4 * 2 + 4; // body of the first vdev entry
  // rproc_free_vring reset vdev0's vring0 in the table: da 0, notifyid -1
  assert.deepEqual([t.u32(v0 + 24), t.u32(v0 + 24 + 12)], [0, 0xffffffff]);
  await rproc.shutdown();
  assert.deepEqual(leftovers(rproc, events), []);
});

test("a waiting shutdown or detach aborted by its signal fails with EINTR and keeps its reference", async () => {
  const p = platformVariant("stm32mp157", { initiallyRunning: true, firmware: fixture("stm32mp15-m4.elf") });
  const { rproc } = makeRproc(p, fixture("stm32mp15-m4.elf"));
  await rproc.boot();
  const calls: [string, (s: AbortSignal) => Promise<void>][] = [
    ["rproc_shutdown", (s) => rproc.shutdown({ signal: s })],
    ["rproc_detach", (s) => rproc.detach({ signal: s })],
  ];
  for (const [step, call] of calls) {
    const unlock = await rproc.lock.lock();
    const ac = new AbortController();
    const pending = call(ac.signal);
    ac.abort();
    await rejects(pending, "EINTR", step);
    unlock();
    assert.equal(rproc.power, 1);
    assert.equal(rproc.state, RprocState.ATTACHED);
  }
  await rproc.detach();
  assert.equal(rproc.state, RprocState.DETACHED);
});
