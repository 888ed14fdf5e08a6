/** Human rendering of an inspect report: readelf-like tables, the resource table entry by entry, diagnostics. */
import type { InspectReport, InspectRscEntry, JsonU64 } from "../../inspect.js";

const ADDR_ANY = 0xffffffff;

function hx(v: JsonU64, width = 0): string {
  const s = typeof v === "string" ? v.slice(2) : v.toString(16);
  return "0x" + s.padStart(width, "0");
}

/** Device addresses: FW_RSC_ADDR_ANY is printed as ANY. */
function da(v: number): string {
  return v === ADDR_ANY ? "ANY" : hx(v, 8);
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) => "  " + r.map((cell, c) => cell.padEnd(widths[c]!)).join(" ").trimEnd());
}

function entryLines(e: InspectRscEntry): string[] {
  const head = `  [${e.index}] @${hx(e.offset)} ${e.type.padEnd(8)}`;
  switch (e.type) {
    case "carveout":
    case "devmem":
      return [`${head} "${e.name}" da ${da(e.da)} pa ${da(e.pa)} len ${hx(e.len)} flags ${hx(e.flags)}`];
    case "trace":
      return [`${head} "${e.name}" da ${da(e.da)} len ${hx(e.len)}`];
    case "vdev":
      return [
        `${head} id ${e.id}${e.id === 7 ? " (rpmsg)" : ""} notifyid ${e.notifyid} dfeatures ${hx(e.dfeatures)} gfeatures ${hx(e.gfeatures)} config_len ${e.configLen} status ${hx(e.status)}`,
        ...e.vrings.map((r, i) => `        vring${i}: da ${da(r.da)} align ${r.align} num ${r.num} notifyid ${r.notifyid === ADDR_ANY ? "-1" : r.notifyid} pa ${da(r.pa)}`),
      ];
    case "vendor":
      return [`${head} type ${e.typeId} (vendor, handled by the platform driver) ${e.len} bytes`];
    case "unknown":
      return [`${head} type ${e.typeId} (unsupported, skipped by the kernel)`];
  }
}

export function renderInspect(r: InspectReport): string {
  const e = r.elf;
  const out: string[] = [];
  out.push(`${r.file}: ELF${e.class} ${e.endianness}-endian ${e.type}, ${e.machineName} (machine ${e.machine}), entry ${hx(e.entry)}, ${r.size} bytes`);
  out.push("", "Segments:");
  if (e.segments.length === 0) out.push("  (none)");
  else
    out.push(
      ...table([
        ["Type", "Offset", "VirtAddr", "PhysAddr", "FileSiz", "MemSiz", "Flg"],
        ...e.segments.map((s) => [s.type, hx(s.offset, 6), hx(s.vaddr, 8), hx(s.paddr, 8), hx(s.filesz, 5), hx(s.memsz, 5), s.flags]),
      ]),
    );
  out.push("", "Sections:");
  out.push(
    ...table([
      ["Nr", "Name", "Type", "Addr", "Off", "Size", "Flg"],
      ...e.sections.map((s, i) => [`[${i}]`, s.name, s.type, hx(s.addr, 8), hx(s.offset, 6), hx(s.size, 6), s.flags]),
    ]),
  );
  out.push("");
  const t = r.resourceTable;
  if (!t) out.push("Resource table: none");
  else {
    out.push(`Resource table: ${t.section} at ${hx(t.address)} (file offset ${hx(t.offset)}, ${hx(t.size)} bytes), version ${t.version}, ${t.entries.length} entries`);
    for (const entry of t.entries) out.push(...entryLines(entry));
  }
  out.push("", "Diagnostics:");
  if (r.diagnostics.length === 0) out.push("  none");
  for (const d of r.diagnostics) out.push(`  ${d.severity}: ${d.code} (${d.path}): ${d.message}`);
  return out.join("\n") + "\n";
}
