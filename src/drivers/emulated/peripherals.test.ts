import { test } from "node:test";
import * as assert from "node:assert/strict";
import { ImxMu, Stm32Ipcc, TiMailbox, Watchdog, createMailbox } from "./peripherals.js";

test("STM32 IPCC: host kick sets C1TOC2SR for the vq channel; firmware clears it and sends with C2SCR", () => {
  const kicks: [number | undefined, string][] = [];
  const m = new Stm32Ipcc(0x4c001000, 0x400, ["vq0", "vq1", "shutdown", "detach"], (v, c) => kicks.push([v, c]));
  m.hostKick(1);
  assert.equal(m.read(0x0c), 0b10);
  m.write(0x18, 4, 1 << 1); // CH2C: free channel 1
  assert.equal(m.read(0x0c), 0);
  m.write(0x18, 4, (1 << 16) | (1 << 18)); // CH1S + CH3S
  assert.deepEqual(kicks, [[0, "vq0"], [undefined, "shutdown"]]);
  assert.equal(m.read(0x1c), 0, "the host acknowledges at once");
  m.hostKick(7); // no channel named vq7: nothing happens, as stm32_rproc_kick finds no mailbox
  assert.equal(m.read(0x0c), 0);
});

test("TI mailbox: 4-deep FIFOs, queues from the platform's channel names, MSGSTATUS and FIFOSTATUS", () => {
  const kicks: [number | undefined, string][] = [];
  const m = createMailbox("ti-mailbox", 0x29020000, 0x200, ["rx-fifo2", "tx-fifo3"], (v, c) => kicks.push([v, c])) as TiMailbox;
  for (let i = 0; i < 5; i++) m.hostKick(i);
  assert.equal(m.read(0xc0 + 4 * 2), 4);
  assert.equal(m.read(0x80 + 4 * 2), 1, "full");
  assert.equal(m.dropped, 1);
  assert.deepEqual([0, 1, 2, 3, 4].map(() => m.read(0x40 + 4 * 2)), [0, 1, 2, 3, 0]);
  m.write(0x40 + 4 * 3, 4, 1);
  assert.deepEqual(kicks, [[1, "tx-fifo3"]]);
});

test("i.MX MU: host kick lands in RR1 with RF1 set; reading RR1 clears it; TR writes reach the host", () => {
  const kicks: [number | undefined, string][] = [];
  const m = new ImxMu(0x30aa0000, 0x10000, (v, c) => kicks.push([v, c]));
  assert.equal(m.read(0x20) & (1 << 26), 0);
  m.hostKick(1);
  assert.notEqual(m.read(0x20) & (1 << 26), 0);
  assert.equal(m.read(0x14), 1 << 16);
  assert.equal(m.read(0x20) & (1 << 26), 0);
  m.write(0x04, 4, 0x10000);
  assert.deepEqual(kicks, [[undefined, "tr1"]]);
});

test("watchdog: a key seen at a slice end refreshes it; expiry after timeout instructions without one", () => {
  const w = new Watchdog(0x5a002000, 0x400, 1000);
  const key = (v: number) => new DataView(w.page.buffer).setUint32(0x000, v, true);
  assert.equal(w.endSlice(5000), false, "not started: never expires");
  key(Watchdog.KEY_START);
  assert.equal(w.endSlice(6000), false);
  assert.equal(w.running, true);
  assert.equal(w.endSlice(7000), false, "exactly the timeout is not yet expired");
  assert.equal(w.endSlice(7001), true);
  key(Watchdog.KEY_REFRESH);
  assert.equal(w.endSlice(8000), false);
  key(0x1234); // a wrong key does not refresh
  assert.equal(w.endSlice(9500), true);
});
