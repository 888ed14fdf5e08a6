/**
 * The debugfs `resource_table` and `carveout_memories` texts, byte for byte
 * as rproc_rsc_table_show() and rproc_carveouts_show() print them
 * (drivers/remoteproc/remoteproc_debugfs.c). The table is what the
 * processor sees at run time (rproc->table_ptr), so firmware can have
 * written anything into it: every read is bounds-checked and the text stops
 * at the first entry that does not fit, instead of reading past the table.
 */
import type { Rproc } from "../core/rproc.js";
import { tableLength, tableRead, tableU32, tableU8, type TableRef } from "../core/table.js";

const TYPES = ["carveout", "devmem", "trace", "vdev"];

/** printf "%d" of a u32 field: the kernel passes it as int. */
const d = (v: number): string => String(v | 0);
const x = (v: number): string => (v >>> 0).toString(16);

/** A char[32] name printed with %s: up to the first NUL, never past the field. */
function name32(t: TableRef, off: number): string {
  const b = tableRead(t, off, 32);
  const nul = b.indexOf(0);
  return Buffer.from(b.buffer, b.byteOffset, nul < 0 ? 32 : nul).toString("latin1");
}

function entryText(t: TableRef, i: number, offset: number, ptr: string): string {
  const type = tableU32(t, offset);
  const r = offset + 4;
  const head = type < TYPES.length ? `Entry ${i} is of type ${TYPES[type]}\n` : "";
  switch (type) {
    case 0: // RSC_CARVEOUT
    case 1: // RSC_DEVMEM: same layout
      return (
        head +
        `  Device Address 0x${x(tableU32(t, r))}\n  Physical Address 0x${x(tableU32(t, r + 4))}\n` +
        `  Length 0x${x(tableU32(t, r + 8))} Bytes\n  Flags 0x${x(tableU32(t, r + 12))}\n` +
        `  Reserved (should be zero) [${d(tableU32(t, r + 16))}]\n  Name ${name32(t, r + 20)}\n\n`
      );
    case 2: // RSC_TRACE
      return (
        head +
        `  Device Address 0x${x(tableU32(t, r))}\n  Length 0x${x(tableU32(t, r + 4))} Bytes\n` +
        `  Reserved (should be zero) [${d(tableU32(t, r + 8))}]\n  Name ${name32(t, r + 12)}\n\n`
      );
    case 3: {
      // RSC_VDEV
      const nv = tableU8(t, r + 21);
      let s =
        head +
        `  ID ${d(tableU32(t, r))}\n  Notify ID ${d(tableU32(t, r + 4))}\n  Device features 0x${x(tableU32(t, r + 8))}\n` +
        `  Guest features 0x${x(tableU32(t, r + 12))}\n  Config length 0x${x(tableU32(t, r + 16))}\n  Status 0x${x(tableU8(t, r + 20))}\n` +
        `  Number of vrings ${nv}\n  Reserved (should be zero) [${tableU8(t, r + 22)}][${tableU8(t, r + 23)}]\n\n`;
      for (let j = 0; j < nv; j++) {
        const v = r + 24 + 20 * j;
        s +=
          `  Vring ${j}\n    Device Address 0x${x(tableU32(t, v))}\n    Alignment ${d(tableU32(t, v + 4))}\n` +
          `    Number of buffers ${d(tableU32(t, v + 8))}\n    Notify ID ${d(tableU32(t, v + 12))}\n    Physical Address 0x${x(tableU32(t, v + 16))}\n\n`;
      }
      return s;
    }
    default:
      return `Unknown resource type found: ${d(type)} [hdr: ${ptr}]\n`;
  }
}

export interface PointerFormat {
  /** Width of a kernel pointer / dma_addr_t in bytes: 8 on arm64, 4 on arm. */
  pointerBytes: 4 | 8;
}

/** %pK under kptr_restrict (what an unprivileged reader sees): zeros of the pointer width. */
function pK(f: PointerFormat): string {
  return "0".repeat(f.pointerBytes * 2);
}

/** rproc_rsc_table_show. */
export function resourceTableText(rproc: Rproc, f: PointerFormat = { pointerBytes: 8 }): string {
  const t = rproc.tablePtr;
  if (!t) return "No resource table found\n";
  let out = "";
  try {
    const num = tableU32(t, 4);
    // Each offset takes 4 bytes of the table: a larger count cannot be real and would only fail below.
    const max = Math.min(num, Math.floor(tableLength(t) / 4));
    for (let i = 0; i < max; i++) out += entryText(t, i, tableU32(t, 16 + 4 * i), pK(f));
  } catch {
    // An entry that runs off the table: the kernel would read beyond it; we stop the text there.
  }
  return out;
}

/** rproc_carveouts_show: %pK for the virtual address, %pad for the DMA address. */
export function carveoutMemoriesText(rproc: Rproc, f: PointerFormat = { pointerBytes: 8 }): string {
  let out = "";
  for (const c of rproc.carveouts) {
    const dma = c.dma.toString(16).padStart(f.pointerBytes * 2, "0");
    out += `Carveout memory entry:\n\tName: ${c.name}\n\tVirtual address: ${pK(f)}\n\tDMA address: 0x${dma}\n`;
    out += `\tDevice address: 0x${x(c.da)}\n\tLength: 0x${c.len.toString(16)} Bytes\n\n`;
  }
  return out;
}
