import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { RprocError } from "../errors.js";
import {
  parseElf,
  elfSanityCheck,
  segmentData,
  sectionData,
  findSection,
  findSymbol,
  asSafeNumber,
  PT_LOAD,
  SHT_NOBITS,
  ET_EXEC,
  EM_ARM,
  EM_AARCH64,
} from "./elf.js";

const FW = new URL("../../fixtures/firmware/", import.meta.url);
const load = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, FW)));
const m4 = load("stm32mp15-m4.elf");
const a64 = load("aarch64.elf");
const be = load("bigendian.elf");

/** A copy of `src` with a little- or big-endian field overwritten. */
function patch(src: Uint8Array, off: number, size: 1 | 2 | 4 | 8, value: number | bigint, little = true): Uint8Array {
  const b = src.slice();
  const dv = new DataView(b.buffer);
  if (size === 1) dv.setUint8(off, Number(value));
  else if (size === 2) dv.setUint16(off, Number(value), little);
  else if (size === 4) dv.setUint32(off, Number(value), little);
  else dv.setBigUint64(off, BigInt(value), little);
  return b;
}

function rejects(fn: () => unknown, code: string, field: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RprocError, `expected RprocError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.field, field, e.message);
    // The issue asks for the field, the value and the limit on every failure.
    assert.notEqual(e.value, undefined, `${field}: no value`);
    assert.notEqual(e.limit, undefined, `${field}: no limit`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

test("parses the 32-bit little-endian M4 fixture", () => {
  const elf = parseElf(m4);
  assert.equal(elf.header.class, 32);
  assert.equal(elf.header.endianness, "little");
  assert.equal(elf.header.type, ET_EXEC);
  assert.equal(elf.header.machine, EM_ARM);
  assert.equal(elf.header.entry, 0x41);
  assert.equal(elf.programHeaders.length, 2);
  const data = elf.programHeaders[1]!;
  assert.equal(data.type, PT_LOAD);
  assert.equal(data.paddr, 0x10000000);
  assert.ok(data.memsz > data.filesz, ".bss makes memsz > filesz");
  const bss = findSection(elf, ".bss")!;
  assert.equal(bss.type, SHT_NOBITS);
  assert.equal(sectionData(elf, bss).byteLength, 0);
  const seg = segmentData(elf, data);
  assert.equal(seg.byteLength, data.filesz);
  assert.equal(seg.buffer, m4.buffer, "segmentData is a view, not a copy");
});

test("parses the 64-bit AArch64 and the big-endian fixtures", () => {
  const e64 = parseElf(a64);
  assert.equal(e64.header.class, 64);
  assert.equal(e64.header.machine, EM_AARCH64);
  assert.equal(e64.header.entry, 0xa0000000);
  assert.equal(e64.programHeaders[0]!.paddr, 0xa0000000);
  const ebe = parseElf(be);
  assert.equal(ebe.header.endianness, "big");
  assert.equal(ebe.header.machine, EM_ARM);
  assert.equal(findSection(ebe, ".resource_table")!.addr, 0x1000);
});

test("findSymbol finds the names later engineers rely on", () => {
  for (const bytes of [m4, a64, be]) {
    const elf = parseElf(bytes);
    for (const name of ["rproc_trace_buf", "fw_counter", "resource_table"]) {
      const sym = findSymbol(elf, name);
      assert.ok(sym, `${name} in ${elf.header.class}-bit ${elf.header.endianness}`);
    }
    assert.equal(findSymbol(elf, "no_such_symbol"), undefined);
  }
  const elf = parseElf(m4);
  assert.equal(findSymbol(elf, "rproc_trace_buf")!.size, 1024);
  assert.equal(findSymbol(elf, "resource_table")!.value, findSection(elf, ".resource_table")!.addr);
});

test("findSection returns the first match, as find_table does", () => {
  const elf = parseElf(m4);
  const rt = findSection(elf, ".resource_table")!;
  // Rename .text (index 2) to point at the ".resource_table" name: now two sections share it.
  const text = findSection(elf, ".text")!;
  const shdr = elf.header.shoff + text.index * 40;
  const twin = parseElf(patch(m4, shdr, 4, rt.nameOffset));
  assert.equal(findSection(twin, ".resource_table")!.index, text.index);
});

test("asSafeNumber keeps numbers and refuses bigints above 2^53 with EOVERFLOW", () => {
  assert.equal(asSafeNumber(5, "x"), 5);
  assert.equal(asSafeNumber(5n, "x"), 5);
  rejects(() => asSafeNumber(1n << 60n, "p_memsz"), "EOVERFLOW", "p_memsz");
});

// ---- every parseElf check, tripped by a crafted input ----

test("parseElf: file too small, bad magic, bad class, bad data encoding", () => {
  rejects(() => parseElf(m4.subarray(0, 51)), "EINVAL", "size", /too small/);
  rejects(() => parseElf(patch(m4, 1, 1, 0x45 + 1)), "EINVAL", "e_ident.EI_MAG", /bad magic/);
  rejects(() => parseElf(patch(m4, 4, 1, 3)), "EINVAL", "e_ident.EI_CLASS", /Unsupported class: 3/);
  rejects(() => parseElf(a64.subarray(0, 60)), "EINVAL", "size", /elf64 header is too small/);
  rejects(() => parseElf(patch(m4, 5, 1, 0)), "EINVAL", "e_ident.EI_DATA");
});

test("parseElf: header entry sizes must match the class", () => {
  rejects(() => parseElf(patch(m4, 40, 2, 64)), "EINVAL", "e_ehsize", /0x40/);
  rejects(() => parseElf(patch(m4, 42, 2, 56)), "EINVAL", "e_phentsize");
  rejects(() => parseElf(patch(m4, 46, 2, 64)), "EINVAL", "e_shentsize");
  rejects(() => parseElf(patch(a64, 52, 2, 52)), "EINVAL", "e_ehsize");
  rejects(() => parseElf(patch(a64, 54, 2, 32)), "EINVAL", "e_phentsize");
  rejects(() => parseElf(patch(a64, 58, 2, 40)), "EINVAL", "e_shentsize");
  // No sections: e_shentsize is not looked at (readelf accepts it too).
  const noSections = patch(patch(m4, 48, 2, 0), 46, 2, 0);
  assert.equal(parseElf(patch(noSections, 50, 2, 0)).sectionHeaders.length, 0);
});

test("parseElf: program and section header tables inside the file", () => {
  rejects(() => parseElf(patch(m4, 28, 4, m4.byteLength - 40)), "EINVAL", "e_phoff", /exceeds file size/);
  rejects(() => parseElf(patch(m4, 44, 2, 0xffff)), "EINVAL", "e_phoff");
  rejects(() => parseElf(patch(m4, 32, 4, 0xffffffff)), "EINVAL", "e_shoff");
  rejects(() => parseElf(patch(a64, 40, 8, 1n << 63n)), "EINVAL", "e_shoff");
  rejects(() => parseElf(patch(a64, 32, 8, 0xffffffffffffffffn)), "EINVAL", "e_phoff");
});

test("parseElf: segment checks (filesz > memsz, data beyond the file, 64-bit wrap, memsz beyond 2^53)", () => {
  const elf = parseElf(m4);
  const ph1 = elf.header.phoff + 32;
  rejects(() => parseElf(patch(m4, ph1 + 16, 4, 0x1000)), "EINVAL", "programHeaders[1].p_filesz", /p_filesz 0x1000 > p_memsz 0x490/);
  const ph0 = elf.header.phoff;
  rejects(
    () => parseElf(patch(m4, ph0 + 4, 4, m4.byteLength - 8)),
    "EINVAL",
    "programHeaders[0].p_filesz",
    new RegExp(`program header 0: p_offset ${"0x" + (m4.byteLength - 8).toString(16)} \\+ p_filesz 0xac exceeds file size`),
  );
  // offset + filesz wraps 2^32 in ELF32: must still be caught.
  rejects(() => parseElf(patch(m4, ph0 + 4, 4, 0xffffff80)), "EINVAL", "programHeaders[0].p_filesz");
  const e64 = parseElf(a64);
  const q0 = e64.header.phoff;
  // p_offset near 2^64 so that offset + filesz wraps in 64-bit arithmetic.
  rejects(() => parseElf(patch(a64, q0 + 8, 8, 0xffffffffffffff00n)), "EINVAL", "programHeaders[0].p_filesz");
  rejects(() => parseElf(patch(a64, q0 + 40, 8, 1n << 60n)), "EOVERFLOW", "programHeaders[0].p_memsz");
  // A non-LOAD segment may have filesz > memsz (only PT_LOAD is checked, as in the kernel).
  const note = patch(patch(m4, ph1, 4, 4), ph1 + 16, 4, 0x8c + 0x0);
  assert.equal(parseElf(patch(note, ph1 + 20, 4, 0)).programHeaders[1]!.memsz, 0);
});

test("parseElf: section data, name table and names", () => {
  const elf = parseElf(m4);
  const sh = (i: number) => elf.header.shoff + i * 40;
  const text = findSection(elf, ".text")!.index;
  rejects(() => parseElf(patch(m4, sh(text) + 20, 4, 0x100000)), "EINVAL", `sectionHeaders[${text}].sh_size`, /sh_offset 0x1040 \+ sh_size 0x100000 exceeds/);
  rejects(() => parseElf(patch(m4, sh(text) + 16, 4, 0xfffffff0)), "EINVAL", `sectionHeaders[${text}].sh_size`);
  // A NOBITS section may claim any size: it has no file data.
  const bss = findSection(elf, ".bss")!.index;
  assert.equal(parseElf(patch(m4, sh(bss) + 20, 4, 0xfffffff0)).sectionHeaders[bss]!.size, 0xfffffff0);
  rejects(() => parseElf(patch(m4, 50, 2, 9)), "EINVAL", "e_shstrndx", /e_shstrndx 9 is not a section/);
  rejects(() => parseElf(patch(m4, 50, 2, bss)), "EINVAL", "e_shstrndx", /no data/);
  rejects(() => parseElf(patch(m4, sh(text), 4, 0x52)), "EINVAL", `sectionHeaders[${text}].sh_name`, /outside string table/);
  // Last byte of .shstrtab made non-NUL: the last name runs off the table.
  const shstr = elf.sectionHeaders[elf.header.shstrndx]!;
  const unterminated = patch(m4, shstr.offset + shstr.size - 1, 1, 0x41);
  rejects(() => parseElf(unterminated), "EINVAL", /* the section whose name is last in the table */ lastNamed(elf), /not NUL-terminated/);
  const e64 = parseElf(a64);
  const bss64 = findSection(e64, ".bss")!.index;
  rejects(() => parseElf(patch(a64, e64.header.shoff + bss64 * 64 + 32, 8, 1n << 62n)), "EOVERFLOW", `sectionHeaders[${bss64}].sh_size`);
});

function lastNamed(elf: ReturnType<typeof parseElf>): string {
  const last = elf.sectionHeaders.reduce((a, b) => (b.nameOffset > a.nameOffset ? b : a));
  return `sectionHeaders[${last.index}].sh_name`;
}

test("symbol lookup refuses a symbol table whose sh_link is not a section", () => {
  const elf = parseElf(m4);
  const symtab = findSection(elf, ".symtab")!;
  const bad = parseElf(patch(m4, elf.header.shoff + symtab.index * 40 + 24, 4, 99));
  rejects(() => findSymbol(bad, "fw_counter"), "EINVAL", `sectionHeaders[${symtab.index}].sh_link`);
});

// ---- the kernel's rproc_elf_sanity_check, check for check ----

test("elfSanityCheck accepts the little-endian fixtures", () => {
  for (const f of ["stm32mp15-m4.elf", "am64x-r5f.elf", "aarch64.elf", "no-rsc-table.elf"]) elfSanityCheck(load(f));
});

test("elfSanityCheck: each kernel check in order, all EINVAL", () => {
  rejects(() => elfSanityCheck(null), "EINVAL", "fw", /failed to load/);
  rejects(() => elfSanityCheck(m4.subarray(0, 51)), "EINVAL", "size", /^Image is too small/);
  rejects(() => elfSanityCheck(patch(m4, 0, 1, 0)), "EINVAL", "e_ident.EI_MAG", /^Image is corrupted \(bad magic\)/);
  rejects(() => elfSanityCheck(patch(m4, 4, 1, 0)), "EINVAL", "e_ident.EI_CLASS", /^Unsupported class: 0/);
  rejects(() => elfSanityCheck(a64.subarray(0, 63)), "EINVAL", "size", /^elf64 header is too small/);
  rejects(() => elfSanityCheck(be), "EINVAL", "e_ident.EI_DATA", /^Unsupported firmware endianness/);
  elfSanityCheck(be, "big");
  // Only the first section header has to fit.
  rejects(() => elfSanityCheck(patch(m4, 32, 4, m4.byteLength - 39)), "EINVAL", "e_shoff", /^Image is too small/);
  elfSanityCheck(patch(m4, 32, 4, m4.byteLength - 40));
  rejects(() => elfSanityCheck(patch(m4, 44, 2, 0)), "EINVAL", "e_phnum", /^No loadable segments/);
  rejects(() => elfSanityCheck(patch(m4, 28, 4, m4.byteLength + 1)), "EINVAL", "e_phoff", /^Firmware size is too small/);
  elfSanityCheck(patch(m4, 28, 4, m4.byteLength));
  // Not checked by the kernel: e_machine, e_type, e_phentsize.
  elfSanityCheck(patch(patch(m4, 18, 2, 0x1234), 42, 2, 7));
});
