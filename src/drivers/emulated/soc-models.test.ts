// The SoC models as pure register machines (no Unicorn): NVIC/SCB/SysTick, the TI VIM and
// DMTimer, register tables, HSEM, the secure proxy stand-in, fault-status decoding, the
// unmodelled-access log.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { ArmV7mScs, EXC } from "./armv7m-scs.js";
import { TiVim } from "./ti-vim.js";
import { TiDmTimer } from "./ti-dmtimer.js";
import { RegBlock } from "./regfile.js";
import { Stm32Hsem } from "./stm32-devices.js";
import { TiSecProxy } from "./ti-secproxy.js";
import { decodeFaultStatus } from "./fault-status.js";
import { UnmodelledLog } from "./unmodelled-log.js";

test("SCS: NVIC enable/pend bits, byte priorities (IPR and SHPR), highest pending by priority", () => {
  const s = new ArmV7mScs("cortex-m4");
  s.write(0x100 + 4 * 3, 4, 1 << 7); // ISER3 bit 7 = IRQ 103
  assert.equal(s.read(0x180 + 12, 4), 1 << 7);
  s.write(0x400 + 103, 1, 0x47);
  assert.equal(s.read(0x400 + 100, 4), 0x40 << 24, "4 implemented bits, read back in the word");
  s.write(0xd22, 1, 0xf0); // PendSV
  assert.equal(s.priority[EXC.PendSV], 0xf0);
  s.raise(103);
  s.write(0xd04, 4, 1 << 28); // PENDSVSET
  assert.equal(s.highestPending(), 16 + 103, "IRQ 103 (0x40) before PendSV (0xf0)");
  assert.equal(s.read(0xd04, 4) & (1 << 28), 1 << 28);
  s.write(0x280 + 12, 4, 1 << 7); // ICPR
  assert.equal(s.highestPending(), EXC.PendSV);
  assert.equal(s.read(0xd00, 4), 0x410fc241, "Cortex-M4 CPUID");
  s.write(0xd0c, 4, 0x1234_0300); // wrong VECTKEY: ignored
  assert.equal(s.prigroup, 0);
});

test("SysTick: reload, COUNTFLAG clears on read, TICKINT pends exception 15, next event in instructions", () => {
  const s = new ArmV7mScs("cortex-m4");
  s.write(0x014, 4, 999);
  s.write(0x010, 4, 3);
  assert.equal(s.systick.nextEventIn(), 1000);
  s.systick.advance(999);
  assert.equal(s.pending[EXC.SysTick], 0);
  s.systick.advance(1);
  assert.equal(s.pending[EXC.SysTick], 1);
  assert.ok(s.read(0x010, 4) & (1 << 16));
  assert.equal(s.read(0x010, 4) & (1 << 16), 0, "COUNTFLAG cleared by the read");
  assert.equal(s.systick.nextEventIn(), 1000);
});

test("VIM: enabled pending line acknowledged by ACTIRQ, masks lower priorities until IRQVEC is written", () => {
  const v = new TiVim(0x2fff0000);
  v.write(0x400 + 0x20 * 5 + 0x08, 4, 1); // INTR_EN_SET group 5 bit 0 = line 160
  v.write(0x1000 + 4 * 160, 4, 2);
  v.write(0x2000 + 4 * 160, 4, 0x1234);
  v.raise(160);
  v.write(0x400 + 0x20 * 5 + 0x08, 4, 2); // line 161
  v.write(0x1000 + 4 * 161, 4, 5);
  v.raise(161);
  assert.equal(v.pendingIrq(), 160);
  assert.equal(v.read(0x20), (0x80000000 | (2 << 16) | 160) >>> 0);
  v.write(0x400 + 0x20 * 5 + 0x04, 4, 1); // STS: clear 160
  assert.equal(v.pendingIrq(), -1, "161 (priority 5) masked by the active 160 (priority 2)");
  v.write(0x18, 4, 0);
  assert.equal(v.pendingIrq(), 161);
  assert.equal(v.read(0x18), 0, "IRQVEC of 161 (no vector set)");
});

test("DMTimer: overflow after (2^32 - TLDR) ticks at 25 MHz raises its line and auto-reloads", () => {
  const raised: number[] = [];
  const t = new TiDmTimer("timer8", 0x02480000, 160, { raise: (l) => raised.push(l), console: () => undefined, insnsPerMs: 100_000 });
  t.write(0x40, 4, 0xffffffff - 24_999); // TLDR: 25,000 ticks = 1 ms
  t.write(0x44, 4, 0); // TTGR
  t.write(0x2c, 4, 2); // OVF enable
  t.write(0x38, 4, 3); // ST | AR
  assert.equal(t.nextEventIn(), 100_000);
  t.advance(100_000);
  assert.deepEqual(raised, [160]);
  assert.equal(t.read(0x28), 2);
  t.write(0x28, 4, 2);
  assert.equal(t.read(0x28), 0);
  assert.equal(t.nextEventIn(), 100_000, "reloaded");
});

test("RegBlock: ready bits follow enables, SET/CLR pairs, write-1-to-clear, sub-word writes", () => {
  const b = new RegBlock({
    name: "x",
    base: 0,
    size: 0x100,
    reference: "test",
    regs: [{ off: 0x10, setOf: 0x10 }, { off: 0x14, clrOf: 0x10 }, { off: 0x20, w1c: true, reset: 0xff }],
    ready: [{ enable: 0x00, mask: 1, ready: 0x04, readyMask: 2 }],
  });
  assert.equal(b.read(0x04, 4), 0);
  b.write(0x00, 4, 1);
  assert.equal(b.read(0x04, 4), 2);
  b.write(0x10, 4, 5);
  b.write(0x14, 4, 1);
  assert.equal(b.read(0x10, 4), 4);
  assert.equal(b.read(0x14, 4), 4);
  b.write(0x20, 4, 0x0f);
  assert.equal(b.read(0x20, 4), 0xf0);
  b.write(0x31, 1, 0xab);
  assert.equal(b.read(0x30, 4), 0xab00);
});

test("HSEM: a one-step read lock wins a free semaphore for the M4; unlock needs the owner", () => {
  const h = new Stm32Hsem(0x4c000000);
  assert.equal(h.read(0x80 + 4 * 3, 4), (0x80000000 | (2 << 8)) >>> 0);
  h.write(4 * 3, 4, 0x100); // wrong core: stays locked
  assert.equal(h.read(4 * 3, 4) >>> 31, 1);
  h.write(4 * 3, 4, 0x200);
  assert.equal(h.read(4 * 3, 4), 0);
});

test("secure proxy: a TISCI request written to a thread is answered on the thread read back, header copied with ACK", () => {
  const p = new TiSecProxy(0x48250000, 0x4a600000, 0x4d000000);
  const [cfg, rt, data] = p.devices;
  assert.equal(cfg.read(4, 4) >>> 16, 64);
  assert.equal(rt.read(0x3000, 4) & 0xff, 1, "a request thread has a credit");
  data.write(0x3004, 4, 0x0712_0102);
  data.write(0x303c, 4, 0);
  assert.equal(data.read(0x2004, 4), 0x0712_0102);
  assert.equal(data.read(0x2008, 4), 2);
  data.read(0x203c, 4);
  assert.equal(rt.read(0x2000, 4) & 0xff, 0, "response consumed");
  assert.equal(p.answered, 1);
});

test("fault status names: CFSR/HFSR bits, DFSR status and WnR", () => {
  assert.deepEqual(decodeFaultStatus({ cfsr: 0x8200, hfsr: 0x40000000 }), ["PRECISERR", "BFARVALID", "FORCED"]);
  assert.deepEqual(decodeFaultStatus({ dfsr: 0x808 }), ["DFSR: synchronous external abort", "WnR (write)"]);
});

test("unmodelled log: the first addresses one by one, then one summary kept current", () => {
  const log = new UnmodelledLog(2);
  assert.equal(log.note(1, "read"), "new");
  assert.equal(log.note(1, "read"), "counted");
  assert.equal(log.note(2, "write"), "new");
  assert.equal(log.note(3, "read"), "summary");
  const d = log.summary("p");
  assert.match(d.message, /^1 more unmodelled peripheral address /);
  assert.equal(log.note(4, "read"), "counted");
  assert.match(d.message, /^2 more unmodelled peripheral addresses \(first 0x3\)/);
});
