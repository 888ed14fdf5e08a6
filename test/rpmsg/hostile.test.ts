// A hostile remote: malformed announcements, unknown addresses, lying headers and used rings.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { simBoot } from "../harness/rpmsg.js";
import { encodeMessage, encodeNs } from "../../src/rpmsg/wire.js";
import { RprocError } from "../../src/errors.js";
import { wr16, wr32 } from "../../src/virtio/layout.js";

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const codes = (r: { diagnostics: { code: string; message: string }[] }) => r.diagnostics.map((d) => `${d.code}: ${d.message}`);

test("malformed ns, unknown dst, duplicate channel, destroy of an unknown one: dropped with the kernel's text", async () => {
  const { rproc, host, behaviour } = await simBoot();
  await host.waitForChannel("rpmsg-tty", 2000);
  const m = behaviour.model()!;
  m.sendRaw(encodeMessage(0x400, 53, new Uint8Array(39)));
  m.sendRaw(encodeMessage(0x400, 0x999, Uint8Array.of(1)));
  m.sendRaw(encodeMessage(0x400, 53, encodeNs("rpmsg-tty", 0x400, 0)));
  m.sendRaw(encodeMessage(0x400, 53, encodeNs("nope", 0x77, 1)));
  m.pump();
  await tick();
  const d = codes(rproc).join("\n");
  assert.match(d, /rpmsg-malformed-ns: malformed ns msg \(39\)/);
  assert.match(d, /rpmsg-no-recipient: msg received with no recipient/);
  assert.match(d, /channel rpmsg-tty:ffffffff:400 already exist/);
  assert.match(d, /rpmsg_destroy_channel failed: -22/);
  // The host still works.
  const ept = host.endpointFor(host.channels()[0]!);
  await ept.send(Uint8Array.of(9));
  assert.deepEqual([...(await ept.receive())!.data], [9]);
  await rproc.shutdown();
});

test("ns destroy removes the channel and closes its endpoint; unknown names bind no driver", async () => {
  const { rproc, host, behaviour } = await simBoot();
  const ch = await host.waitForChannel("rpmsg-tty", 2000);
  const m = behaviour.model()!;
  m.sendRaw(encodeMessage(0x401, 53, encodeNs("my-vendor-thing", 0x401, 0)));
  m.pump();
  const other = await host.waitForChannel("my-vendor-thing", 2000);
  assert.equal(other.driver, null);
  assert.equal(other.src, 0xffffffff);
  assert.match(other.note, /driver_override/);
  m.sendRaw(encodeMessage(0x400, 53, encodeNs("rpmsg-tty", 0x400, 1)));
  m.pump();
  await tick();
  assert.equal(ch.endpoint!.closed, true);
  await assert.rejects(ch.endpoint!.send(Uint8Array.of(1)), (e: unknown) => e instanceof RprocError && e.code === "EPIPE");
  await rproc.shutdown();
});

test("a header len beyond the used length is refused; a used id out of range breaks the queue, never a crash", async () => {
  const { rproc, host, behaviour } = await simBoot();
  await host.waitForChannel("rpmsg-tty", 2000);
  const m = behaviour.model()!;
  const lying = encodeMessage(0x400, 0x400, new Uint8Array(4));
  new DataView(lying.buffer).setUint16(12, 400, true);
  m.sendRaw(lying);
  m.pump();
  await tick();
  assert.match(codes(rproc).join("\n"), /inbound msg too big: \(20, 400\)/);
  // Now scribble the RX used ring: an id out of range.
  const bus = host.bus(0)!;
  const L = bus.rvq.ring.layout;
  const mem = bus.rvq.ring.mem;
  const idx = mem.read(L.used + 2, 2);
  const used = idx[0]! | (idx[1]! << 8);
  wr32(mem, L.usedRing + 8 * (used & (L.num - 1)), 999);
  wr16(mem, L.used + 2, used + 1);
  rproc.vqInterrupt(bus.rvq.notifyid);
  assert.match(codes(rproc).join("\n"), /input:id 999 out of range/);
  assert.equal(bus.rvq.ring.broken, true);
  await rproc.shutdown();
});

test("TX buffer exhaustion: trysend is ENOMEM, a blocking send times out with ERESTARTSYS, and recovers when the remote returns buffers", async () => {
  const { rproc, host, behaviour } = await simBoot();
  const ch = await host.waitForChannel("rpmsg-tty", 2000);
  const ept = host.endpointFor(ch);
  // Stop the remote: its loop no longer runs, so TX buffers are not returned.
  const m = behaviour.model()!;
  const pump = m.pump.bind(m);
  m.pump = () => {};
  const bus = host.bus(0)!;
  for (let i = 0; i < bus.numBufs / 2; i++) ept.trySend(Uint8Array.of(i));
  assert.throws(() => ept.trySend(Uint8Array.of(0)), (e: unknown) => e instanceof RprocError && e.code === "ENOMEM");
  await assert.rejects(ept.send(Uint8Array.of(0), { timeoutMs: 30 }), (e: unknown) => e instanceof RprocError && e.code === "ERESTARTSYS");
  const late = ept.send(Uint8Array.of(0xaa), { timeoutMs: 2000 });
  m.pump = pump;
  m.pump();
  await late;
  let got = 0;
  for (let i = 0; i < 50 && got < bus.numBufs / 2 + 1; i++) {
    while (ept.poll()) got++;
    await tick();
  }
  assert.equal(got, bus.numBufs / 2 + 1, "every message answered after recovery");
  await rproc.shutdown();
});
