/**
 * Minimal ELF32 little-endian (EM_ARM) and resource-table writers for tests
 * and the benchmark: PT_LOAD segments plus a section table with
 * .resource_table and .shstrtab. Enough for the kernel's ELF loader paths.
 */
export interface BuildSegment {
  paddr: number;
  data: Uint8Array;
  memsz?: number;
}

export interface BuildSection {
  name: string;
  addr: number;
  data: Uint8Array;
}

export function buildElf32(opts: { entry: number; machine?: number; segments: BuildSegment[]; sections?: BuildSection[] }): Uint8Array {
  const sections = opts.sections ?? [];
  const names = ["", ...sections.map((s) => s.name), ".shstrtab"];
  const strtab: number[] = [];
  const nameOff: number[] = [];
  for (const n of names) {
    nameOff.push(strtab.length);
    for (const ch of n) strtab.push(ch.charCodeAt(0));
    strtab.push(0);
  }
  const phoff = 52;
  let off = phoff + 32 * opts.segments.length;
  const segOff = opts.segments.map((s) => {
    const o = off;
    off += s.data.length;
    return o;
  });
  const secOff = sections.map((s) => {
    const o = off;
    off += s.data.length;
    return o;
  });
  const strOff = off;
  off += strtab.length;
  off = (off + 3) & ~3;
  const shoff = off;
  const shnum = names.length;
  const total = shoff + 40 * shnum;
  const buf = new Uint8Array(total);
  const dv = new DataView(buf.buffer);
  buf.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, opts.machine ?? 40, true);
  dv.setUint32(20, 1, true);
  dv.setUint32(24, opts.entry, true);
  dv.setUint32(28, phoff, true);
  dv.setUint32(32, shoff, true);
  dv.setUint16(40, 52, true);
  dv.setUint16(42, 32, true);
  dv.setUint16(44, opts.segments.length, true);
  dv.setUint16(46, 40, true);
  dv.setUint16(48, shnum, true);
  dv.setUint16(50, shnum - 1, true);
  opts.segments.forEach((s, i) => {
    const p = phoff + 32 * i;
    dv.setUint32(p, 1, true);
    dv.setUint32(p + 4, segOff[i]!, true);
    dv.setUint32(p + 8, s.paddr, true);
    dv.setUint32(p + 12, s.paddr, true);
    dv.setUint32(p + 16, s.data.length, true);
    dv.setUint32(p + 20, s.memsz ?? s.data.length, true);
    dv.setUint32(p + 24, 7, true);
    dv.setUint32(p + 28, 4, true);
    buf.set(s.data, segOff[i]!);
  });
  sections.forEach((s, i) => buf.set(s.data, secOff[i]!));
  buf.set(strtab, strOff);
  const sh = (i: number, type: number, flags: number, addr: number, offset: number, size: number): void => {
    const p = shoff + 40 * i;
    dv.setUint32(p, nameOff[i]!, true);
    dv.setUint32(p + 4, type, true);
    dv.setUint32(p + 8, flags, true);
    dv.setUint32(p + 12, addr, true);
    dv.setUint32(p + 16, offset, true);
    dv.setUint32(p + 20, size, true);
    dv.setUint32(p + 32, 1, true);
  };
  sections.forEach((s, i) => sh(i + 1, 1, 3, s.addr, secOff[i]!, s.data.length));
  sh(shnum - 1, 3, 0, 0, strOff, strtab.length);
  return buf;
}

export type RscSpec =
  | { type: "carveout"; da: number; pa?: number; len: number; name: string; flags?: number }
  | { type: "devmem"; da: number; pa?: number; len: number; name: string; flags?: number }
  | { type: "trace"; da: number; len: number; name: string }
  | { type: "vdev"; id: number; dfeatures?: number; vrings: { da: number; align: number; num: number }[]; configLen?: number }
  | { type: "raw"; typeId: number; body: Uint8Array };

function name32(dv: DataView, off: number, name: string): void {
  for (let i = 0; i < Math.min(name.length, 31); i++) dv.setUint8(off + i, name.charCodeAt(i));
}

/** A version-1 resource table with entries laid out in order. */
export function buildRscTable(entries: RscSpec[]): Uint8Array {
  const sizes = entries.map((e) => {
    if (e.type === "raw") return 4 + e.body.length;
    if (e.type === "vdev") return 28 + 20 * e.vrings.length + (e.configLen ?? 0);
    return e.type === "trace" ? 48 : 56;
  });
  const hdr = 16 + 4 * entries.length;
  const total = hdr + sizes.reduce((a, b) => a + b, 0);
  const buf = new Uint8Array(total);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, 1, true);
  dv.setUint32(4, entries.length, true);
  let off = hdr;
  entries.forEach((e, i) => {
    dv.setUint32(16 + 4 * i, off, true);
    const b = off + 4;
    if (e.type === "carveout" || e.type === "devmem") {
      dv.setUint32(off, e.type === "carveout" ? 0 : 1, true);
      dv.setUint32(b, e.da >>> 0, true);
      dv.setUint32(b + 4, (e.pa ?? 0) >>> 0, true);
      dv.setUint32(b + 8, e.len, true);
      dv.setUint32(b + 12, e.flags ?? 0, true);
      name32(dv, b + 20, e.name);
    } else if (e.type === "trace") {
      dv.setUint32(off, 2, true);
      dv.setUint32(b, e.da >>> 0, true);
      dv.setUint32(b + 4, e.len, true);
      name32(dv, b + 12, e.name);
    } else if (e.type === "vdev") {
      dv.setUint32(off, 3, true);
      dv.setUint32(b, e.id, true);
      dv.setUint32(b + 8, e.dfeatures ?? 0, true);
      dv.setUint32(b + 16, e.configLen ?? 0, true);
      dv.setUint8(b + 21, e.vrings.length);
      e.vrings.forEach((v, j) => {
        const r = b + 24 + 20 * j;
        dv.setUint32(r, v.da >>> 0, true);
        dv.setUint32(r + 4, v.align, true);
        dv.setUint32(r + 8, v.num, true);
      });
    } else if (e.type === "raw") {
      dv.setUint32(off, e.typeId, true);
      buf.set(e.body, b);
    }
    off += sizes[i]!;
  });
  return buf;
}

/**
 * An am64x R5F-shaped image that boots under the kernel's rules: code in
 * ATCM, data and table in the core's memory pool (0xa0100000), an ADDR_ANY
 * carveout, a trace buffer and an rpmsg vdev with ADDR_ANY vrings, all
 * allocated from the 1 MiB DMA pool.
 */
export function am64xTestImage(extra: RscSpec[] = []): Uint8Array {
  const table = buildRscTable([
    { type: "carveout", da: 0xffffffff, len: 0x10000, name: "scratch" },
    { type: "trace", da: 0xa0110000, len: 0x1000, name: "r5f_log" },
    { type: "vdev", id: 7, dfeatures: 1, vrings: [{ da: 0xffffffff, align: 4096, num: 256 }, { da: 0xffffffff, align: 4096, num: 256 }] },
    ...extra,
  ]);
  return buildElf32({
    entry: 0x0,
    segments: [
      { paddr: 0x0, data: new Uint8Array(0x40).fill(0xea) },
      { paddr: 0xa0100000, data: table, memsz: 0x20000 },
    ],
    sections: [{ name: ".resource_table", addr: 0xa0100000, data: table }],
  });
}
