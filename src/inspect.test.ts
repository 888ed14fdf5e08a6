import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readFileSync, readdirSync, mkdtempSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { inspect, isRejection, type InspectReport } from "./inspect.js";
import { EM_NAMES } from "./formats/elf-constants.js";

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
    // Its trace buffer is in DTCM, outside the image (as NXP places it in .bss).
    "imx8mp-m7-tcm.elf": ["warning:trace-outside-image"],
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

test("sections without a name table (e_shstrndx 0): accepted, names empty, a warning says why no table is found", () => {
  const bytes = load("stm32mp15-m4.elf");
  new DataView(bytes.buffer).setUint16(50, 0, true); // e_shstrndx = SHN_UNDEF
  const r = inspect(bytes);
  assert.ok(!isRejection(r));
  assert.ok(r.elf.sections.every((s) => s.name === ""));
  assert.equal(r.resourceTable, null);
  assert.deepEqual(r.diagnostics.map((d) => `${d.severity}:${d.code}:${d.path}`), ["warning:no-section-names:elf.sections", "warning:no-resource-table:resourceTable"]);
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
// Skipped on a developer machine without binutils; under CI (which runs scripts/setup.sh) a missing readelf fails instead of hiding the oracle.
const readelfSkip = readelf || process.env.CI ? false : "readelf not installed (Debian package binutils)";

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
  // Flags are a 3-wide column that grows with more letters; ES is 2 hex digits at least.
  const sec = /^\s+\[\s*(\d+)\]\s(.*?)\s+([A-Z_0-9]+|0x[0-9a-f]+)\s+([0-9a-f]{8,16})\s([0-9a-f]{6,})\s([0-9a-f]{6,})\s[0-9a-f]{2,}\s+(\S*)\s+\d+\s+\d+\s+\d+$/;
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

test("inspect agrees with readelf -h -l -S on every fixture", { skip: readelfSkip }, () => {
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

// Facts readelf prints that the fixtures do not exercise: every section flag
// bit (unknown, OS- and processor-specific ones included, ELF64 high bits,
// the OS ABI's R/D letters, ARM's y) and the machine names rproc knows.

/** A copy of a fixture whose section headers 1.. get `values` as sh_flags (as many files as needed), optionally with another EI_OSABI. */
function withSectionFlags(name: string, values: bigint[], osabi?: number): Uint8Array[] {
  const base = load(name);
  const r = report(name);
  const cls = r.elf.class;
  const dv = new DataView(base.buffer);
  const little = r.elf.endianness === "little";
  const shoff = cls === 32 ? dv.getUint32(32, little) : Number(dv.getBigUint64(40, little));
  const per = r.elf.sections.length - 1;
  const out: Uint8Array[] = [];
  for (let k = 0; k < values.length; k += per) {
    const b = base.slice();
    const d = new DataView(b.buffer);
    if (osabi !== undefined) b[7] = osabi;
    values.slice(k, k + per).forEach((v, i) => {
      const at = shoff + (i + 1) * (cls === 32 ? 40 : 64) + 8;
      if (cls === 32) d.setUint32(at, Number(v), little);
      else d.setBigUint64(at, v, little);
    });
    out.push(b);
  }
  return out;
}

function agreeWithReadelf(bytes: Uint8Array, what: string, sections = true): void {
  const dir = mkdtempSync(join(tmpdir(), "rproc-readelf-"));
  const path = join(dir, "x.elf");
  writeFileSync(path, bytes);
  const r = inspect(bytes);
  assert.ok(!isRejection(r), `${what}: ${JSON.stringify(r)}`);
  const o = runReadelf(path);
  assert.equal(r.elf.machineName, o.machine, `${what}: machine`);
  // (Another e_machine makes .ARM.attributes an unnamed processor type, printed differently: not compared then.)
  if (sections) assert.deepEqual(
    r.elf.sections.map((s) => [s.name, s.flags]),
    o.sections.map((s) => [s.name, s.flags]),
    `${what}: section flags`,
  );
}

test("section flag letters and machine names agree with readelf for every flag bit and known e_machine", { skip: readelfSkip }, () => {
  const bits = Array.from({ length: 32 }, (_, i) => 1n << BigInt(i));
  const combos = [0xffffffffn, 0x30000000n, 0x20000002n, 0x0ff00000n, 0x00300000n, 0x80000003n, 0x01200000n, 0x10000000n | 0x80000000n];
  const high = [1n << 32n, (1n << 40n) | 2n, 0xffffffff00000007n];
  withSectionFlags("stm32mp15-m4.elf", [...bits, ...combos]).forEach((b, i) => agreeWithReadelf(b, `ARM #${i}`));
  withSectionFlags("aarch64.elf", [...bits, ...combos, ...high]).forEach((b, i) => agreeWithReadelf(b, `AArch64 #${i}`));
  withSectionFlags("bigendian.elf", [...bits, ...combos]).forEach((b, i) => agreeWithReadelf(b, `big-endian #${i}`));
  // The OS ABI decides whether the GNU OS bits have letters (R, D) or are one "o".
  const osBits = [0x00100000n, 0x00200000n, 0x01000000n, 0x01200000n, 0x00300000n, 0x0ff00000n];
  for (const osabi of [3, 9, 97]) withSectionFlags("stm32mp15-m4.elf", osBits, osabi).forEach((b, i) => agreeWithReadelf(b, `ARM osabi ${osabi} #${i}`));
  const m4 = load("stm32mp15-m4.elf");
  for (const machine of [...Object.keys(EM_NAMES).map(Number), 0x1234]) {
    const b = m4.slice();
    new DataView(b.buffer).setUint16(18, machine, true);
    agreeWithReadelf(b, `e_machine ${machine}`, false);
  }
});

// The committed fixtures are what their sources build to (fixtures/firmware/build.sh).
const toolchains = ["arm-none-eabi-gcc", "aarch64-linux-gnu-gcc"].every((t) => spawnSync(t, ["--version"]).status === 0);

test("the prebuilt fixtures rebuild byte for byte from their sources, in any folder", { skip: toolchains ? false : "gcc-arm-none-eabi / gcc-aarch64-linux-gnu not installed (fixtures are prebuilt; only a rebuild needs them)" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-fixtures-"));
  cpSync(fileURLToPath(FW), dir, { recursive: true });
  const r = spawnSync("bash", [join(dir, "build.sh")], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  // build.sh rewrites SHA256SUMS in the copy; compare it with the committed one.
  assert.equal(readFileSync(join(dir, "SHA256SUMS"), "utf8"), readFileSync(new URL("SHA256SUMS", FW), "utf8"));
});
