/**
 * The remoteproc resource table (`struct resource_table` and its entries,
 * include/linux/remoteproc.h): decode with the kernel's checks, encode back
 * byte for byte, locate it in an ELF image.
 *
 * Byte order: the kernel never byte-swaps firmware structures; they are in
 * the host's order, and the ELF loader refuses firmware whose order differs
 * from the host's. Every remoteproc host in mainline is little-endian, so the
 * tables are little-endian here by default; callers decoding a big-endian
 * image may pass "big" to read it as that image's own code would.
 */
import { RprocError, hex } from "../errors.js";
import { ByteView, ByteWriter, cString, type Endianness } from "./bytes.js";
import { findSection, type ElfFile, type SectionHeader } from "./elf.js";

export { lintResourceTable } from "./resource-table-lint.js";

export const RSC_CARVEOUT = 0, RSC_DEVMEM = 1, RSC_TRACE = 2, RSC_VDEV = 3, RSC_LAST = 4;
export const RSC_VENDOR_START = 128, RSC_VENDOR_END = 512;
export const FW_RSC_ADDR_ANY = 0xffffffff;
/** RVDEV_NUM_VRINGS: the most vrings a vdev entry may declare. */
export const RVDEV_NUM_VRINGS = 2;
export const RSC_HDR_SIZE = 4, CARVEOUT_SIZE = 52, DEVMEM_SIZE = 52, TRACE_SIZE = 44, VDEV_SIZE = 24, VRING_SIZE = 20, TABLE_HDR_SIZE = 16;
export const RSC_NAME_SIZE = 32;
export const RESOURCE_TABLE_SECTION = ".resource_table";
/** The vdev id of rpmsg (VIRTIO_ID_RPMSG, include/uapi/linux/virtio_ids.h). */
export const VIRTIO_ID_RPMSG = 7;

/** Field offsets relative to the entry body (after the 4-byte fw_rsc_hdr.type). Devmem is laid out like carveout. */
export const CARVEOUT_OFF = { da: 0, pa: 4, len: 8, flags: 12, reserved: 16, name: 20 } as const;
export const DEVMEM_OFF = CARVEOUT_OFF;
export const TRACE_OFF = { da: 0, len: 4, reserved: 8, name: 12 } as const;
export const VDEV_OFF = { id: 0, notifyid: 4, dfeatures: 8, gfeatures: 12, configLen: 16, status: 20, numOfVrings: 21, reserved: 22, vrings: 24 } as const;
export const VRING_OFF = { da: 0, align: 4, num: 8, notifyid: 12, pa: 16 } as const;

interface EntryBase {
  index: number;
  /** Offset of the entry's fw_rsc_hdr from the start of the table (the value in offset[]). */
  offset: number;
}
export interface CarveoutRsc extends EntryBase {
  type: "carveout";
  da: number;
  pa: number;
  len: number;
  flags: number;
  reserved: number;
  name: string;
  nameTerminated: boolean;
}
export interface DevmemRsc extends Omit<CarveoutRsc, "type"> {
  type: "devmem";
}
export interface TraceRsc extends EntryBase {
  type: "trace";
  da: number;
  len: number;
  reserved: number;
  name: string;
  nameTerminated: boolean;
}
export interface VringRsc {
  da: number;
  align: number;
  num: number;
  notifyid: number;
  pa: number;
}
export interface VdevRsc extends EntryBase {
  type: "vdev";
  id: number;
  notifyid: number;
  dfeatures: number;
  gfeatures: number;
  configLen: number;
  status: number;
  numOfVrings: number;
  reserved: [number, number];
  vrings: VringRsc[];
  /** View of the config space (config_len bytes after the vrings). */
  config: Uint8Array;
}
export interface VendorRsc extends EntryBase {
  type: "vendor";
  typeId: number;
  /** Bytes from the body start to the next entry (by offset) or the table end. */
  len: number;
  body: Uint8Array;
}
export interface UnknownRsc extends EntryBase {
  type: "unknown";
  typeId: number;
}
export type RscEntry = CarveoutRsc | DevmemRsc | TraceRsc | VdevRsc | VendorRsc | UnknownRsc;

export interface ResourceTable {
  version: number;
  num: number;
  reserved: [number, number];
  offsets: number[];
  entries: RscEntry[];
  /** Table size in bytes (the section size, table_sz). */
  size: number;
  /** View of the whole table. */
  bytes: Uint8Array;
}

function einval(field: string, message: string, value?: number | string, limit?: number | string): RprocError {
  return new RprocError("EINVAL", message, { field, value, limit });
}

/** find_table's header checks (spec §3.4), in the kernel's order. */
function parseHeader(v: ByteView): Pick<ResourceTable, "version" | "num" | "reserved" | "offsets"> {
  const size = v.length;
  if (size < TABLE_HDR_SIZE) {
    throw einval("resourceTable.size", `header-less resource table: size ${hex(size)} < ${hex(TABLE_HDR_SIZE)}`, size, TABLE_HDR_SIZE);
  }
  const version = v.u32(0, "resourceTable.ver");
  if (version !== 1) throw einval("resourceTable.ver", `unsupported fw ver: ${version}`, version, 1);
  const reserved: [number, number] = [v.u32(8, "resourceTable.reserved[0]"), v.u32(12, "resourceTable.reserved[1]")];
  if (reserved[0] !== 0 || reserved[1] !== 0) {
    const i = reserved[0] !== 0 ? 0 : 1;
    throw einval(`resourceTable.reserved[${i}]`, `non zero reserved bytes: ${hex(reserved[0])} ${hex(reserved[1])}`, reserved[i], 0);
  }
  const num = v.u32(4, "resourceTable.num");
  const need = TABLE_HDR_SIZE + 4 * num;
  if (need > size) {
    throw einval("resourceTable.num", `resource table incomplete: ${num} entries need ${hex(need)} bytes, table is ${hex(size)}`, need, size);
  }
  const offsets: number[] = [];
  for (let i = 0; i < num; i++) offsets.push(v.u32(TABLE_HDR_SIZE + 4 * i, `resourceTable.offset[${i}]`));
  return { version, num, reserved, offsets };
}

function name(v: ByteView, off: number, field: string): { name: string; nameTerminated: boolean } {
  const c = cString(v.sub(off, RSC_NAME_SIZE, field));
  return { name: c.text, nameTerminated: c.terminated };
}

/** Kernel: `sizeof(*rsc) > avail` → "<what> rsc is truncated". */
function needBody(what: string, field: string, need: number, avail: number): void {
  if (need > avail) throw einval(field, `${what} rsc is truncated: needs ${hex(need)} bytes, ${hex(avail)} available`, need, avail);
}

/** The smallest entry offset above `offset`, by binary search over the sorted offsets (tables can be huge). */
function nextOffset(sorted: number[], offset: number, end: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length ? Math.min(sorted[lo]!, end) : end;
}

function parseEntry(v: ByteView, index: number, offset: number, sortedOffsets: number[]): RscEntry {
  const p = `resourceTable.entries[${index}]`;
  const size = v.length;
  // rproc_handle_resources: avail = table_sz - offset - sizeof(*hdr), must not be negative.
  if (offset + RSC_HDR_SIZE > size) {
    throw einval(`resourceTable.offset[${index}]`, `rsc table is truncated: entry ${index} at offset ${hex(offset)} + header ${hex(RSC_HDR_SIZE)} exceeds table size ${hex(size)}`, offset, size);
  }
  const typeId = v.u32(offset, `${p}.type`);
  const body = offset + RSC_HDR_SIZE;
  const avail = size - body;
  if (typeId >= RSC_VENDOR_START && typeId <= RSC_VENDOR_END) {
    const len = Math.max(0, nextOffset(sortedOffsets, offset, size) - body);
    return { index, offset, type: "vendor", typeId, len, body: v.sub(body, len, `${p}.body`) };
  }
  if (typeId >= RSC_LAST) return { index, offset, type: "unknown", typeId };
  if (typeId === RSC_CARVEOUT || typeId === RSC_DEVMEM) {
    const what = typeId === RSC_CARVEOUT ? "carveout" : "devmem";
    needBody(what, `${p}.${what}`, CARVEOUT_SIZE, avail);
    const o = CARVEOUT_OFF;
    const reserved = v.u32(body + o.reserved, `${p}.reserved`);
    if (reserved !== 0) throw einval(`${p}.reserved`, `${what} rsc has non zero reserved bytes: ${hex(reserved)}`, reserved, 0);
    return {
      index,
      offset,
      type: what,
      da: v.u32(body + o.da, `${p}.da`),
      pa: v.u32(body + o.pa, `${p}.pa`),
      len: v.u32(body + o.len, `${p}.len`),
      flags: v.u32(body + o.flags, `${p}.flags`),
      reserved,
      ...name(v, body + o.name, `${p}.name`),
    };
  }
  if (typeId === RSC_TRACE) {
    needBody("trace", `${p}.trace`, TRACE_SIZE, avail);
    const o = TRACE_OFF;
    const reserved = v.u32(body + o.reserved, `${p}.reserved`);
    if (reserved !== 0) throw einval(`${p}.reserved`, `trace rsc has non zero reserved bytes: ${hex(reserved)}`, reserved, 0);
    return {
      index,
      offset,
      type: "trace",
      da: v.u32(body + o.da, `${p}.da`),
      len: v.u32(body + o.len, `${p}.len`),
      reserved,
      ...name(v, body + o.name, `${p}.name`),
    };
  }
  return parseVdev(v, index, offset, avail);
}

function parseVdev(v: ByteView, index: number, offset: number, avail: number): VdevRsc {
  const p = `resourceTable.entries[${index}]`;
  const body = offset + RSC_HDR_SIZE;
  const o = VDEV_OFF;
  // The kernel reads num_of_vrings/config_len before its size check; we need the fixed part first.
  needBody("vdev", `${p}.vdev`, VDEV_SIZE, avail);
  const numOfVrings = v.u8(body + o.numOfVrings, `${p}.numOfVrings`);
  const configLen = v.u32(body + o.configLen, `${p}.configLen`);
  const need = VDEV_SIZE + VRING_SIZE * numOfVrings + configLen;
  if (need > avail) {
    throw einval(`${p}.configLen`, `vdev rsc is truncated: ${hex(VDEV_SIZE)} + ${numOfVrings} vrings * ${hex(VRING_SIZE)} + config_len ${hex(configLen)} > ${hex(avail)} available`, need, avail);
  }
  const reserved: [number, number] = [v.u8(body + o.reserved, `${p}.reserved[0]`), v.u8(body + o.reserved + 1, `${p}.reserved[1]`)];
  if (reserved[0] !== 0 || reserved[1] !== 0) {
    const i = reserved[0] !== 0 ? 0 : 1;
    throw einval(`${p}.reserved[${i}]`, `vdev rsc has non zero reserved bytes: ${hex(reserved[0])} ${hex(reserved[1])}`, reserved[i], 0);
  }
  if (numOfVrings > RVDEV_NUM_VRINGS) {
    throw einval(`${p}.numOfVrings`, `too many vrings: ${numOfVrings} > ${RVDEV_NUM_VRINGS}`, numOfVrings, RVDEV_NUM_VRINGS);
  }
  const vrings: VringRsc[] = [];
  for (let i = 0; i < numOfVrings; i++) {
    const b = body + o.vrings + VRING_SIZE * i;
    const f = (n: string) => `${p}.vrings[${i}].${n}`;
    vrings.push({
      da: v.u32(b + VRING_OFF.da, f("da")),
      align: v.u32(b + VRING_OFF.align, f("align")),
      num: v.u32(b + VRING_OFF.num, f("num")),
      notifyid: v.u32(b + VRING_OFF.notifyid, f("notifyid")),
      pa: v.u32(b + VRING_OFF.pa, f("pa")),
    });
  }
  return {
    index,
    offset,
    type: "vdev",
    id: v.u32(body + o.id, `${p}.id`),
    notifyid: v.u32(body + o.notifyid, `${p}.notifyid`),
    dfeatures: v.u32(body + o.dfeatures, `${p}.dfeatures`),
    gfeatures: v.u32(body + o.gfeatures, `${p}.gfeatures`),
    configLen,
    status: v.u8(body + o.status, `${p}.status`),
    numOfVrings,
    reserved,
    vrings,
    config: v.sub(body + o.vrings + VRING_SIZE * numOfVrings, configLen, `${p}.config`),
  };
}

/**
 * Decodes a resource table with the checks the kernel applies before using
 * it: find_table's header checks, then rproc_handle_resources' and each
 * handler's size and reserved-field checks. All failures are EINVAL.
 * Checks the kernel makes later (virtio probe: vring num/align non-zero) are
 * lint findings, since a failed probe does not fail the boot.
 */
export function parseResourceTable(bytes: Uint8Array, endianness: Endianness = "little"): ResourceTable {
  const v = new ByteView(bytes, endianness);
  const hdr = parseHeader(v);
  const sorted = [...hdr.offsets].sort((a, b) => a - b);
  const entries = hdr.offsets.map((off, i) => parseEntry(v, i, off, sorted));
  return { ...hdr, entries, size: bytes.byteLength, bytes };
}

function writeName(w: ByteWriter, off: number, text: string, field: string): void {
  if (text.length > RSC_NAME_SIZE) throw einval(field, `name '${text}' longer than ${RSC_NAME_SIZE} bytes`, text.length, RSC_NAME_SIZE);
  const current = cString(w.bytes.subarray(off, off + RSC_NAME_SIZE));
  // Keep the original bytes (padding after the NUL included) when the name is unchanged.
  if (current.text === text) return;
  for (let i = 0; i < RSC_NAME_SIZE; i++) w.u8(off + i, i < text.length ? text.charCodeAt(i) & 0xff : 0);
}

/**
 * Encodes a table: starts from `t.bytes` (so padding and bytes no entry
 * describes are preserved) and writes every header and entry field, so an
 * unmodified decode → encode is byte-identical and an edited field lands in place.
 */
export function encodeResourceTable(t: ResourceTable, endianness: Endianness = "little"): Uint8Array {
  const out = new Uint8Array(t.size);
  out.set(t.bytes.subarray(0, Math.min(t.size, t.bytes.byteLength)));
  const need = TABLE_HDR_SIZE + 4 * t.offsets.length;
  if (need > t.size) throw einval("resourceTable.num", `resource table incomplete: ${t.offsets.length} entries need ${hex(need)} bytes, table is ${hex(t.size)}`, need, t.size);
  const w = new ByteWriter(out, endianness);
  w.u32(0, t.version);
  w.u32(4, t.offsets.length);
  w.u32(8, t.reserved[0]);
  w.u32(12, t.reserved[1]);
  t.offsets.forEach((o, i) => w.u32(TABLE_HDR_SIZE + 4 * i, o));
  for (const e of t.entries) {
    const p = `resourceTable.entries[${e.index}]`;
    const body = e.offset + RSC_HDR_SIZE;
    switch (e.type) {
      case "carveout":
      case "devmem": {
        checkFits(e.offset, RSC_HDR_SIZE + CARVEOUT_SIZE, t.size, p);
        w.u32(e.offset, e.type === "carveout" ? RSC_CARVEOUT : RSC_DEVMEM);
        const o = CARVEOUT_OFF;
        w.u32(body + o.da, e.da);
        w.u32(body + o.pa, e.pa);
        w.u32(body + o.len, e.len);
        w.u32(body + o.flags, e.flags);
        w.u32(body + o.reserved, e.reserved);
        writeName(w, body + o.name, e.name, `${p}.name`);
        break;
      }
      case "trace": {
        checkFits(e.offset, RSC_HDR_SIZE + TRACE_SIZE, t.size, p);
        w.u32(e.offset, RSC_TRACE);
        w.u32(body + TRACE_OFF.da, e.da);
        w.u32(body + TRACE_OFF.len, e.len);
        w.u32(body + TRACE_OFF.reserved, e.reserved);
        writeName(w, body + TRACE_OFF.name, e.name, `${p}.name`);
        break;
      }
      case "vdev": {
        const o = VDEV_OFF;
        checkFits(e.offset, RSC_HDR_SIZE + VDEV_SIZE + VRING_SIZE * e.vrings.length + e.config.byteLength, t.size, p);
        w.u32(e.offset, RSC_VDEV);
        w.u32(body + o.id, e.id);
        w.u32(body + o.notifyid, e.notifyid);
        w.u32(body + o.dfeatures, e.dfeatures);
        w.u32(body + o.gfeatures, e.gfeatures);
        w.u32(body + o.configLen, e.configLen);
        w.u8(body + o.status, e.status);
        w.u8(body + o.numOfVrings, e.numOfVrings);
        w.u8(body + o.reserved, e.reserved[0]);
        w.u8(body + o.reserved + 1, e.reserved[1]);
        e.vrings.forEach((r, i) => {
          const b = body + o.vrings + VRING_SIZE * i;
          w.u32(b + VRING_OFF.da, r.da);
          w.u32(b + VRING_OFF.align, r.align);
          w.u32(b + VRING_OFF.num, r.num);
          w.u32(b + VRING_OFF.notifyid, r.notifyid);
          w.u32(b + VRING_OFF.pa, r.pa);
        });
        out.set(e.config, body + o.vrings + VRING_SIZE * e.vrings.length);
        break;
      }
      case "vendor":
        checkFits(e.offset, RSC_HDR_SIZE + e.body.byteLength, t.size, p);
        w.u32(e.offset, e.typeId);
        out.set(e.body, body);
        break;
      case "unknown":
        checkFits(e.offset, RSC_HDR_SIZE, t.size, p);
        w.u32(e.offset, e.typeId);
        break;
    }
  }
  return out;
}

function checkFits(offset: number, need: number, size: number, field: string): void {
  if (offset + need > size) throw einval(field, `${field} at ${hex(offset)} (${hex(need)} bytes) exceeds table size ${hex(size)}`, offset + need, size);
}

/**
 * The first `.resource_table` section and the file bytes at its sh_offset,
 * as the kernel's find_table does (later sections of the same name are never looked at).
 */
export function findResourceTable(elf: ElfFile): { section: SectionHeader; bytes: Uint8Array } | undefined {
  const section = findSection(elf, RESOURCE_TABLE_SECTION);
  if (!section) return undefined;
  const end = section.offset + section.size;
  if (end > elf.bytes.byteLength) {
    throw einval(
      `sectionHeaders[${section.index}].sh_size`,
      `resource table truncated: sh_offset ${hex(section.offset)} + sh_size ${hex(section.size)} exceeds file size ${hex(elf.bytes.byteLength)}`,
      end,
      elf.bytes.byteLength,
    );
  }
  return { section, bytes: elf.bytes.subarray(section.offset, end) };
}
