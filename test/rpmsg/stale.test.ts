// Start/stop/start: a changed firmware's table takes effect; a stale DRIVER_OK status is reported; the
// virtio device's config space and feature write-back.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Platform } from "../../src/platform/platform.js";
import { fixture, makeRproc, tempFirmware } from "../harness/setup.js";
import { attachRpmsg } from "../../src/rpmsg/host.js";
import { remoteServices, rpmsgRemoteBehaviour } from "../../src/rpmsg/remote/sim.js";
import { findSection, parseElf } from "../../src/formats/elf.js";
import { VDEV_OFF, VRING_OFF, VRING_SIZE } from "../../src/formats/resource-table.js";
import { RprocError } from "../../src/errors.js";

/** The stm32 fixture with its vdev (first table entry) patched. */
function patched(patch: (dv: DataView, vdevBody: number) => void): string {
  const bytes = new Uint8Array(readFileSync(fixture("stm32mp15-m4.elf")));
  const sh = findSection(parseElf(bytes), ".resource_table")!;
  const dv = new DataView(bytes.buffer, Number(sh.offset));
  patch(dv, dv.getUint32(16, true) + 4);
  return tempFirmware(bytes);
}

function setup(fw: string) {
  const behaviour = rpmsgRemoteBehaviour(remoteServices(["tty"]));
  const { rproc } = makeRproc(Platform.load("stm32mp157"), fw, { driver: "sim", driverOptions: { behaviour } });
  return { rproc, host: attachRpmsg(rproc) };
}

test("a second boot of a changed firmware uses its new table (vring num 16 → 8: 16 buffers, not 32)", async () => {
  const { rproc, host } = setup(fixture("stm32mp15-m4.elf"));
  await rproc.boot();
  assert.equal(host.bus(0)!.numBufs, 32);
  await rproc.shutdown();
  const small = patched((dv, v) => {
    for (let i = 0; i < 2; i++) dv.setUint32(v + VDEV_OFF.vrings + VRING_SIZE * i + VRING_OFF.num, 8, true);
  });
  await rproc.setFirmware(small);
  await rproc.boot();
  assert.equal(host.bus(0)!.numBufs, 16);
  assert.equal(host.bus(0)!.rvq.num, 8);
  const ch = await host.waitForChannel("rpmsg-tty", 2000);
  await host.endpointFor(ch).send(Uint8Array.of(1));
  await rproc.shutdown();
});

test("a table that says DRIVER_OK before the host registered the device is reported as stale and reset", async () => {
  const { rproc, host } = setup(patched((dv, v) => dv.setUint8(v + VDEV_OFF.status, 7)));
  await rproc.boot();
  const d = rproc.diagnostics.find((x) => x.code === "vdev-stale-status");
  assert.ok(d, "stale status reported");
  assert.match(d.message, /status is 0x7 \(DRIVER_OK\) before the virtio device is registered/);
  assert.ok(await host.waitForChannel("rpmsg-tty", 2000));
  await rproc.shutdown();
});

test("virtio device: gfeatures keep only what the driver knows; config space bounds as rproc_virtio_get/set", async () => {
  const fw = patched((dv, v) => dv.setUint32(v + VDEV_OFF.dfeatures, 1 | (1 << 5) | (1 << 29), true));
  const { rproc, host } = setup(fw);
  await rproc.boot();
  // With EVENT_IDX both sides use used_event/avail_event: the echo still flows, 100 times over.
  const ept = host.endpointFor(await host.waitForChannel("rpmsg-tty", 2000));
  for (let i = 0; i < 100; i++) {
    await ept.send(Uint8Array.of(i));
    assert.deepEqual([...(await ept.receive())!.data], [i]);
  }
  const vdev = rproc.rvdevs[0]!.virtio!;
  assert.equal(vdev.getFeatures(), 1 | (1 << 5) | (1 << 29));
  assert.equal(vdev.hasFeature(0), true);
  assert.equal(vdev.hasFeature(5), false, "a bit no driver knows is not acknowledged");
  assert.equal(vdev.hasFeature(29), true, "EVENT_IDX kept (vring_transport_features)");
  assert.throws(() => vdev.configGet(0, 1), (e: unknown) => e instanceof RprocError && /rproc_virtio_get: access out of bounds/.test(e.message));
  assert.throws(() => vdev.configSet(0, Uint8Array.of(1)), (e: unknown) => e instanceof RprocError && /rproc_virtio_set: access out of bounds/.test(e.message));
  await rproc.shutdown();
});
