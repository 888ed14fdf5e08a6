/**
 * Findings about a decoded resource table that the kernel does not reject
 * while parsing but that make a boot fail later, or leave a vdev, trace or
 * carveout not working. Severity "error" = the kernel (or virtio) will fail
 * on it; "warning" = likely wrong; "info" = worth knowing.
 */
import { diag, type Diagnostic } from "../diagnostics.js";
import { hex } from "../errors.js";
import { PT_LOAD, SHF_ALLOC, findSection, type ElfFile } from "./elf.js";
import {
  FW_RSC_ADDR_ANY,
  RSC_HDR_SIZE,
  CARVEOUT_SIZE,
  TRACE_SIZE,
  VDEV_SIZE,
  VRING_SIZE,
  RESOURCE_TABLE_SECTION,
  VIRTIO_ID_RPMSG,
  type ResourceTable,
  type RscEntry,
} from "./resource-table.js";

function isPow2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function entryBytes(e: RscEntry): number {
  switch (e.type) {
    case "carveout":
    case "devmem":
      return RSC_HDR_SIZE + CARVEOUT_SIZE;
    case "trace":
      return RSC_HDR_SIZE + TRACE_SIZE;
    case "vdev":
      return RSC_HDR_SIZE + VDEV_SIZE + VRING_SIZE * e.numOfVrings + e.configLen;
    case "vendor":
      return RSC_HDR_SIZE + e.len;
    case "unknown":
      return RSC_HDR_SIZE;
  }
}

function lintEntry(e: RscEntry, p: string, out: Diagnostic[]): void {
  if ((e.type === "carveout" || e.type === "devmem" || e.type === "trace") && !e.nameTerminated) {
    out.push(diag("warning", "name-not-terminated", `${p}.name`, `${e.type} name '${e.name}' fills all 32 bytes without a NUL; the kernel's string compares may read past it`));
  }
  switch (e.type) {
    case "carveout":
      if (e.len === 0) out.push(diag("error", "carveout-zero-length", `${p}.len`, `carveout '${e.name}' has len 0: dma_alloc_coherent fails and the boot fails with ENOMEM`));
      if (e.da !== FW_RSC_ADDR_ANY && e.len !== 0 && e.da + e.len > 0x1_0000_0000) {
        out.push(diag("error", "carveout-wraps", `${p}.len`, `carveout '${e.name}' da ${hex(e.da)} + len ${hex(e.len)} passes the 32-bit device address space`));
      }
      break;
    case "devmem":
      out.push(diag("info", "devmem-needs-iommu", p, `devmem '${e.name}' is mapped through the IOMMU: on a processor without an IOMMU the kernel refuses it (EINVAL) and the boot fails`));
      if (e.da === FW_RSC_ADDR_ANY) out.push(diag("error", "devmem-addr-any", `${p}.da`, `devmem '${e.name}' needs a fixed da; FW_RSC_ADDR_ANY cannot be mapped`));
      break;
    case "trace":
      if (e.len === 0) out.push(diag("warning", "trace-zero-length", `${p}.len`, `trace '${e.name}' has len 0: nothing can be read from it`));
      if (e.da === FW_RSC_ADDR_ANY) out.push(diag("warning", "trace-addr-any", `${p}.da`, `trace '${e.name}' has da FW_RSC_ADDR_ANY: the host cannot resolve it and reports "Trace not available"`));
      break;
    case "vdev":
      lintVdev(e, p, out);
      break;
    case "vendor":
      break;
    case "unknown":
      out.push(diag("warning", "unsupported-resource-type", `${p}.type`, `resource type ${e.typeId} is not supported: the kernel logs "unsupported resource ${e.typeId}" and skips it`));
      break;
  }
}

function lintVdev(e: Extract<RscEntry, { type: "vdev" }>, p: string, out: Diagnostic[]): void {
  if (e.id === VIRTIO_ID_RPMSG && e.numOfVrings !== 2) {
    out.push(diag("error", "rpmsg-needs-two-vrings", `${p}.numOfVrings`, `rpmsg vdev (id 7) declares ${e.numOfVrings} vrings; virtio_rpmsg_bus needs two (input, output)`));
  }
  if (e.status !== 0) {
    out.push(diag("warning", "vdev-status-nonzero", `${p}.status`, `vdev status is ${hex(e.status)} in the image; it should start at 0 (a stale status from a previous run confuses the firmware)`));
  }
  if (e.gfeatures !== 0) {
    out.push(diag("info", "vdev-gfeatures-nonzero", `${p}.gfeatures`, `gfeatures is ${hex(e.gfeatures)} in the image; the host writes the negotiated features here`));
  }
  e.vrings.forEach((r, i) => {
    const rp = `${p}.vrings[${i}]`;
    if (r.num === 0) out.push(diag("error", "vring-num-zero", `${rp}.num`, `vring ${i} num is 0: rproc_parse_vring refuses it (EINVAL) and the virtio device never appears`));
    else if (!isPow2(r.num)) out.push(diag("error", "vring-num-not-power-of-two", `${rp}.num`, `vring ${i} num ${r.num} is not a power of two: virtio refuses the queue ("Bad virtqueue length")`));
    if (r.align === 0) out.push(diag("error", "vring-align-zero", `${rp}.align`, `vring ${i} align is 0: rproc_parse_vring refuses it (EINVAL) and the virtio device never appears`));
    else if (!isPow2(r.align)) out.push(diag("error", "vring-align-not-power-of-two", `${rp}.align`, `vring ${i} align ${r.align} is not a power of two: the used-ring ALIGN() is wrong`));
  });
  if (e.vrings.length === 2 && e.vrings[0]!.da !== FW_RSC_ADDR_ANY && e.vrings[0]!.da === e.vrings[1]!.da) {
    out.push(diag("error", "vrings-same-da", `${p}.vrings[1].da`, `both vrings are at da ${hex(e.vrings[0]!.da)}`));
  }
}

/**
 * Overlapping ranges by a sweep in start order: each range is reported once,
 * against the earlier range reaching furthest. n log n, since hostile tables
 * may hold hundreds of thousands of entries.
 */
function overlapping<T extends { e: RscEntry; start: number; end: number }>(ranges: T[]): [T, T][] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start || a.e.index - b.e.index);
  const found: [T, T][] = [];
  let reach: T | undefined;
  for (const r of sorted) {
    if (reach && r.start < reach.end) found.push(reach.e.index < r.e.index ? [reach, r] : [r, reach]);
    if (!reach || r.end > reach.end) reach = r;
  }
  return found;
}

/** Table-level checks: layout of the entries in the table, names, fixed ranges that overlap. */
function lintLayout(t: ResourceTable, out: Diagnostic[]): void {
  if (t.num === 0) out.push(diag("info", "empty-resource-table", "resourceTable.num", "the resource table has no entries"));
  const spans = t.entries.map((e) => ({ e, start: e.offset, end: e.offset + entryBytes(e) }));
  for (const s of spans) {
    if (s.start % 4 !== 0) out.push(diag("warning", "entry-unaligned", `resourceTable.offset[${s.e.index}]`, `entry ${s.e.index} at offset ${hex(s.start)} is not 4-byte aligned`));
    if (s.start < 16 + 4 * t.num) {
      out.push(diag("error", "entry-overlaps-header", `resourceTable.offset[${s.e.index}]`, `entry ${s.e.index} at offset ${hex(s.start)} overlaps the table header and offset array (${hex(16 + 4 * t.num)} bytes)`));
    }
  }
  // Vendor lengths are only an upper bound (up to the next entry), so they take no part.
  const sized = spans.filter((s) => s.e.type !== "vendor");
  for (const [a, b] of overlapping(sized)) {
    out.push(diag("error", "entries-overlap", `resourceTable.offset[${b.e.index}]`, `entries ${a.e.index} and ${b.e.index} overlap in the table (${hex(a.start)}..${hex(a.end)} and ${hex(b.start)}..${hex(b.end)}): host write-backs corrupt one another`));
  }
  // Same type, same name: the kernel looks carveouts up by name (a repeat fails with
  // ENOMEM "already associated"); for trace and devmem a repeat is legal but ambiguous.
  const names = new Map<string, number>();
  for (const e of t.entries) {
    if (e.type !== "carveout" && e.type !== "devmem" && e.type !== "trace") continue;
    const key = `${e.type}\0${e.name}`;
    const first = names.get(key);
    if (first === undefined) names.set(key, e.index);
    else if (t.entries[first]?.offset === e.offset) continue; // one entry named twice: reported as entries-overlap
    else if (e.type === "carveout") out.push(diag("error", "duplicate-carveout-name", `resourceTable.entries[${e.index}].name`, `carveout '${e.name}' repeats entry ${first}'s name: the kernel finds entry ${first}'s carveout by name and fails with ENOMEM ("already associated")`));
    else out.push(diag("warning", "duplicate-name", `resourceTable.entries[${e.index}].name`, `${e.type} '${e.name}' repeats entry ${first}'s name: debugfs and rproc's reports cannot tell them apart`));
  }
  const fixed = t.entries.filter((e): e is Extract<RscEntry, { type: "carveout" | "devmem" }> => (e.type === "carveout" || e.type === "devmem") && e.da !== FW_RSC_ADDR_ANY && e.len > 0);
  for (const [x, y] of overlapping(fixed.map((e) => ({ e, start: e.da, end: e.da + e.len })))) {
    const a = x.e, b = y.e;
    out.push(diag("warning", "carveouts-overlap", `resourceTable.entries[${b.index}].da`, `${b.type} '${b.name}' (${hex(b.da)}+${hex(b.len)}) overlaps ${a.type} '${a.name}' (${hex(a.da)}+${hex(a.len)})`));
  }
  const last = t.entries[t.entries.length - 1];
  if (last?.type === "vendor") {
    out.push(diag("warning", "vendor-resource-last", `resourceTable.entries[${last.index}]`, `vendor resource ${last.typeId} is the last entry: if the platform driver ignores it (RSC_IGNORED), rproc_handle_resources returns 1 and the boot fails`));
  }
}

function inLoadSegment(elf: ElfFile, da: number, len: number): boolean {
  return elf.programHeaders.some((ph) => {
    if (ph.type !== PT_LOAD || typeof ph.paddr !== "number") return false;
    return da >= ph.paddr && da + len <= ph.paddr + ph.memsz;
  });
}

/** Checks against the image: the table and the trace buffers must be where the host can find them. */
function lintAgainstElf(t: ResourceTable, elf: ElfFile, out: Diagnostic[]): void {
  const sec = findSection(elf, RESOURCE_TABLE_SECTION);
  if (sec) {
    const extra = elf.sectionHeaders.filter((s) => s.name === RESOURCE_TABLE_SECTION).length - 1;
    if (extra > 0) out.push(diag("warning", "multiple-resource-tables", "resourceTable.section", `${extra + 1} sections are named ${RESOURCE_TABLE_SECTION}; the kernel uses only the first (section ${sec.index})`));
    const addr = typeof sec.addr === "number" ? sec.addr : -1;
    if ((sec.flags & SHF_ALLOC) === 0 || addr < 0 || !inLoadSegment(elf, addr, sec.size)) {
      out.push(diag("warning", "resource-table-not-loaded", "resourceTable.address", `${RESOURCE_TABLE_SECTION} (address ${hex(sec.addr)}, size ${hex(sec.size)}) is not inside a PT_LOAD segment: the host cannot copy the table to the device, and the firmware never sees the vring and carveout addresses the host assigns`));
    }
  }
  for (const e of t.entries) {
    if (e.type === "trace" && e.da !== FW_RSC_ADDR_ANY && e.len > 0 && !inLoadSegment(elf, e.da, e.len)) {
      const carveout = t.entries.some((c) => c.type === "carveout" && c.da !== FW_RSC_ADDR_ANY && e.da >= c.da && e.da + e.len <= c.da + c.len);
      if (!carveout) {
        out.push(diag("warning", "trace-outside-image", `resourceTable.entries[${e.index}].da`, `trace '${e.name}' (${hex(e.da)}+${hex(e.len)}) is neither in a PT_LOAD segment nor in a fixed carveout of this table; it resolves only if the platform maps that address`));
      }
    }
  }
}

/** Lint a decoded table; with the ELF image, also check it against the image's segments. */
export function lintResourceTable(t: ResourceTable, elf?: ElfFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  t.entries.forEach((e) => lintEntry(e, `resourceTable.entries[${e.index}]`, out));
  lintLayout(t, out);
  if (elf) lintAgainstElf(t, elf, out);
  return out;
}
