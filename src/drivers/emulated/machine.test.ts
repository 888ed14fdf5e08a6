import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Platform } from "../../platform/platform.js";
import type { ProcessorDesc } from "../../platform/types.js";
import type { ElfFile } from "../../formats/elf.js";
import { RprocError } from "../../errors.js";
import { loadUnicorn } from "./unicorn.js";
import { EmulatedMachine } from "./machine.js";
import {
  A53_FW,
  A53_PLATFORM,
  M4_FW,
  R5_FW,
  loadElf,
  loadSegments,
  needsUnicorn,
  readTrace,
  stm32WithWatchdog,
  symbol,
  within,
  writeU32,
} from "../../../test/emulated/helpers.js";

interface Rig {
  platform: Platform;
  proc: ProcessorDesc;
  elf: ElfFile;
  machine: EmulatedMachine;
  kicks: [number | undefined, string][];
  unmodelled: number[];
  trace(): string;
  command(cmd: number): void;
}

function rig(platform: Platform, proc: ProcessorDesc, fw: string): Rig {
  const elf = loadElf(fw);
  loadSegments(platform, proc, elf);
  const kicks: [number | undefined, string][] = [];
  const unmodelled: number[] = [];
  const machine = new EmulatedMachine(loadUnicorn(), {
    platform,
    processor: proc,
    bootaddr: Number(elf.header.entry),
    insnsPerMs: 10_000,
    onFirmwareKick: (v, c) => kicks.push([v, c]),
    onUnmodelled: (da) => unmodelled.push(da),
  });
  const traceDa = symbol(elf, "trace_buf").addr;
  const cmd = symbol(elf, "fw_cmd").addr;
  return {
    platform,
    proc,
    elf,
    machine,
    kicks,
    unmodelled,
    trace: () => readTrace(platform, proc, traceDa),
    command: (c) => writeU32(platform, proc, cmd, c),
  };
}

function m4(): Rig {
  const p = Platform.load("stm32mp157");
  return rig(p, stm32WithWatchdog(p), M4_FW);
}

test("cortex-m4: the firmware's own trace output lands in platform memory", { skip: needsUnicorn }, () => {
  const r = m4();
  try {
    assert.equal(r.machine.runSlice(300_000), undefined);
    const t = r.trace();
    assert.match(t, /^rproc emulated fixture cortex-m4\/stm32mp157 up\n/);
    // Nobody set DRIVER_OK: the firmware gave up waiting and shows the table as linked (vrings "any").
    assert.match(t, /vdev status 0x00000000 vring0 da 0xffffffff notifyid 0x00000000 vring1 da 0xffffffff/);
    // Sparse: only the pages the core touched were materialised.
    assert.ok(r.machine.mappedPages <= 8, `mapped ${r.machine.mappedPages} pages`);
  } finally {
    r.machine.close();
  }
});

test("cortex-m4: the firmware reads what the host wrote into its resource table", { skip: needsUnicorn }, () => {
  const r = m4();
  try {
    const table = symbol(r.elf, "resource_table").addr;
    // vdev body at table + 24 + 4; status at body + 20; vring[i].da at body + 24 + 20 i, notifyid at + 12.
    const vdev = table + 24 + 4;
    writeU32(r.platform, r.proc, vdev + 24, 0x10040000);
    writeU32(r.platform, r.proc, vdev + 24 + 20, 0x10041000);
    writeU32(r.platform, r.proc, vdev + 24 + 12, 3);
    writeU32(r.platform, r.proc, vdev + 20, 0x07); // status byte (+ reserved bytes kept zero)
    assert.equal(r.machine.runSlice(100_000), undefined);
    assert.match(r.trace(), /vdev status 0x00000007 vring0 da 0x10040000 notifyid 0x00000003 vring1 da 0x10041000/);
  } finally {
    r.machine.close();
  }
});

test("cortex-m4: host kick through the IPCC reaches the firmware, and its reply kicks the host", { skip: needsUnicorn }, () => {
  const r = m4();
  try {
    r.machine.runSlice(300_000);
    r.machine.kick(0);
    assert.equal(r.machine.runSlice(50_000), undefined);
    assert.match(r.trace(), /kick vq0x00000000\n/);
    assert.deepEqual(r.kicks, [[1, "vq1"]]);
    r.command(4);
    r.machine.runSlice(50_000);
    assert.deepEqual(r.kicks.at(-1), [0, "vq0"]);
  } finally {
    r.machine.close();
  }
});

test("cortex-m4: a bad access is an MMU fault with the faulting PC and address", { skip: needsUnicorn }, () => {
  const r = m4();
  r.machine.runSlice(300_000);
  r.command(1);
  const f = r.machine.runSlice(100_000);
  if (!f) return assert.fail("no fault");
  assert.equal(f.kind, "mmufault");
  assert.equal(f.address, 0x60000000);
  assert.equal(f.access, "read");
  assert.ok(within(f.pc, symbol(r.elf, "bad_access")), `pc ${f.pc.toString(16)} in bad_access`);
  assert.equal(f.registers.regs.r15, f.pc);
  assert.equal(f.registers.signal, 11);
  assert.ok(r.machine.stopped === false);
  r.machine.close();
});

test("cortex-m4: undefined instruction and fault-handler entry are fatal errors at the right PC", { skip: needsUnicorn }, () => {
  for (const [cmd, kind, fn] of [
    [2, "undefined-instruction", "undefined_insn"],
    [5, "fault-handler", "fault_handler"],
  ] as const) {
    const r = m4();
    r.machine.runSlice(300_000);
    r.command(cmd);
    const f = r.machine.runSlice(100_000);
    assert.equal(f?.kind, kind);
    assert.ok(within(f!.pc, symbol(r.elf, fn)), `${kind}: pc ${f!.pc.toString(16)} in ${fn}`);
    r.machine.close();
  }
});

test("cortex-m4: the watchdog expires, deterministically, only once the firmware stops feeding it", { skip: needsUnicorn }, () => {
  const expiry = () => {
    const r = m4(); // 10 ms at 10,000 instructions/ms = 100,000 instructions
    try {
      for (let i = 0; i < 20; i++) assert.equal(r.machine.runSlice(50_000), undefined, "fed watchdog must not fire");
      r.command(3);
      for (let i = 0; i < 20; i++) {
        const f = r.machine.runSlice(50_000);
        if (f) {
          assert.equal(f.kind, "watchdog");
          assert.match(r.trace(), /cmd: watchdog starved/);
          return r.machine.instructions;
        }
      }
      assert.fail("watchdog never fired");
    } finally {
      r.machine.close();
    }
  };
  const a = expiry();
  assert.equal(expiry(), a);
});

test("cortex-r5 on am64x: trace, TI mailbox round trip, and an MMU fault", { skip: needsUnicorn }, () => {
  const p = Platform.load("am64x");
  const r = rig(p, p.processor("r5f0_0"), R5_FW);
  assert.equal(r.machine.runSlice(300_000), undefined);
  assert.match(r.trace(), /^rproc emulated fixture cortex-r5\/am64x up\n/);
  r.machine.kick(1);
  r.machine.runSlice(50_000);
  assert.match(r.trace(), /kick vq0x00000001\n/);
  assert.deepEqual(r.kicks, [[1, "tx-fifo1"]]);
  r.command(1);
  const f = r.machine.runSlice(100_000);
  assert.equal(f?.kind, "mmufault");
  assert.ok(within(f!.pc, symbol(r.elf, "bad_access")));
  assert.equal(f!.registers.regs.r15, f!.pc);
  r.machine.close();
});

test("cortex-a53: trace, i.MX MU round trip, undefined instruction at its PC", { skip: needsUnicorn }, () => {
  const p = Platform.load(A53_PLATFORM);
  const r = rig(p, p.processor("a53"), A53_FW);
  assert.equal(r.machine.runSlice(300_000), undefined);
  assert.match(r.trace(), /^rproc emulated fixture cortex-a53\/emu-a53 up\n/);
  r.machine.kick(0);
  r.machine.runSlice(50_000);
  assert.match(r.trace(), /kick vq0x00000000\n/);
  assert.deepEqual(r.kicks, [[undefined, "tr1"]]);
  r.command(2);
  const f = r.machine.runSlice(100_000);
  assert.equal(f?.kind, "undefined-instruction");
  assert.ok(within(f!.pc, symbol(r.elf, "undefined_insn")), `pc ${f!.pc.toString(16)}`);
  assert.equal(f!.registers.regs.pc, f!.pc);
  r.machine.close();
});

test("a translation that is not page aligned is refused before the core runs", { skip: needsUnicorn }, () => {
  const p = Platform.load("stm32mp157");
  const proc = { ...p.processor("m4"), translations: [{ da: 0x800, pa: 0x38000800, size: 0x1000 }] };
  assert.throws(
    () => new EmulatedMachine(loadUnicorn(), { platform: p, processor: proc, bootaddr: 0, insnsPerMs: 1, onFirmwareKick: () => {}, onUnmodelled: () => {} }),
    (e: unknown) => e instanceof RprocError && e.code === "EINVAL" && /not 4 KiB aligned/.test(e.message),
  );
});

test("without libunicorn2 the driver refuses with ENODEV naming the Debian package", () => {
  assert.throws(
    () => loadUnicorn({ RPROC_UNICORN_LIB: "none" }),
    (e: unknown) => e instanceof RprocError && e.code === "ENODEV" && /libunicorn2/.test(e.message),
  );
});

test("unmodelled peripherals read as zero and are reported once per address, not fatal", { skip: needsUnicorn }, () => {
  for (const [r, addr] of [
    [m4(), 0xe0001000],
    [(() => { const p = Platform.load("am64x"); return rig(p, p.processor("r5f0_0"), R5_FW); })(), 0x02800000],
  ] as const) {
    try {
      r.machine.runSlice(300_000);
      r.command(6);
      assert.equal(r.machine.runSlice(50_000), undefined);
      r.command(6);
      assert.equal(r.machine.runSlice(50_000), undefined);
      assert.match(r.trace(), /cmd: peripheral read 0x00000000\n.*cmd: peripheral read 0x00000000\n/s);
      assert.deepEqual(r.unmodelled, [addr, addr + 4]);
    } finally {
      r.machine.close();
    }
  }
});

test("Cortex-M reset takes SP and PC from the vector table at da 0, not from the boot address", { skip: needsUnicorn }, () => {
  const p = Platform.load("stm32mp157");
  const proc = stm32WithWatchdog(p);
  const elf = loadElf(M4_FW);
  loadSegments(p, proc, elf);
  const vectors = p.memory.read(p.daToPa(proc, 0, 8)!, 8);
  const sp = new DataView(vectors.buffer, vectors.byteOffset).getUint32(0, true);
  // A boot address that is not the reset handler: an M-profile core ignores it.
  const machine = new EmulatedMachine(loadUnicorn(), {
    platform: p,
    processor: proc,
    bootaddr: symbol(elf, "fault_handler").addr | 1,
    insnsPerMs: 10_000,
    onFirmwareKick: () => {},
    onUnmodelled: () => {},
  });
  try {
    assert.equal(sp, 0x1003f000);
    assert.equal(machine.registers().regs.r13, sp, "SP = vector[0]");
    assert.equal(machine.runSlice(300_000), undefined);
    assert.match(readTrace(p, proc, symbol(elf, "trace_buf").addr), /^rproc emulated fixture cortex-m4\/stm32mp157 up\n/, "PC = vector[1], the reset handler");
  } finally {
    machine.close();
  }
});

for (const core of ["cortex-m7", "cortex-m33"] as const) {
  test(`${core}: the same Thumb-2 image resets from the vector table and runs`, { skip: needsUnicorn }, () => {
    const p = Platform.load("stm32mp157");
    const r = rig(p, { ...stm32WithWatchdog(p), core }, M4_FW);
    try {
      assert.equal(r.machine.info.kind, core);
      assert.equal(r.machine.runSlice(300_000), undefined);
      assert.match(r.trace(), /^rproc emulated fixture cortex-m4\/stm32mp157 up\n/);
    } finally {
      r.machine.close();
    }
  });
}

for (const [name, fw, platform, processor, pcReg] of [
  ["cortex-r5", R5_FW, "am64x", "r5f0_0", "r15"],
  ["cortex-a53", A53_FW, A53_PLATFORM, "a53", "pc"],
] as const) {
  test(`${name} starts at the boot address it is given`, { skip: needsUnicorn }, () => {
    const p = Platform.load(platform);
    const proc = p.processor(processor);
    const elf = loadElf(fw);
    loadSegments(p, proc, elf);
    const idle = symbol(elf, "fault_handler"); // an endless nop loop: started there, the firmware never writes its banner
    const machine = new EmulatedMachine(loadUnicorn(), { platform: p, processor: proc, bootaddr: idle.addr, insnsPerMs: 10_000, onFirmwareKick: () => {}, onUnmodelled: () => {} });
    try {
      assert.equal(machine.runSlice(100_000), undefined);
      const pc = Number(machine.registers().regs[pcReg]);
      assert.ok(within(pc, idle), `pc ${pc.toString(16)} in fault_handler`);
      assert.equal(readTrace(p, proc, symbol(elf, "trace_buf").addr), "", "main never ran");
    } finally {
      machine.close();
    }
  });
}

test("cortex-a53: a data abort (unaligned exclusive load) is a fatal error named as such, at the faulting PC", { skip: needsUnicorn }, () => {
  const p = Platform.load(A53_PLATFORM);
  const proc = p.processor("a53");
  // movz x0, #0x8000, lsl #16 ; add x0, x0, #1 ; ldxr x1, [x0]   (exclusive accesses must be aligned)
  const code = new Uint8Array(12);
  [0xd2b00000, 0x91000400, 0xc85f7c01].forEach((w, i) => new DataView(code.buffer).setUint32(4 * i, w, true));
  p.memory.write(p.daToPa(proc, 0x80000000, 12)!, code);
  const machine = new EmulatedMachine(loadUnicorn(), { platform: p, processor: proc, bootaddr: 0x80000000, insnsPerMs: 10_000, onFirmwareKick: () => {}, onUnmodelled: () => {} });
  try {
    const f = machine.runSlice(1000);
    assert.equal(f?.kind, "exception");
    assert.equal(f?.intno, 4);
    assert.equal(f?.pc, 0x80000008);
    assert.match(f!.message, /data abort \(exception 4\) at pc 0x80000008/);
  } finally {
    machine.close();
  }
});
