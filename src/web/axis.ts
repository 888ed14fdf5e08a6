/**
 * A compressed address axis: every boundary of something drawn becomes a
 * breakpoint; a stretch that something covers gets a height that grows with
 * the logarithm of its size (a 4 KiB vring and a 256 MiB DDR window are both
 * readable), a stretch nothing covers collapses to a short gap with a break
 * mark. Within a stretch the mapping is linear, so y() is monotonic.
 */
export interface AxisStretch {
  start: number;
  end: number;
  y: number;
  h: number;
  covered: boolean;
}

export interface Axis {
  stretches: AxisStretch[];
  height: number;
  /** y of an address (clamped to the axis). */
  y(addr: number): number;
}

export const MIN_STRETCH = 16;
export const GAP_STRETCH = 12;
/** Extra pixels per doubling of size above 4 KiB. */
const PER_DOUBLING = 7;

export function stretchHeight(size: number): number {
  return MIN_STRETCH + PER_DOUBLING * Math.log2(Math.max(1, size / 4096));
}

/** Build the axis over [start, end) intervals (empty ones are ignored). Linear in the number of intervals after sorting. */
export function buildAxis(intervals: { start: number; end: number }[], top = 0): Axis {
  const live = intervals.filter((i) => i.end > i.start);
  const points = [...new Set(live.flatMap((i) => [i.start, i.end]))].sort((a, b) => a - b);
  // Coverage by a sweep: +1 at each start, -1 at each end.
  const delta = new Map<number, number>();
  for (const i of live) {
    delta.set(i.start, (delta.get(i.start) ?? 0) + 1);
    delta.set(i.end, (delta.get(i.end) ?? 0) - 1);
  }
  const stretches: AxisStretch[] = [];
  let y = top;
  let depth = 0;
  for (let k = 0; k + 1 < points.length; k++) {
    const a = points[k]!;
    const b = points[k + 1]!;
    depth += delta.get(a) ?? 0;
    const covered = depth > 0;
    const h = covered ? stretchHeight(b - a) : GAP_STRETCH;
    stretches.push({ start: a, end: b, y, h, covered });
    y += h;
  }
  const height = y - top;
  const yOf = (addr: number): number => {
    if (stretches.length === 0) return top;
    if (addr <= stretches[0]!.start) return stretches[0]!.y;
    // Binary search for the stretch holding addr.
    let lo = 0;
    let hi = stretches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (stretches[mid]!.start <= addr) lo = mid;
      else hi = mid - 1;
    }
    const s = stretches[lo]!;
    if (addr >= s.end) return s.y + s.h;
    return s.y + (s.h * (addr - s.start)) / (s.end - s.start);
  };
  return { stretches, height, y: yOf };
}
