/**
 * Physical memory of a simulated SoC, materialised one 4 KiB page at a time
 * (allocated in slabs of 64 pages, see Slab).
 * A platform may declare GiBs of DDR; only pages that were written (or asked
 * for with `page(pa, true)`) cost memory, so a boot touches kilobytes.
 *
 * Aliases model one physical RAM seen at two bus addresses (STM32MP1 MCU SRAM
 * at 0x10000000 and 0x30000000): both ranges resolve to the same backing
 * pages, so a write through one is read through the other and an emulator
 * that maps `page()` zero-copy sees a single RAM.
 */
import { RprocError, hex } from "../errors.js";

export const PAGE_SIZE = 4096;

/** Physical addresses are kept exact as JS numbers: up to 2^53 (64-bit-safe subset). */
const PA_LIMIT = Number.MAX_SAFE_INTEGER;

interface Alias {
  pa: number;
  size: number;
  target: number;
}

/**
 * Pages are carved from slabs: one ArrayBuffer of SLAB_PAGES consecutive
 * canonical pages, created when the first of them is written. A bulk write
 * or read then costs one copy per slab (not per page), while `page()` still
 * hands out a stable 4 KiB subarray of the slab (an emulator maps it
 * zero-copy; the backing store of an ArrayBuffer never moves).
 */
export const SLAB_PAGES = 64;
const SLAB_SIZE = PAGE_SIZE * SLAB_PAGES;

interface Slab {
  bytes: Uint8Array;
  /** 1 = the page is materialised (written or handed out). An absent page's bytes are still zero. */
  present: Uint8Array;
  /** Views handed out by page(), kept so the identity stays stable. */
  views: (Uint8Array | undefined)[];
}

export class SparseMemory {
  private readonly slabs = new Map<number, Slab>();
  private pagesMaterialised = 0;
  private readonly aliases: Alias[] = [];

  /**
   * Make [pa, pa+size) the same memory as [target, target+size). All three
   * numbers must be page aligned (hardware aliases are decoded on far larger
   * boundaries). Aliases do not chain: the target range must not itself be an alias.
   */
  alias(pa: number, size: number, target: number): void {
    checkAccess(pa, size, "alias");
    checkAccess(target, size, "alias target");
    for (const [v, f] of [[pa, "alias pa"], [size, "alias size"], [target, "alias target"]] as const) {
      if (v % PAGE_SIZE !== 0) {
        throw new RprocError("EINVAL", `${f} ${hex(v)} is not aligned to the ${hex(PAGE_SIZE)} page size`, {
          field: f,
          value: v,
          limit: PAGE_SIZE,
        });
      }
    }
    for (const a of this.aliases) {
      if (overlaps(pa, size, a.pa, a.size) || overlaps(target, size, a.pa, a.size)) {
        throw new RprocError("EINVAL", `alias ${hex(pa)}+${hex(size)} overlaps alias ${hex(a.pa)}+${hex(a.size)}`, {
          field: "alias",
          value: pa,
        });
      }
    }
    if (overlaps(pa, size, target, size)) {
      throw new RprocError("EINVAL", `alias ${hex(pa)}+${hex(size)} overlaps its own target ${hex(target)}`, {
        field: "alias",
        value: pa,
      });
    }
    this.aliases.push({ pa, size, target });
  }

  /** The canonical physical address of pa (itself unless it lies in an alias). */
  resolve(pa: number): number {
    for (const a of this.aliases) if (pa >= a.pa && pa < a.pa + a.size) return a.target + (pa - a.pa);
    return pa;
  }

  /**
   * [pa, pa+len) as canonical (alias-resolved) ranges, in address order of pa.
   * Used for alias-aware overlap checks (locks, pool overlaps).
   */
  canonicalRanges(pa: number, len: number): { pa: number; size: number }[] {
    checkAccess(pa, len, "resolve");
    const out: { pa: number; size: number }[] = [];
    let cur = pa;
    const end = pa + len;
    while (cur < end) {
      const { stop, target } = this.aliasPiece(cur, end);
      const size = stop - cur;
      const last = out[out.length - 1];
      if (last && last.pa + last.size === target) last.size += size;
      else out.push({ pa: target, size });
      cur = stop;
    }
    return out;
  }

  read(pa: number, len: number): Uint8Array {
    checkAccess(pa, len, "read");
    const out = new Uint8Array(len);
    // Absent pages (and absent pages inside a slab) are zero, as `out` already is.
    this.spans(pa, len, false, (slab, off, bufOff, n) => {
      if (slab) out.set(slab.bytes.subarray(off, off + n), bufOff);
    });
    return out;
  }

  write(pa: number, data: Uint8Array): void {
    checkAccess(pa, data.length, "write");
    this.spans(pa, data.length, true, (slab, off, bufOff, n) => {
      this.materialise(slab!, off, n);
      slab!.bytes.set(data.subarray(bufOff, bufOff + n), off);
    });
  }

  fill(pa: number, len: number, value: number): void {
    checkAccess(pa, len, "fill");
    const v = value & 0xff;
    if (v !== 0) {
      this.spans(pa, len, true, (slab, off, _bufOff, n) => {
        this.materialise(slab!, off, n);
        slab!.bytes.fill(v, off, off + n);
      });
      return;
    }
    // Zero never needs a page: absent pages already read as 0, and touching
    // them would cost memory. Only pages that exist (written before, e.g. by
    // an earlier boot) are cleared, so a re-boot is as fresh as the first.
    this.spans(pa, len, false, (slab, off, _bufOff, n) => {
      if (!slab) return;
      const end = off + n;
      let cur = off;
      while (cur < end) {
        const p = Math.floor(cur / PAGE_SIZE);
        const stop = Math.min(end, (p + 1) * PAGE_SIZE);
        if (slab.present[p]) slab.bytes.fill(0, cur, stop);
        cur = stop;
      }
    });
  }

  /**
   * Visit [pa, pa+len) without copying, as views that are contiguous in the
   * backing store (at most one slab each); `bytes` is undefined for a stretch
   * with no backing at all, which reads as `n` zero bytes. Nothing is created.
   */
  forEachSpan(pa: number, len: number, visit: (bytes: Uint8Array | undefined, n: number) => void): void {
    checkAccess(pa, len, "read");
    this.spans(pa, len, false, (slab, off, _bufOff, n) => visit(slab?.bytes.subarray(off, off + n), n));
  }

  page(pa: number, create: boolean): Uint8Array | undefined {
    checkAccess(pa, 1, "page");
    const cpa = this.resolve(pa);
    const key = Math.floor(cpa / SLAB_SIZE);
    let slab = this.slabs.get(key);
    if (slab === undefined) {
      if (!create) return undefined;
      slab = this.newSlab(key);
    }
    const p = Math.floor((cpa - key * SLAB_SIZE) / PAGE_SIZE);
    if (!slab.present[p]) {
      if (!create) return undefined;
      slab.present[p] = 1;
      this.pagesMaterialised++;
    }
    let view = slab.views[p];
    if (view === undefined) {
      view = slab.bytes.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE);
      slab.views[p] = view;
    }
    return view;
  }

  /** Pages materialised so far (written, filled with non-zero, or handed out by page(pa, true)). */
  pageCount(): number {
    return this.pagesMaterialised;
  }

  private newSlab(key: number): Slab {
    const slab: Slab = { bytes: new Uint8Array(SLAB_SIZE), present: new Uint8Array(SLAB_PAGES), views: [] };
    this.slabs.set(key, slab);
    return slab;
  }

  /** Mark the pages of [off, off+n) in `slab` materialised. */
  private materialise(slab: Slab, off: number, n: number): void {
    const last = Math.floor((off + n - 1) / PAGE_SIZE);
    for (let p = Math.floor(off / PAGE_SIZE); p <= last; p++) {
      if (slab.present[p]) continue;
      slab.present[p] = 1;
      this.pagesMaterialised++;
    }
  }

  /**
   * The piece [cur, stop) of [cur, end) with one alias mapping, and where
   * cur lands (target): cut at the end of the alias cur is in, or at the
   * start of the next alias.
   */
  private aliasPiece(cur: number, end: number): { stop: number; target: number } {
    let stop = end;
    let target = cur;
    for (const a of this.aliases) {
      if (cur >= a.pa && cur < a.pa + a.size) {
        stop = Math.min(stop, a.pa + a.size);
        target = a.target + (cur - a.pa);
      } else if (a.pa > cur && a.pa < stop) {
        stop = a.pa;
      }
    }
    return { stop, target };
  }

  /**
   * Visit [pa, pa+len) as pieces that are contiguous inside one slab:
   * aliases are resolved once per alias boundary, then the canonical range
   * is cut at slab boundaries. `slab` is undefined for a slab that does not
   * exist (and is created first when `create`).
   */
  private spans(
    pa: number,
    len: number,
    create: boolean,
    visit: (slab: Slab | undefined, slabOff: number, bufOff: number, n: number) => void,
  ): void {
    let done = 0;
    while (done < len) {
      const cur = pa + done;
      const piece = this.aliasPiece(cur, pa + len);
      let target = piece.target;
      const pieceEnd = done + (piece.stop - cur);
      while (done < pieceEnd) {
        const key = Math.floor(target / SLAB_SIZE);
        const off = target - key * SLAB_SIZE;
        const n = Math.min(SLAB_SIZE - off, pieceEnd - done);
        let slab = this.slabs.get(key);
        if (slab === undefined && create) slab = this.newSlab(key);
        visit(slab, off, done, n);
        done += n;
        target += n;
      }
    }
  }
}

function overlaps(a: number, as: number, b: number, bs: number): boolean {
  return a < b + bs && b < a + as;
}

function checkAccess(pa: number, len: number, what: string): void {
  if (!Number.isSafeInteger(pa) || pa < 0) {
    throw new RprocError("EINVAL", `memory ${what}: address ${String(pa)} is not a non-negative integer`, {
      field: "pa",
      value: String(pa),
    });
  }
  if (!Number.isSafeInteger(len) || len < 0) {
    throw new RprocError("EINVAL", `memory ${what}: length ${String(len)} is not a non-negative integer`, {
      field: "len",
      value: String(len),
    });
  }
  if (pa + len > PA_LIMIT) {
    throw new RprocError("EOVERFLOW", `memory ${what}: ${hex(pa)} + ${hex(len)} exceeds ${hex(PA_LIMIT)}`, {
      field: "pa",
      value: pa,
      limit: PA_LIMIT,
    });
  }
}
