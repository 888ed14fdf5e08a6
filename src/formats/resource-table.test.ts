import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { RprocError } from "../errors.js";
import { parseElf, findSection, type ElfFile } from "./elf.js";
import {
  parseResourceTable,
  encodeResourceTable,
  lintResourceTable,
  findResourceTable,
  FW_RSC_ADDR_ANY,
  RSC_CARVEOUT,
  RSC_DEVMEM,
  RSC_TRACE,
  RSC_VDEV,
  VDEV_OFF,
  type VdevRsc,
} from "./resource-table.js";

const FW = new URL("../../fixtures/firmware/", import.meta.url);
const fixtures = readdirSync(FW).filter((f) => f.endsWith(".elf"));
const elfOf = (name: string): ElfFile => parseElf(new Uint8Array(readFileSync(new URL(name, FW))));

function rejects(fn: () => unknown, field: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RprocError, `expected RprocError, got ${String(e)}`);
    assert.equal(e.code, "EINVAL", e.message);
    assert.equal(e.field, field, e.message);
    // The issue asks for the field, the value and the limit on every failure.
    assert.notEqual(e.value, undefined, `${field}: no value`);
    assert.notEqual(e.limit, undefined, `${field}: no limit`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

/** Builds a little-endian table from raw entries (each: type word + body bytes). */
function table(entries: { type: number; body: number[] }[], opts: { ver?: number; reserved?: [number, number]; pad?: number; size?: number } = {}): Uint8Array {
  const hdr = 16 + 4 * entries.length;
  const size = opts.size ?? hdr + entries.reduce((n, e) => n + 4 + e.body.length, 0) + (opts.pad ?? 0);
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  if (size >= 16) {
    dv.setUint32(0, opts.ver ?? 1, true);
    dv.setUint32(4, entries.length, true);
    dv.setUint32(8, opts.reserved?.[0] ?? 0, true);
    dv.setUint32(12, opts.reserved?.[1] ?? 0, true);
  }
  let off = hdr;
  entries.forEach((e, i) => {
    if (16 + 4 * i + 4 <= size) dv.setUint32(16 + 4 * i, off, true);
    if (off + 4 <= size) dv.setUint32(off, e.type, true);
    if (off + 4 < size) b.set(e.body.slice(0, size - off - 4), off + 4);
    off += 4 + e.body.length;
  });
  return b;
}

const u32 = (...v: number[]) => v.flatMap((x) => [x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, x >>> 24]);
const name32 = (s: string) => Array.from({ length: 32 }, (_, i) => (i < s.length ? s.charCodeAt(i) : 0));
const carveout = (da: number, len: number, name: string, reserved = 0) => ({ type: RSC_CARVEOUT, body: [...u32(da, da, len, 0, reserved), ...name32(name)] });
const devmem = (da: number, len: number, name: string) => ({ type: RSC_DEVMEM, body: [...u32(da, da, len, 0, 0), ...name32(name)] });
const trace = (da: number, len: number, name: string, reserved = 0) => ({ type: RSC_TRACE, body: [...u32(da, len, reserved), ...name32(name)] });
function vdev(o: { id?: number; status?: number; reserved?: [number, number]; vrings?: [number, number, number][]; config?: number[]; numOfVrings?: number; configLen?: number } = {}) {
  const vrings = o.vrings ?? [
    [FW_RSC_ADDR_ANY, 16, 16],
    [FW_RSC_ADDR_ANY, 16, 16],
  ];
  const config = o.config ?? [];
  return {
    type: RSC_VDEV,
    body: [
      ...u32(o.id ?? 7, 0, 1, 0, o.configLen ?? config.length),
      o.status ?? 0,
      o.numOfVrings ?? vrings.length,
      ...(o.reserved ?? [0, 0]),
      ...vrings.flatMap(([da, align, num], i) => u32(da, align, num, i, 0)),
      ...config,
    ],
  };
}

test("every fixture's table decodes and re-encodes byte for byte", () => {
  let tables = 0;
  for (const f of fixtures) {
    const elf = elfOf(f);
    const found = findResourceTable(elf);
    if (f === "no-rsc-table.elf") {
      assert.equal(found, undefined);
      continue;
    }
    assert.ok(found, f);
    const order = elf.header.endianness;
    const t = parseResourceTable(found.bytes, order);
    assert.deepEqual(encodeResourceTable(t, order), found.bytes.slice(), f);
    tables++;
  }
  assert.ok(tables >= 5);
});

test("the M4 fixture's table is what the firmware source declares", () => {
  const elf = elfOf("stm32mp15-m4.elf");
  const t = parseResourceTable(findResourceTable(elf)!.bytes);
  assert.equal(t.version, 1);
  assert.deepEqual(t.entries.map((e) => e.type), ["vdev", "trace"]);
  const v = t.entries[0] as VdevRsc;
  assert.equal(v.id, 7);
  assert.deepEqual(v.vrings.map((r) => [r.da, r.num, r.align]), [
    [0x10040000, 16, 16],
    [0x10041000, 16, 16],
  ]);
  const tr = t.entries[1]!;
  assert.ok(tr.type === "trace" && tr.name === "cm4_log" && tr.len === 1024 && tr.nameTerminated);
  assert.deepEqual(lintResourceTable(t, elf), []);
});

test("the AM64x table has carveouts (fixed and ANY), devmem, vendor, trace and vdev", () => {
  const t = parseResourceTable(findResourceTable(elfOf("am64x-r5f.elf"))!.bytes);
  assert.deepEqual(t.entries.map((e) => e.type), ["carveout", "carveout", "devmem", "vendor", "trace", "vdev"]);
  const any = t.entries[1]!;
  assert.ok(any.type === "carveout" && any.da === FW_RSC_ADDR_ANY);
  const vendor = t.entries[3]!;
  assert.ok(vendor.type === "vendor" && vendor.typeId === 130 && vendor.len === t.entries[4]!.offset - vendor.offset - 4);
  const nodev = parseResourceTable(findResourceTable(elfOf("am64x-r5f-nodevmem.elf"))!.bytes);
  assert.ok(!nodev.entries.some((e) => e.type === "devmem"));
});

test("encode writes edited fields in place and keeps everything else", () => {
  const bytes = table([carveout(0x1000, 0x2000, "code"), vdev(), trace(0x3000, 0x100, "log")], { pad: 12 });
  bytes[bytes.length - 1] = 0xaa; // trailing byte no entry describes
  const t = parseResourceTable(bytes);
  const c = t.entries[0]!;
  assert.equal(c.type, "carveout");
  if (c.type === "carveout") {
    c.pa = 0x8000_0000;
    c.name = "renamed";
  }
  const v = t.entries[1] as VdevRsc;
  v.vrings[1]!.da = 0x4000;
  v.status = 0xf;
  const out = encodeResourceTable(t);
  assert.equal(out[out.length - 1], 0xaa);
  const again = parseResourceTable(out);
  const c2 = again.entries[0]!;
  assert.ok(c2.type === "carveout" && c2.pa === 0x8000_0000 && c2.name === "renamed");
  const v2 = again.entries[1] as VdevRsc;
  assert.equal(v2.vrings[1]!.da, 0x4000);
  assert.equal(v2.status, 0xf);
  assert.equal(new DataView(out.buffer).getUint8(v2.offset + 4 + VDEV_OFF.status), 0xf);
  // An over-long name is refused, not truncated silently.
  if (c.type === "carveout") c.name = "x".repeat(33);
  rejects(() => encodeResourceTable(t), "resourceTable.entries[0].name");
});

test("vdev config space is decoded as a view and re-encoded", () => {
  const bytes = table([vdev({ config: [1, 2, 3, 4, 5, 6, 7, 8] })]);
  const t = parseResourceTable(bytes);
  const v = t.entries[0] as VdevRsc;
  assert.deepEqual([...v.config], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(encodeResourceTable(t), bytes);
});

test("big-endian tables decode in the requested byte order", () => {
  const elf = elfOf("bigendian.elf");
  const bytes = findResourceTable(elf)!.bytes;
  rejects(() => parseResourceTable(bytes), "resourceTable.ver", /unsupported fw ver: 16777216/);
  assert.equal(parseResourceTable(bytes, "big").entries.length, 3);
});

// ---- find_table header checks (spec §3.4) ----

test("header checks: header-less, version, reserved, incomplete", () => {
  rejects(() => parseResourceTable(new Uint8Array(15)), "resourceTable.size", /header-less resource table/);
  rejects(() => parseResourceTable(table([], { ver: 2 })), "resourceTable.ver", /unsupported fw ver: 2/);
  rejects(() => parseResourceTable(table([], { reserved: [1, 0] })), "resourceTable.reserved[0]", /non zero reserved bytes/);
  rejects(() => parseResourceTable(table([], { reserved: [0, 5] })), "resourceTable.reserved[1]", /non zero reserved bytes/);
  const incomplete = table([carveout(0, 4, "a")], { size: 19 });
  rejects(() => parseResourceTable(incomplete), "resourceTable.num", /resource table incomplete/);
  const huge = table([]);
  new DataView(huge.buffer).setUint32(4, 0xffffffff, true);
  rejects(() => parseResourceTable(huge), "resourceTable.num");
  assert.equal(parseResourceTable(table([])).entries.length, 0);
});

// ---- rproc_handle_resources and the per-type handlers (spec §4.1–4.5) ----

test("entry offset must leave room for the fw_rsc_hdr", () => {
  const b = table([trace(0, 16, "t")]);
  new DataView(b.buffer).setUint32(16, b.length - 3, true);
  rejects(() => parseResourceTable(b), "resourceTable.offset[0]", /rsc table is truncated/);
  new DataView(b.buffer).setUint32(16, 0xfffffffc, true);
  rejects(() => parseResourceTable(b), "resourceTable.offset[0]");
});

test("carveout/devmem/trace: truncated and non-zero reserved", () => {
  const cut = (e: { type: number; body: number[] }, keep: number) => table([e], { size: 20 + 4 + keep });
  rejects(() => parseResourceTable(cut(carveout(0, 1, "c"), 51)), "resourceTable.entries[0].carveout", /carveout rsc is truncated/);
  rejects(() => parseResourceTable(cut(devmem(0, 1, "d"), 51)), "resourceTable.entries[0].devmem", /devmem rsc is truncated/);
  rejects(() => parseResourceTable(cut(trace(0, 1, "t"), 43)), "resourceTable.entries[0].trace", /trace rsc is truncated/);
  parseResourceTable(cut(carveout(0, 1, "c"), 52));
  parseResourceTable(cut(trace(0, 1, "t"), 44));
  rejects(() => parseResourceTable(table([carveout(0, 1, "c", 7)])), "resourceTable.entries[0].reserved");
  rejects(() => parseResourceTable(table([trace(0, 1, "t", 1)])), "resourceTable.entries[0].reserved");
});

test("vdev: truncated fixed part, truncated vrings/config, reserved, too many vrings", () => {
  rejects(() => parseResourceTable(table([vdev()], { size: 20 + 4 + 23 })), "resourceTable.entries[0].vdev", /vdev rsc is truncated/);
  rejects(() => parseResourceTable(table([vdev()], { size: 20 + 4 + 24 + 39 })), "resourceTable.entries[0].configLen", /vdev rsc is truncated/);
  rejects(() => parseResourceTable(table([vdev({ configLen: 0xffffffff })])), "resourceTable.entries[0].configLen");
  rejects(() => parseResourceTable(table([vdev({ reserved: [0, 1] })])), "resourceTable.entries[0].reserved[1]");
  const three = vdev({ vrings: [[0, 16, 16], [0, 16, 16], [0, 16, 16]] });
  rejects(() => parseResourceTable(table([three])), "resourceTable.entries[0].numOfVrings", /too many vrings: 3 > 2/);
});

test("vendor and unknown types are kept, not refused (the kernel skips or delegates them)", () => {
  const t = parseResourceTable(table([{ type: 200, body: [1, 2, 3, 4] }, { type: 5, body: [] }, { type: 513, body: [] }, { type: 512, body: [9] }]));
  assert.deepEqual(t.entries.map((e) => e.type), ["vendor", "unknown", "unknown", "vendor"]);
  const v = t.entries[0]!;
  assert.ok(v.type === "vendor" && v.len === 4 && v.body[3] === 4);
});

test("findResourceTable applies find_table's truncation check to a NOBITS .resource_table", () => {
  const bytes = new Uint8Array(readFileSync(new URL("stm32mp15-m4.elf", FW)));
  const elf = parseElf(bytes);
  const rt = findSection(elf, ".resource_table")!;
  const sh = elf.header.shoff + rt.index * 40;
  const dv = new DataView(bytes.buffer);
  dv.setUint32(sh + 4, 8, true); // SHT_NOBITS: parseElf does not bound its data
  dv.setUint32(sh + 20, 0x100000, true);
  rejects(() => findResourceTable(parseElf(bytes)), `sectionHeaders[${rt.index}].sh_size`, /resource table truncated/);
});

// ---- lint ----

function codes(bytes: Uint8Array, elf?: ElfFile): string[] {
  return lintResourceTable(parseResourceTable(bytes), elf).map((d) => d.code);
}

test("lint: vring, vdev and rpmsg findings", () => {
  assert.deepEqual(codes(table([vdev({ vrings: [[0x1000, 16, 0], [0x2000, 0, 16]] })])), ["vring-num-zero", "vring-align-zero"]);
  assert.deepEqual(codes(table([vdev({ vrings: [[0x1000, 24, 10], [0x2000, 16, 16]] })])), ["vring-num-not-power-of-two", "vring-align-not-power-of-two"]);
  assert.deepEqual(codes(table([vdev({ vrings: [[0x1000, 16, 16]] })])), ["rpmsg-needs-two-vrings"]);
  assert.deepEqual(codes(table([vdev({ vrings: [[0x1000, 16, 16], [0x1000, 16, 16]] })])), ["vrings-same-da"]);
  assert.deepEqual(codes(table([vdev({ status: 7 })])), ["vdev-status-nonzero"]);
  assert.deepEqual(codes(table([vdev({ id: 3, vrings: [[0, 16, 16]] })])), []);
});

test("lint: carveouts, devmem, trace, names", () => {
  assert.deepEqual(codes(table([carveout(0x1000, 0, "z")])), ["carveout-zero-length"]);
  assert.deepEqual(codes(table([carveout(0xfffff000, 0x2000, "w")])), ["carveout-wraps"]);
  assert.deepEqual(codes(table([carveout(0x1000, 0x100, "a"), carveout(0x2000, 0x100, "a")])), ["duplicate-carveout-name"]);
  assert.deepEqual(codes(table([trace(0x1000, 0x10, "t"), trace(0x2000, 0x10, "t")])), ["duplicate-name"]);
  assert.deepEqual(codes(table([carveout(0x1000, 0x100, "t"), trace(0x2000, 0x10, "t")])), [], "different types may share a name");
  assert.deepEqual(codes(table([carveout(0x1000, 0x100, "a"), carveout(0x10f0, 0x100, "b")])), ["carveouts-overlap"]);
  assert.deepEqual(codes(table([devmem(0x2800000, 0x1000, "uart")])), ["devmem-needs-iommu"]);
  assert.deepEqual(codes(table([devmem(FW_RSC_ADDR_ANY, 0x1000, "uart")])), ["devmem-needs-iommu", "devmem-addr-any"]);
  assert.deepEqual(codes(table([trace(FW_RSC_ADDR_ANY, 0x10, "t")])), ["trace-addr-any"]);
  assert.deepEqual(codes(table([trace(0x1000, 0, "t")])), ["trace-zero-length"]);
  assert.deepEqual(codes(table([trace(0x1000, 0x10, "y".repeat(32))])), ["name-not-terminated"]);
});

test("lint: table layout (unknown type, vendor last, overlapping and unaligned entries, empty)", () => {
  assert.deepEqual(codes(table([{ type: 9, body: [] }])), ["unsupported-resource-type"]);
  assert.deepEqual(codes(table([{ type: 300, body: [0, 0, 0, 0] }])), ["vendor-resource-last"]);
  assert.deepEqual(codes(table([{ type: 300, body: [0, 0, 0, 0] }, trace(0x10, 0x10, "t")])), []);
  const overlap = table([trace(0x10, 0x10, "a"), trace(0x20, 0x10, "b")]);
  new DataView(overlap.buffer).setUint32(20, 24, true); // both offsets name the same entry
  assert.deepEqual(codes(overlap), ["entries-overlap"]);
  const unaligned = table([trace(0x10, 0x10, "a")], { pad: 2 });
  unaligned.copyWithin(22, 20, unaligned.length - 2); // move the entry 2 bytes up
  new DataView(unaligned.buffer).setUint32(16, 22, true);
  assert.deepEqual(codes(unaligned), ["entry-unaligned"]);
  const inHeader = table([trace(0x10, 0x10, "a")], { pad: 8 });
  new DataView(inHeader.buffer).setUint32(16, 12, true);
  // Offset 12 lands the entry on reserved[1] = 0 (type carveout) in the header: still decoded, flagged.
  assert.ok(codes(inHeader).includes("entry-overlaps-header"));
  assert.deepEqual(codes(table([])), ["empty-resource-table"]);
});

test("lint against the ELF: table outside the loaded segments, trace outside the image", () => {
  const elf = elfOf("stm32mp15-m4.elf");
  const t = parseResourceTable(findResourceTable(elf)!.bytes);
  const tr = t.entries[1]!;
  if (tr.type === "trace") tr.da = 0x20000000;
  assert.deepEqual(lintResourceTable(t, elf).map((d) => d.code), ["trace-outside-image"]);
  const moved = { ...elf, sectionHeaders: elf.sectionHeaders.map((s) => (s.name === ".resource_table" ? { ...s, addr: 0x30000000 } : s)) };
  assert.ok(lintResourceTable(t, moved).some((d) => d.code === "resource-table-not-loaded"));
});

/** A table of n entries alternating between one vendor and one trace entry: every second entry overlaps. */
function hostileTable(n: number): Uint8Array {
  const hdr = 16 + 4 * n;
  const b = new Uint8Array(hdr + 8 + 48);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 1, true);
  dv.setUint32(4, n, true);
  dv.setUint32(hdr, 300, true); // a vendor entry...
  dv.setUint32(hdr + 8, RSC_TRACE, true); // ...and a trace entry
  for (let i = 0; i < n; i++) dv.setUint32(16 + 4 * i, i % 2 ? hdr : hdr + 8, true);
  return b;
}

test("a hostile table with 100,000 entries is decoded and linted in linear-ish time", () => {
  const time = (n: number) => {
    const b = hostileTable(n);
    const t0 = performance.now();
    const t = parseResourceTable(b);
    const found = lintResourceTable(t);
    const ms = performance.now() - t0;
    assert.equal(t.entries.length, n);
    assert.equal(found.filter((d) => d.code === "entries-overlap").length, n / 2 - 1);
    return ms;
  };
  // A ratio, not a wall-clock bound, so a loaded machine does not fail it: 16 times the
  // entries costs about 16x (n log n: ~22x); a quadratic step would cost 256x.
  const small = Math.min(time(6_250), time(6_250), time(6_250));
  const big = time(100_000);
  assert.ok(big < 64 * Math.max(small, 1), `100,000 entries took ${big.toFixed(0)} ms, 6,250 took ${small.toFixed(0)} ms`);
});
