// Real tools as the oracle: readelf reads every dump variant, gdb-multiarch
// shows variables, registers and a backtrace from a dump + the firmware ELF.
// Needs Debian binutils and gdb-multiarch (scripts/setup.sh installs them).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCoreFile, buildCoreHeader, buildSectionCoreHeader, type CoreSegment } from "../../src/formats/core-file.js";
import type { CoreRegisters } from "../../src/formats/core-file-prstatus.js";

/** Every test has its own time limit, so a stuck crash sequence fails instead of hanging `npm test`. */
const T = { timeout: 60_000 };

const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "rproc-core-"));

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
}

function dump(name: string, cls: 32 | 64, machine: number, entry: number, mem: Uint8Array, da: number, registers?: CoreRegisters): string {
  const segs: CoreSegment[] = [{ da, size: mem.length }];
  const file = join(dir, name);
  writeFileSync(file, buildCoreFile(buildCoreHeader({ class: cls, machine, entry, segments: segs, registers }), segs, (_i, o, n) => mem.slice(o, o + n)));
  return file;
}

test("readelf -h -l reads the program-header variant with the expected segments", T, () => {
  const segs = [{ da: 0x10000000, size: 0x40000 }, { da: 0x38000000, size: 0x10000 }, { da: 0x10040000, size: 0x1000 }];
  for (const cls of [32, 64] as const) {
    const file = join(dir, `multi${cls}.core`);
    writeFileSync(file, buildCoreFile(buildCoreHeader({ class: cls, machine: cls === 32 ? 40 : 183, entry: 0x10000029, segments: segs }), segs, (_i, _o, n) => new Uint8Array(n)));
    const out = run("readelf", ["-W", "-h", "-l", file]);
    assert.match(out, /Type:\s+CORE \(Core file\)/);
    assert.match(out, new RegExp(`Class:\\s+ELF${cls}`));
    assert.match(out, /Entry point address:\s+0x10000029/);
    const loads = [...out.matchAll(/^\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+RWE\s+0$/gm)];
    assert.deepEqual(loads.map((m) => [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])]), segs.map((s) => [s.da, s.da, s.size, s.size]));
  }
});

test("readelf -S reads the section variant", T, () => {
  const segs = [{ da: 0x10000000, size: 0x100, name: "mcuram2" }, { da: 0x38000000, size: 0x80, name: "retram" }];
  const file = join(dir, "sections.core");
  writeFileSync(file, buildCoreFile(buildSectionCoreHeader({ class: 32, machine: 40, entry: 0, segments: segs }), segs, (_i, _o, n) => new Uint8Array(n)));
  const out = run("readelf", ["-W", "-S", file]);
  assert.match(out, /STR_TBL\s+STRTAB/);
  assert.match(out, /mcuram2\s+PROGBITS\s+10000000 [0-9a-f]+ 000100 00\s+W/);
  assert.match(out, /retram\s+PROGBITS\s+38000000 [0-9a-f]+ 000080 00\s+W/);
});

test("gdb-multiarch: Cortex-M4 dump shows fw_counter, registers and the call chain", T, () => {
  // Memory as fw-m4.elf leaves it inside fw_fault (see fixtures/fw.c and its disassembly):
  // fw_counter at 0x10000030; _start pushed {r7, lr}, fw_loop pushed {r7, lr=0x10000031}, fw_fault pushed {r7}.
  const mem = new Uint8Array(0x1000);
  const dv = new DataView(mem.buffer);
  dv.setUint32(0x30, 0x1234, true);
  dv.setUint32(0xef8, 0, true);
  dv.setUint32(0xefc, 0xffffffff, true);
  dv.setUint32(0xef0, 0x10000ef8, true);
  dv.setUint32(0xef4, 0x10000031, true);
  dv.setUint32(0xeec, 0x10000ef0, true);
  const core = dump("m4.core", 32, 40, 0x10000029, mem, 0x10000000, {
    signal: 11,
    regs: { r2: 0x10000030, r3: 0x1234, r7: 0x10000eec, r13: 0x10000eec, r14: 0x10000023, r15: 0x10000008, cpsr: 0x01000000 },
  });
  const out = run("gdb-multiarch", ["-nx", "-batch", "-ex", "print fw_counter", "-ex", "info registers", "-ex", "bt", join(fixtures, "fw-m4.elf"), core]);
  assert.match(out, /\$1 = 4660/);
  assert.match(out, /^pc\s+0x10000008\s+0x10000008 <fw_fault\+8>/m);
  assert.match(out, /^sp\s+0x10000eec/m);
  assert.match(out, /#1\s+0x10000022 in fw_loop \(\)/);
  assert.match(out, /#2\s+0x10000030 in _start \(\)/);
});

test("gdb-multiarch: AArch64 dump shows fw_counter, registers and the call chain", T, () => {
  const mem = new Uint8Array(0x1000);
  const dv = new DataView(mem.buffer);
  dv.setUint32(0x98, 0xbeef, true);
  dv.setBigUint64(0xee0, 0xa0000ef0n, true);
  dv.setBigUint64(0xee8, 0xa000003cn, true);
  const core = dump("a53.core", 64, 183, 0xa0000030, mem, 0xa0000000, {
    signal: 6,
    regs: { x1: 0xa0000098, x29: 0xa0000ee0, x30: 0xa0000030, sp: 0xa0000ee0, pc: 0xa0000008, pstate: 0x3c5 },
  });
  const out = run("gdb-multiarch", ["-nx", "-batch", "-ex", "print/x fw_counter", "-ex", "info registers pc sp", "-ex", "bt", join(fixtures, "fw-a53.elf"), core]);
  assert.match(out, /\$1 = 0xbeef/);
  assert.match(out, /^pc\s+0xa0000008\s+0xa0000008 <fw_fault\+8>/m);
  assert.match(out, /#1\s+0x0+a0000030 in fw_loop \(\)/);
  assert.match(out, /#2\s+0x0+a000003c in _start \(\)/);
});
