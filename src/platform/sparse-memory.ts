/**
 * Physical memory of a simulated SoC, materialised one 4 KiB page at a time.
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

export class SparseMemory {
  private readonly pages = new Map<number, Uint8Array>();
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
    this.walk(pa, len, false, (page, pageOff, outOff, n) => {
      if (page) out.set(page.subarray(pageOff, pageOff + n), outOff);
    });
    return out;
  }

  write(pa: number, data: Uint8Array): void {
    checkAccess(pa, data.length, "write");
    this.walk(pa, data.length, true, (page, pageOff, inOff, n) => {
      page!.set(data.subarray(inOff, inOff + n), pageOff);
    });
  }

  fill(pa: number, len: number, value: number): void {
    checkAccess(pa, len, "fill");
    const v = value & 0xff;
    // Filling with zero never needs to materialise a page: absent pages already read as 0.
    this.walk(pa, len, v !== 0, (page, pageOff, _off, n) => {
      if (page) page.fill(v, pageOff, pageOff + n);
    });
  }

  page(pa: number, create: boolean): Uint8Array | undefined {
    checkAccess(pa, 1, "page");
    const index = Math.floor(this.resolve(pa) / PAGE_SIZE);
    let p = this.pages.get(index);
    if (p === undefined && create) {
      p = new Uint8Array(PAGE_SIZE);
      this.pages.set(index, p);
    }
    return p;
  }

  pageCount(): number {
    return this.pages.size;
  }

  /** Visit [pa, pa+len) page by page, resolving aliases per page. */
  private walk(
    pa: number,
    len: number,
    create: boolean,
    visit: (page: Uint8Array | undefined, pageOff: number, bufOff: number, n: number) => void,
  ): void {
    let done = 0;
    while (done < len) {
      const cur = pa + done;
      const pageOff = cur % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - pageOff, len - done);
      visit(this.page(cur, create), pageOff, done, n);
      done += n;
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
