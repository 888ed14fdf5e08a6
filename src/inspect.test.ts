import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { inspect, isRejection, type InspectReport } from "./inspect.js";

const FW = new URL("../fixtures/firmware/", import.meta.url);
const fixtures = readdirSync(FW).filter((f) => f.endsWith(".elf")).sort();
const load = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, FW)));

function report(name: string): InspectReport {
  const r = inspect(load(name), { file: name });
  assert.ok(!isRejection(r), `${name}: ${JSON.stringify(r)}`);
  return r;
}

test("every fixture is accepted, with the expected diagnostics", () => {
  const seen: Record<string, string[]> = {};
  for (const f of fixtures) seen[f] = report(f).diagnostics.map((d) => `${d.severity}:${d.code}`);
  assert.deepEqual(seen, {
    "aarch64.elf": [],
    "am64x-r5f-nodevmem.elf": [],
    "am64x-r5f.elf": ["info:devmem-needs-iommu"],
    "bigendian.elf": ["warning:elf-not-little-endian", "info:resource-table-byte-order"],
    "no-rsc-table.elf": ["warning:no-resource-table"],
    "stm32mp15-m4.elf": [],
  });
});

test("report shape: the resource table with file offset, address and entries", () => {
  const r = report("stm32mp15-m4.elf");
  assert.equal(r.file, "stm32mp15-m4.elf");
  assert.equal(r.size, load("stm32mp15-m4.elf").byteLength);
  assert.equal(r.elf.machineName, "ARM");
  const t = r.resourceTable!;
  assert.equal(t.section, ".resource_table");
  assert.equal(t.address, 0x10000000);
  assert.equal(t.offset, r.elf.sections.find((s) => s.name === ".resource_table")!.offset);
  assert.deepEqual(t.entries[0], {
    index: 0,
    offset: 0x18,
    type: "vdev",
    id: 7,
    notifyid: 0,
    dfeatures: 1,
    gfeatures: 0,
    configLen: 0,
    status: 0,
    vrings: [
      { da: 0x10040000, align: 16, num: 16, notifyid: 0, pa: 0 },
      { da: 0x10041000, align: 16, num: 16, notifyid: 1, pa: 0 },
    ],
  });
  assert.equal(report("no-rsc-table.elf").resourceTable, null);
  // The report is plain JSON data: it survives a round trip unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
});

test("rejections are returned, not thrown, with errno name and field", () => {
  const r = inspect(new TextEncoder().encode("hello, not firmware at all".repeat(4)), { file: "x.bin" });
  assert.ok(isRejection(r));
  assert.deepEqual(r, { file: "x.bin", error: { code: "EINVAL", message: "Image is corrupted (bad magic): not an ELF file", field: "e_ident.EI_MAG" } });
  // The OP-TEE signed-image magic dispatches to the signed-image inspector (test/tee/inspect-signed.test.ts), which refuses this empty header.
  const signed = new Uint8Array(64);
  signed.set([0x68, 0xa4, 0x43, 0x35]);
  const s = inspect(signed);
  assert.ok(isRejection(s) && s.error.field === "header.sign_len" && s.error.teeError === "TEE_ERROR_BAD_PARAMETERS" && s.file === "<memory>");
  // A broken resource table rejects the file, naming the table field.
  const bytes = load("stm32mp15-m4.elf");
  const off = report("stm32mp15-m4.elf").resourceTable!.offset;
  bytes[off] = 2; // ver = 2
  const bad = inspect(bytes);
  assert.ok(isRejection(bad));
  assert.equal(bad.error.field, "resourceTable.ver");
});

test("64-bit values above 2^53-1 are 0x strings in the report", () => {
  const bytes = load("aarch64.elf");
  new DataView(bytes.buffer).setBigUint64(24, 0xffff_0000_a000_0000n, true); // e_entry
  const r = inspect(bytes);
  assert.ok(!isRejection(r));
  assert.equal(r.elf.entry, "0xffff0000a0000000");
  assert.equal(r.elf.segments[0]!.vaddr, 0xa0000000);
});

test("a diagnostic of severity error comes from resource-table lint", () => {
  const bytes = load("stm32mp15-m4.elf");
  const r0 = report("stm32mp15-m4.elf");
  const t = r0.resourceTable!;
  const vdev = t.entries[0]!;
  // vring0.num (vdev body +24 +8) = 0
  new DataView(bytes.buffer).setUint32(t.offset + vdev.offset + 4 + 24 + 8, 0, true);
  const r = inspect(bytes);
  assert.ok(!isRejection(r));
  assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.code, d.path]), [["error", "vring-num-zero", "resourceTable.entries[0].vrings[0].num"]]);
});

// ---- readelf as the oracle ----

const readelf = spawnSync("readelf", ["--version"]).status === 0;

interface ReadelfView {
  class: number;
  endianness: string;
  type: string;
  machine: string;
  entry: bigint;
  segments: { type: string; offset: bigint; vaddr: bigint; paddr: bigint; filesz: bigint; memsz: bigint; flags: string }[];
  sections: { name: string; type: string; addr: bigint; offset: bigint; size: bigint; flags: string }[];
}

function runReadelf(path: string): ReadelfView {
  const r = spawnSync("readelf", ["--wide", "-h", "-l", "-S", path], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const field = (label: string) => {
    const m = new RegExp(`^\\s*${label}:\\s+(.*)$`, "m").exec(r.stdout);
    assert.ok(m, `readelf output has ${label}`);
    return m[1]!.trim();
  };
  const out: ReadelfView = {
    class: field("Class") === "ELF64" ? 64 : 32,
    endianness: /little endian/.test(field("Data")) ? "little" : "big",
    type: field("Type").split(" ")[0]!,
    machine: field("Machine"),
    entry: BigInt(field("Entry point address")),
    segments: [],
    sections: [],
  };
  const seg = /^\s+([A-Z_]+|0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s(.{3})\s+0x[0-9a-f]+$/;
  const sec = /^\s+\[\s*(\d+)\]\s(.*?)\s+([A-Z_0-9]+|0x[0-9a-f]+)\s+([0-9a-f]{8,16})\s([0-9a-f]{6,})\s([0-9a-f]{6,})\s[0-9a-f]{2}\s(.{3})\s+\d+\s+\d+\s+\d+$/;
  for (const line of r.stdout.split("\n")) {
    const s = seg.exec(line);
    if (s) {
      const flags = s[7]!.replace(/ /g, "").replace("E", "X");
      out.segments.push({ type: s[1]!, offset: BigInt(s[2]!), vaddr: BigInt(s[3]!), paddr: BigInt(s[4]!), filesz: BigInt(s[5]!), memsz: BigInt(s[6]!), flags });
      continue;
    }
    const c = sec.exec(line);
    if (c) out.sections.push({ name: c[2]!.trim(), type: c[3]!, addr: BigInt("0x" + c[4]), offset: BigInt("0x" + c[5]), size: BigInt("0x" + c[6]), flags: c[7]!.trim() });
  }
  return out;
}

const big = (v: number | string) => BigInt(v);

test("inspect agrees with readelf -h -l -S on every fixture", { skip: readelf ? false : "readelf not installed (Debian package binutils)" }, () => {
  assert.ok(fixtures.length >= 6);
  for (const f of fixtures) {
    const r = report(f);
    const o = runReadelf(fileURLToPath(new URL(f, FW)));
    assert.equal(r.elf.class, o.class, f);
    assert.equal(r.elf.endianness, o.endianness, f);
    assert.equal(r.elf.type, o.type, f);
    assert.equal(r.elf.machineName, o.machine, f);
    assert.equal(big(r.elf.entry), o.entry, f);
    assert.equal(r.elf.segments.length, o.segments.length, `${f}: segment count`);
    r.elf.segments.forEach((s, i) => {
      const x = o.segments[i]!;
      assert.deepEqual(
        [s.type, big(s.offset), big(s.vaddr), big(s.paddr), big(s.filesz), big(s.memsz), s.flags],
        [x.type, x.offset, x.vaddr, x.paddr, x.filesz, x.memsz, x.flags],
        `${f}: segment ${i}`,
      );
    });
    assert.equal(r.elf.sections.length, o.sections.length, `${f}: section count`);
    r.elf.sections.forEach((s, i) => {
      const x = o.sections[i]!;
      assert.deepEqual([s.name, s.type, big(s.addr), big(s.offset), big(s.size), s.flags], [x.name, x.type, x.addr, x.offset, x.size, x.flags], `${f}: section ${i}`);
    });
  }
});
