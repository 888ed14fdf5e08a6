// The rpmsg host (virtio_rpmsg_bus) against the TypeScript remote models on the sim driver.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { simBoot } from "../harness/rpmsg.js";
import { RprocError } from "../../src/errors.js";
import { tableU32, tableU8 } from "../../src/core/table.js";
import { VDEV_OFF } from "../../src/formats/resource-table.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

test("boot: channel announced, bound to rpmsg_tty, echo answered; firmware saw status 0x7 at the first kick", async () => {
  const { rproc, host, behaviour } = await simBoot();
  const ch = await host.waitForChannel("rpmsg-tty", 2000);
  assert.equal(ch.id, "virtio0.rpmsg-tty.-1.1024");
  assert.equal(ch.driver, "rpmsg_tty");
  assert.equal(ch.src, 0x400);
  assert.equal(ch.dst, 0x400);
  assert.equal(behaviour.model()!.stats.statusAtFirstKick, 7, "DRIVER_OK before the first kick (mainline order)");
  const rvdev = rproc.rvdevs[0]!;
  assert.equal(tableU8(rproc.tablePtr!, rvdev.rscOffset + VDEV_OFF.status), 7);
  assert.equal(tableU32(rproc.tablePtr!, rvdev.rscOffset + VDEV_OFF.gfeatures), 1, "VIRTIO_RPMSG_F_NS written back");
  const ept = host.endpointFor(ch);
  await ept.send(enc("hello"));
  const m = await ept.receive();
  assert.equal(dec(m!.data), "hello");
  assert.equal(m!.src, 0x400);
  await rproc.shutdown();
  assert.equal(ept.closed, true, "shutdown removes the bus and its endpoints");
  assert.equal(host.channels().length, 0);
});

test("every payload size 0..496 echoes; 497 is EMSGSIZE; 1,000 messages in a row", async () => {
  const { rproc, host } = await simBoot(["tty", "raw"]);
  const ch = await host.waitForChannel("rpmsg-raw", 2000);
  assert.equal(ch.driver, "rpmsg_chrdev");
  const ept = host.endpointFor(ch);
  for (let n = 0; n <= 496; n++) {
    const data = new Uint8Array(n).map((_, i) => (i * 7 + n) & 0xff);
    await ept.send(data);
    const got = await ept.receive();
    assert.deepEqual(got!.data, data, `size ${n}`);
  }
  await assert.rejects(ept.send(new Uint8Array(497)), (e: unknown) => e instanceof RprocError && e.code === "EMSGSIZE");
  let received = 0;
  const off = ept.onMessage(() => received++);
  for (let i = 0; i < 1000; i++) await ept.send(enc(`m${i}`));
  for (let i = 0; i < 1000 && received < 1000; i++) await new Promise((r) => setImmediate(r));
  off();
  assert.equal(received, 1000);
  for (let i = 0; i < 1000; i++) assert.equal(dec(ept.poll()!.data), `m${i}`, "in order");
  await rproc.shutdown();
});

test("stop/start: a second boot runs a fresh bus on the new table; addresses start again at 0x400", async () => {
  const { rproc, host } = await simBoot();
  await host.waitForChannel("rpmsg-tty", 2000);
  await rproc.shutdown();
  await rproc.boot();
  const ch = await host.waitForChannel("rpmsg-tty", 2000);
  assert.equal(ch.src, 0x400);
  const ept = host.endpointFor(ch);
  await ept.send(enc("again"));
  assert.equal(dec((await ept.receive())!.data), "again");
  await rproc.shutdown();
});
