/** Human rendering of an inspect report: readelf-like tables, the resource table entry by entry, diagnostics. */
import type { InspectElf, InspectReport, InspectResourceTable, InspectRscEntry, JsonU64 } from "../../inspect.js";
import type { InspectSignedImage } from "../../tee/inspect-signed.js";
import type { InspectCoreFile } from "../../formats/core-file-inspect.js";
import { FW_RSC_ADDR_ANY, VIRTIO_ID_RPMSG } from "../../formats/resource-table.js";

function hx(v: JsonU64, width = 0): string {
  const s = typeof v === "string" ? v.slice(2) : v.toString(16);
  return "0x" + s.padStart(width, "0");
}

/** Device addresses: FW_RSC_ADDR_ANY is printed as ANY. */
function da(v: number): string {
  return v === FW_RSC_ADDR_ANY ? "ANY" : hx(v, 8);
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
        `${head} id ${e.id}${e.id === VIRTIO_ID_RPMSG ? " (rpmsg)" : ""} notifyid ${e.notifyid} dfeatures ${hx(e.dfeatures)} gfeatures ${hx(e.gfeatures)} config_len ${e.configLen} status ${hx(e.status)}`,
        ...e.vrings.map((r, i) => `        vring${i}: da ${da(r.da)} align ${r.align} num ${r.num} notifyid ${r.notifyid === FW_RSC_ADDR_ANY ? "-1" : r.notifyid} pa ${da(r.pa)}`),
      ];
    case "vendor":
      return [`${head} type ${e.typeId} (vendor, handled by the platform driver) ${e.len} bytes`];
    case "unknown":
      return [`${head} type ${e.typeId} (unsupported, skipped by the kernel)`];
  }
}

export function renderInspect(r: InspectReport): string {
  if (r.signedImage) return renderSignedImage(r, r.signedImage);
  const e = r.elf;
  const out: string[] = [];
  out.push(`${r.file}: ELF${e.class} ${e.endianness}-endian ${e.type}, ${e.machineName} (machine ${e.machine}), entry ${hx(e.entry)}, ${r.size} bytes`);
  out.push(...elfLines(e, r.resourceTable, ""));
  if (r.coreFile) out.push(...coreFileLines(r.coreFile));
  out.push(...diagnosticLines(r));
  return out.join("\n") + "\n";
}

/** An ELF core (remoteproc coredump): layout, dumped ranges, notes and the registers of an NT_PRSTATUS note. */
function coreFileLines(c: InspectCoreFile): string[] {
  const out = ["", `Core file: ${c.variant === "sections" ? "section variant (rproc_coredump_using_sections)" : "program-header variant (rproc_coredump)"}, ${c.segments.length} segment(s)`];
  out.push(
    ...table([
      ["DevAddr", "Size", "Offset", ...(c.variant === "sections" ? ["Name"] : [])],
      ...c.segments.map((s) => [hx(s.da, 8), hx(s.size), hx(s.offset, 6), ...(s.name !== undefined ? [s.name] : [])]),
    ]),
  );
  if (c.notes.length === 0) out.push("  notes: none (the kernel writes no registers)");
  for (const n of c.notes) {
    out.push(`  note ${n.name} ${n.typeName} (${n.descsz} bytes)`);
    const p = n.prstatus;
    if (!p) continue;
    out.push(`    signal ${p.signal}${p.signalName ? ` (${p.signalName})` : ""}, pid ${p.pid}, pc ${hx(p.pc, 8)} sp ${hx(p.sp, 8)} lr ${hx(p.lr, 8)}`);
    const regs = Object.entries(p.regs);
    for (let i = 0; i < regs.length; i += 4) {
      out.push("    " + regs.slice(i, i + 4).map(([k, v]) => `${k.padStart(7)} ${hx(v, 8)}`).join("  "));
    }
  }
  return out;
}

/** Segments, sections and resource table of one ELF; `indent` nests them under a signed image's entry. */
function elfLines(e: InspectElf, t: InspectResourceTable | null, indent: string): string[] {
  const out: string[] = [];
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
  if (!t) out.push("Resource table: none");
  else {
    out.push(`Resource table: ${t.section} at ${hx(t.address)} (file offset ${hx(t.offset)}, ${hx(t.size)} bytes), version ${t.version}, ${t.entries.length} entries`);
    for (const entry of t.entries) out.push(...entryLines(entry));
  }
  return out.map((l) => (l === "" ? l : indent + l));
}

function diagnosticLines(r: InspectReport): string[] {
  const out = ["", "Diagnostics:"];
  if (r.diagnostics.length === 0) out.push("  none");
  for (const d of r.diagnostics) out.push(`  ${d.severity}: ${d.code} (${d.path}): ${d.message}`);
  return out;
}

/** An OP-TEE signed image: header, TLVs, hash table, then each embedded ELF as above. */
function renderSignedImage(r: InspectReport, s: InspectSignedImage): string {
  const h = s.header;
  const out: string[] = [];
  out.push(`${r.file}: OP-TEE signed image, version ${h.version}, ${s.signTypeName}, ${s.images.length} image${s.images.length === 1 ? "" : "s"}, ${r.size} bytes`);
  out.push(
    `  header: magic ${hx(h.magic, 8)} tlv_len ${h.tlvLen} sign_len ${h.signLen} img_len ${h.imgLen}; TLVs at ${hx(s.layout.tlvOffset)}, signature at ${hx(s.layout.signatureOffset)}, images at ${hx(s.layout.imagesOffset)}`,
  );
  out.push(`  hash type: ${s.hashTypeName}`);
  if (s.encryption) out.push(`  encryption: ${s.encryption.algoName}, ${s.encryption.ivs.length} IVs`);
  out.push("", "TLVs:");
  out.push(
    ...table([
      ["Offset", "Type", "Name", "Len", "Value"],
      ...s.tlvs.map((t) => [hx(t.offset, 4), hx(t.type), t.name, String(t.length), t.meaning + (t.used ? "" : " (ignored: not the first of its type)")]),
    ]),
  );
  out.push("", "Hash table:");
  out.push(
    ...table([
      ["Nr", "Type", "Offset", "VirtAddr", "PhysAddr", "FileSiz", "MemSiz", "Flg", "SHA-256", "Used by"],
      ...s.hashTable.map((e) => [
        `[${e.index}]`,
        hx(e.type),
        hx(e.offset, 6),
        hx(e.vaddr, 8),
        hx(e.paddr, 8),
        hx(e.filesz, 5),
        hx(e.memsz, 5),
        hx(e.flags),
        e.sha256,
        e.usedBy.length === 0 ? "-" : e.usedBy.map((u) => `image ${u.image} phdr ${u.programHeader}`).join(", "),
      ]),
    ]),
  );
  for (const im of s.images) {
    const e = im.elf;
    out.push(
      "",
      `Image ${im.index}: ${im.encrypted ? "encrypted " : ""}ELF${e.class} ${e.endianness}-endian ${e.type}, ${e.machineName} (machine ${e.machine}), entry ${hx(e.entry)}, ${im.size} bytes at file offset ${hx(im.fileOffset)} (image area offset ${hx(im.offset)})${s.resourceTableImage === im.index ? ", carries the resource table" : ""}`,
    );
    out.push(...elfLines(e, im.resourceTable, "  "));
  }
  out.push(...diagnosticLines(r));
  return out.join("\n") + "\n";
}
