import { test } from "node:test";
import * as assert from "node:assert/strict";
import { SharedMemory, bytesMemory, rd16, vringGeometryError, vringLayout, vringNeedEvent, wr16, wr32, VRING_USED_F_NO_NOTIFY } from "./layout.js";
import { VringDriver } from "./vring-driver.js";
import { VringDevice } from "./vring-device.js";

const BUF_BASE = 0x10040000;

function pair(num = 8, align = 16, eventIdx = false) {
  const L = vringLayout(num, align);
  const ring = new Uint8Array(L.size);
  const bufs = new Uint8Array(num * 512);
  const diags: string[] = [];
  const shared = new SharedMemory().add(BUF_BASE, bytesMemory(bufs));
  const drv = new VringDriver<number>(bytesMemory(ring), num, align, { name: "input", eventIdx, onDiag: (_c, m) => diags.push(m) });
  const dev = new VringDevice(bytesMemory(ring), num, align, shared, { name: "tx_vq", eventIdx, onDiag: (_c, m) => diags.push(m) });
  return { L, ring, bufs, drv, dev, diags };
}

test("vringLayout matches vring_size for the spec's worked numbers", () => {
  assert.deepEqual([vringLayout(16, 16).size, vringLayout(16, 16).avail, vringLayout(16, 16).used], [438, 0x100, 0x130]);
  assert.deepEqual([vringLayout(16, 4096).size, vringLayout(16, 4096).used], [4230, 0x1000]);
  assert.deepEqual([vringLayout(256, 4096).size, vringLayout(256, 4096).avail, vringLayout(256, 4096).used], [10246, 0x1000, 0x2000]);
  assert.equal(vringLayout(512, 4096).size, 16390);
  assert.match(vringGeometryError(12, 16)!, /Bad virtqueue length 12/);
  assert.equal(vringGeometryError(8, 16), undefined);
});

test("driver adds inbufs, device fills them, driver gets them back with the written length", () => {
  for (const eventIdx of [false, true]) {
    const { drv, dev, bufs, diags } = pair(8, 16, eventIdx);
    for (let i = 0; i < 8; i++) assert.equal(drv.add(BUF_BASE + 512 * i, 512, true, i + 100), 0);
    assert.equal(drv.add(BUF_BASE, 512, true, 999), -28, "full ring: ENOSPC");
    assert.equal(drv.kickPrepare(), true);
    const b = dev.getAvailable()!;
    assert.equal(b.head, 0);
    assert.equal(b.deviceWritable, true);
    b.mem.write(b.off, Uint8Array.of(1, 2, 3));
    assert.equal(dev.addConsumed(b.head, 3), true);
    assert.equal(dev.addConsumed(b.head, 3), false, "a head returned twice is refused");
    assert.equal(dev.mustNotify(), true);
    assert.deepEqual(drv.getBuf(), { token: 100, len: 3 });
    assert.deepEqual([...bufs.subarray(0, 3)], [1, 2, 3]);
    assert.equal(drv.getBuf(), undefined);
    assert.equal(drv.free, 1);
    assert.equal(diags.length, 1);
  }
});

test("notification suppression: NO_INTERRUPT, NO_NOTIFY and event indexes", () => {
  const a = pair(8, 16, false);
  a.drv.disableCb();
  a.drv.add(BUF_BASE, 16, false, 1);
  a.dev.setNotify(false);
  assert.equal(a.drv.kickPrepare(), false, "device set VRING_USED_F_NO_NOTIFY");
  assert.equal(rd16(bytesMemory(a.ring), a.L.used) & VRING_USED_F_NO_NOTIFY, 1);
  const got = a.dev.getAvailable()!;
  a.dev.addConsumed(got.head, 0);
  assert.equal(a.dev.mustNotify(), false, "driver disabled callbacks");
  assert.equal(a.drv.enableCb(), false, "a used buffer is pending");
  const e = pair(8, 16, true);
  e.drv.add(BUF_BASE, 16, false, 1);
  assert.equal(e.drv.kickPrepare(), true, "avail_event 0 asks for the first");
  e.dev.getAvailable();
  e.drv.add(BUF_BASE + 512, 16, false, 2);
  assert.equal(e.drv.kickPrepare(), true, "device took 1 and wrote avail_event 1");
  assert.equal(vringNeedEvent(5, 6, 5), true);
  assert.equal(vringNeedEvent(7, 6, 5), false);
});

test("hostile used ring: out-of-range id, not a head, index jump mark the queue broken", () => {
  const bad = (mut: (ring: Uint8Array, L: ReturnType<typeof vringLayout>) => void, re: RegExp) => {
    const p = pair();
    p.drv.add(BUF_BASE, 512, true, 7);
    mut(p.ring, p.L);
    assert.equal(p.drv.getBuf(), undefined);
    assert.equal(p.drv.broken, true);
    assert.match(p.diags.join("\n"), re);
    assert.equal(p.drv.add(BUF_BASE, 512, true, 8), -5, "broken queue refuses buffers");
  };
  const m = (r: Uint8Array) => bytesMemory(r);
  bad((r, L) => { wr32(m(r), L.usedRing, 9); wr16(m(r), L.used + 2, 1); }, /^input:id 9 out of range$/);
  bad((r, L) => { wr32(m(r), L.usedRing, 3); wr16(m(r), L.used + 2, 1); }, /^input:id 3 is not a head!$/);
  bad((r, L) => wr16(m(r), L.used + 2, 200), /used index 200 is 200 entries past 0, beyond the ring size 8/);
});

test("hostile avail ring and descriptors: dropped, never read outside the shared memory", () => {
  const p = pair();
  const mem = bytesMemory(p.ring);
  p.drv.add(BUF_BASE - 16, 512, true, 1); // starts before the buffers
  p.drv.add(BUF_BASE + 8 * 512 - 100, 512, true, 2); // runs past their end
  p.drv.add(BUF_BASE, 512, true, 3);
  wr16(mem, p.L.availRing + 2 * 3, 77); // slot 3 names a head beyond the ring
  wr16(mem, p.L.avail + 2, 4);
  const got = p.dev.getAvailable()!;
  assert.equal(got.head, 2);
  assert.equal(p.dev.getAvailable(), undefined);
  assert.equal(p.diags.filter((d) => /outside the vdev's shared memory/.test(d)).length, 2);
  assert.ok(p.diags.some((d) => /names descriptor 77/.test(d)));
  wr16(mem, p.L.avail + 2, 1000);
  assert.equal(p.dev.getAvailable(), undefined);
  assert.ok(p.diags.some((d) => /beyond the ring size/.test(d)));
});

/** xorshift32: reproducible random contents. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

test("fuzz: random used rings and descriptors never crash either role (20k rounds)", () => {
  const r = rng(0x5eed);
  const num = 8;
  const L = vringLayout(num, 16);
  for (let round = 0; round < 20000; round++) {
    const ring = new Uint8Array(L.size);
    const bufs = new Uint8Array(num * 512);
    const shared = new SharedMemory().add(BUF_BASE, bytesMemory(bufs));
    const drv = new VringDriver<number>(bytesMemory(ring), num, 16, { name: "input", eventIdx: (round & 1) === 1 });
    const dev = new VringDevice(bytesMemory(ring), num, 16, shared, { name: "tx_vq", eventIdx: (round & 1) === 1 });
    const posted = 1 + (r() % num);
    for (let i = 0; i < posted; i++) drv.add(BUF_BASE + 512 * i, 512, true, i + 1);
    // Scribble over a random part of the ring, as a hostile or broken peer would.
    const n = 1 + (r() % 24);
    for (let i = 0; i < n; i++) ring[r() % ring.length] = r() & 0xff;
    let taken = 0;
    for (let b = dev.getAvailable(); b && taken < 64; b = dev.getAvailable(), taken++) {
      assert.ok(b.off >= 0 && b.off + b.len <= bufs.length, "descriptor view stays inside the buffers");
      b.mem.write(b.off, Uint8Array.of(r() & 0xff));
      dev.addConsumed(b.head, r() % 1024);
    }
    let got = 0;
    for (let u = drv.getBuf(); u && got < 64; u = drv.getBuf(), got++) assert.ok(u.token >= 1 && u.token <= posted);
    assert.ok(got <= posted, "the driver never gets back more than it posted");
  }
});
