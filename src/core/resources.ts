/**
 * rproc_handle_resources and its handlers (spec §4), the second pass
 * rproc_alloc_registered_carveouts, and rproc_resource_cleanup. Entries are
 * read in place from the table in effect (rproc.tablePtr), as the kernel
 * does, so checks happen at the step — and with the errno — a board gives.
 */
import { RprocError, hex, isRprocError } from "../errors.js";
import { cString } from "../formats/bytes.js";
import {
  CARVEOUT_OFF,
  CARVEOUT_SIZE,
  DEVMEM_SIZE,
  RSC_CARVEOUT,
  RSC_DEVMEM,
  RSC_LAST,
  RSC_TRACE,
  RSC_VDEV,
  RSC_VENDOR_END,
  RSC_VENDOR_START,
  TABLE_HDR_SIZE,
  TRACE_OFF,
  TRACE_SIZE,
} from "../formats/resource-table.js";
import { RSC_HANDLED } from "./ops.js";
import { FW_RSC_ADDR_ANY, type Rproc } from "./rproc.js";
import { carveoutPa, checkCarveoutDa, rprocAddCarveout, rprocAllocCarveout, rprocFindCarveoutByName, rprocMemEntryInit, rprocReleaseCarveout } from "./carveout.js";
import { tableLength, tableRead, tableSetU32, tableU32, type TableRef } from "./table.js";
import { handleVdev, rprocVirtioRemove } from "./vdev.js";
import { rprocCoredumpCleanup } from "./coredump.js";

const TYPE_NAMES = ["carveout", "devmem", "trace", "vdev"];

interface Ctx {
  rproc: Rproc;
  table: TableRef;
  index: number;
  /** Body offset (after the 4-byte type), the kernel's rsc_offset. */
  offset: number;
  avail: number;
}

function fail(c: Ctx, code: "EINVAL" | "ENOMEM", field: string, message: string, value?: number): never {
  throw new RprocError(code, `resource entry ${c.index}: ${message}`, { field: `resourceTable.entries[${c.index}].${field}`, ...(value !== undefined ? { value } : {}) });
}

function name32(c: Ctx, off: number): string {
  return cString(tableRead(c.table, c.offset + off, 32, `resourceTable.entries[${c.index}].name`)).text;
}

/** The checks a carveout, devmem or trace handler starts with: the entry fits what is left of the table, its reserved word is 0. */
function checkFixedEntry(c: Ctx, what: string, size: number, reservedOff: number): void {
  if (size > c.avail) fail(c, "EINVAL", "len", `${what} rsc is truncated (needs ${size} bytes, ${c.avail} left)`);
  const reserved = tableU32(c.table, c.offset + reservedOff);
  if (reserved) fail(c, "EINVAL", "reserved", `${what} rsc has non zero reserved bytes (${hex(reserved)})`, reserved);
}

/** rproc_handle_carveout */
function handleCarveout(c: Ctx): void {
  const { rproc, table, offset } = c;
  checkFixedEntry(c, "carveout", CARVEOUT_SIZE, CARVEOUT_OFF.reserved);
  const da = tableU32(table, offset + CARVEOUT_OFF.da);
  const len = tableU32(table, offset + CARVEOUT_OFF.len);
  const flags = tableU32(table, offset + CARVEOUT_OFF.flags);
  const name = name32(c, CARVEOUT_OFF.name);
  const existing = rprocFindCarveoutByName(rproc, name);
  if (existing) {
    if (existing.rscOffset !== FW_RSC_ADDR_ANY) fail(c, "ENOMEM", "name", `Carveout already associated to resource table (${name})`);
    const why = checkCarveoutDa(existing, da, len);
    if (why) fail(c, "ENOMEM", da !== FW_RSC_ADDR_ANY && why.includes("da") ? "da" : "len", `carveout ${name} does not fit the registered region: ${why}`);
    existing.rscOffset = offset;
    existing.flags = flags;
    return;
  }
  const mem = rprocMemEntryInit({ name, len, da, alloc: rprocAllocCarveout, release: rprocReleaseCarveout });
  mem.flags = flags;
  mem.rscOffset = offset;
  rprocAddCarveout(rproc, mem);
}

/** rproc_handle_devmem: only with an IOMMU domain (checked first, as the kernel does). */
function handleDevmem(c: Ctx): void {
  const { rproc, table, offset } = c;
  if (!rproc.iommuDomain)
    fail(
      c,
      "EINVAL",
      "type",
      `devmem entry needs an IOMMU: ${rproc.processor.name} is not behind one, so rproc_handle_devmem refuses it (-EINVAL); map the peripheral with the processor's own MPU/address translation instead of a devmem entry`,
    );
  checkFixedEntry(c, "devmem", DEVMEM_SIZE, CARVEOUT_OFF.reserved);
  const da = tableU32(table, offset + CARVEOUT_OFF.da);
  const len = tableU32(table, offset + CARVEOUT_OFF.len);
  rproc.mappings.push({ da, len });
  rproc.account("acquire", "mapping", da);
}

/** rproc_handle_trace: registered only; the address is resolved when read. */
function handleTrace(c: Ctx): void {
  const { rproc, table, offset } = c;
  checkFixedEntry(c, "trace", TRACE_SIZE, TRACE_OFF.reserved);
  const name = `trace${rproc.numTraces}`;
  rproc.traces.push({ name, da: tableU32(table, offset + TRACE_OFF.da), len: tableU32(table, offset + TRACE_OFF.len), rscOffset: offset });
  rproc.numTraces++;
  rproc.account("acquire", "trace", name);
}

/**
 * rproc_handle_resources(). Quirk kept: `ret` is carried across entries, so
 * a vendor entry the driver ignored (RSC_IGNORED = 1) that no later standard
 * entry follows makes the whole call return 1, which rproc_fw_boot treats as
 * failure ("Failed to process resources: 1").
 */
export async function handleResources(rproc: Rproc): Promise<void> {
  const table = rproc.tablePtr;
  if (!table) return;
  const size = Math.min(rproc.tableSz, tableLength(table));
  // Hardening: the ELF path checked this in find_table; attach/TEE tables were not checked by anyone.
  if (size < TABLE_HDR_SIZE) throw new RprocError("EINVAL", `header-less resource table (${size} bytes)`, { field: "resourceTable.size", value: size, limit: TABLE_HDR_SIZE });
  const num = tableU32(table, 4);
  if (TABLE_HDR_SIZE + 4 * num > size)
    throw new RprocError("EINVAL", `resource table incomplete: ${num} entries need ${TABLE_HDR_SIZE + 4 * num} bytes, table has ${size}`, {
      field: "resourceTable.num",
      value: num,
      limit: size,
    });
  let ret = 0;
  let lastIgnored = -1;
  for (let i = 0; i < num; i++) {
    const hdr = tableU32(table, TABLE_HDR_SIZE + 4 * i);
    // The kernel keeps the offset in an int; rproc treats it as unsigned and requires the header to fit.
    if (hdr + 4 > size)
      throw new RprocError("EINVAL", `rsc table is truncated: entry ${i} at offset ${hex(hdr)} is beyond the ${hex(size)}-byte table`, {
        field: `resourceTable.offset[${i}]`,
        value: hdr,
        limit: size,
      });
    const type = tableU32(table, hdr);
    const c: Ctx = { rproc, table, index: i, offset: hdr + 4, avail: size - hdr - 4 };
    try {
      if (type >= RSC_VENDOR_START && type <= RSC_VENDOR_END) {
        ret = rproc.ops.handleRsc ? await rproc.ops.handleRsc(rproc, type, c.offset, c.avail) : 1;
        if (ret === RSC_HANDLED) continue;
        lastIgnored = i;
        rproc.warn("unsupported-vendor-resource", `resourceTable.entries[${i}]`, `unsupported vendor resource ${type}`);
        continue;
      }
      if (type >= RSC_LAST) {
        rproc.warn("unsupported-resource", `resourceTable.entries[${i}]`, `unsupported resource ${type} (skipped)`);
        continue;
      }
      rproc.emit("rproc_handle_" + TYPE_NAMES[type]!, "info", { index: i, offset: hdr });
      if (type === RSC_CARVEOUT) handleCarveout(c);
      else if (type === RSC_DEVMEM) handleDevmem(c);
      else if (type === RSC_TRACE) handleTrace(c);
      else if (type === RSC_VDEV) await handleVdev(rproc, table, c.index, c.offset, c.avail);
      ret = 0;
    } catch (e) {
      if (isRprocError(e) && e.field?.startsWith("resourceTable")) throw e;
      const err = isRprocError(e) ? e : new RprocError("EIO", String(e), { cause: e });
      throw new RprocError(err.code, `resource entry ${i}: ${err.message}`, { field: err.field ?? `resourceTable.entries[${i}]`, cause: err });
    }
  }
  if (ret !== 0)
    throw new RprocError(
      "EINVAL",
      `Failed to process resources: ${ret} (vendor entry ${lastIgnored} was ignored by the driver and no standard entry follows it; rproc_handle_resources returns RSC_IGNORED, which rproc_fw_boot treats as failure)`,
      { field: `resourceTable.entries[${lastIgnored}].type`, value: ret },
    );
}

/** rproc_alloc_registered_carveouts(): allocate in list order, then write pa/da/len back into the table. */
export async function allocRegisteredCarveouts(rproc: Rproc): Promise<void> {
  for (const entry of rproc.carveouts) {
    if (entry.alloc) {
      try {
        await entry.alloc(rproc, entry);
      } catch (e) {
        // Quirk kept: every allocation failure becomes -ENOMEM.
        const why = e instanceof Error ? e.message : String(e);
        throw new RprocError("ENOMEM", `Unable to allocate carveout ${entry.name}: ${why}`, { field: `carveouts.${entry.name}`, cause: e });
      }
    }
    if (entry.rscOffset !== FW_RSC_ADDR_ANY && rproc.tablePtr) {
      const pa = carveoutPa(entry) ?? entry.dma;
      if (pa > 0xffffffff) rproc.warn("pa-above-32bit", `carveouts.${entry.name}`, "Physical address cast in 32bit to fit resource table format");
      tableSetU32(rproc.tablePtr, entry.rscOffset + CARVEOUT_OFF.pa, pa >>> 0);
      tableSetU32(rproc.tablePtr, entry.rscOffset + CARVEOUT_OFF.da, entry.da >>> 0);
      tableSetU32(rproc.tablePtr, entry.rscOffset + CARVEOUT_OFF.len, entry.len >>> 0);
    }
  }
}

/** rproc_resource_cleanup(): traces, mappings, carveouts (all), vdevs, then coredump segments. */
export async function rprocResourceCleanup(rproc: Rproc): Promise<void> {
  for (const t of rproc.traces.splice(0)) {
    rproc.numTraces--;
    rproc.account("release", "trace", t.name);
  }
  for (const m of rproc.mappings.splice(0)) rproc.account("release", "mapping", m.da);
  for (const c of rproc.carveouts.splice(0)) {
    try {
      await c.release?.(rproc, c);
    } catch (e) {
      rproc.warn("carveout-release-failed", `carveouts.${c.name}`, e instanceof Error ? e.message : String(e));
    }
    rproc.account("release", "carveout", c.name);
  }
  for (const rvdev of [...rproc.rvdevs]) rprocVirtioRemove(rproc, rvdev);
  rprocCoredumpCleanup(rproc);
}
