/**
 * Firmware the web tests boot besides the fixtures: an i.MX8MP M7 image with
 * the vdev of NXP's rpmsg demos (SOURCES.md: fixed vrings at 0x55000000 /
 * 0x55008000, num 256, align 4096), its one segment in the rsc-table
 * memory-region (the sim driver maps memory-region pools only, not ITCM), and an STM32MP157
 * image whose second segment overflows the MCU SRAM window (a refused boot).
 */
import { buildElf32, buildRscTable } from "../harness/elf-build.js";

export function imx8mpImage(): Uint8Array {
  const table = buildRscTable([
    { type: "trace", da: 0x550ff400, len: 0x400, name: "trace0" },
    { type: "vdev", id: 7, vrings: [{ da: 0x55000000, align: 4096, num: 256 }, { da: 0x55008000, align: 4096, num: 256 }] },
  ]);
  const code = new Uint8Array(0x100 + table.length);
  code.set(table, 0x100);
  return buildElf32({
    entry: 0x550ff001,
    segments: [{ paddr: 0x550ff000, data: code, memsz: 0x400 }],
    sections: [{ name: ".resource_table", addr: 0x550ff100, data: table }],
  });
}

/** Segment 1 at da 0x10050000 with 0x20000 bytes: past the end of the 0x60000-byte MCU SRAM code-bus window. */
export function stm32OverflowImage(): Uint8Array {
  const table = buildRscTable([{ type: "trace", da: 0x10000200, len: 0x100, name: "trace0" }]);
  return buildElf32({
    entry: 0x41,
    segments: [
      { paddr: 0x10000000, data: table, memsz: 0x400 },
      { paddr: 0x10050000, data: new Uint8Array(0x100), memsz: 0x20000 },
    ],
    sections: [{ name: ".resource_table", addr: 0x10000000, data: table }],
  });
}
