/**
 * How many instructions the next slice of a core may run.
 *
 * A fixed instruction budget does not bound wall time: the same million
 * instructions take 2 ms in a tight loop and 150 ms in a loop that polls a
 * mailbox through a JS MMIO callback, and the event loop is blocked for the
 * whole slice. So the budget follows the core's measured speed to aim at
 * `targetMs` of host time per slice, never above `maxInsns` (the driver's
 * `sliceInsns`). It grows at most twofold per slice (one fast slice, e.g. a
 * core spinning in WFI, must not allow a huge next one) and shrinks at once.
 */
import { RprocError } from "../../errors.js";

/** Smallest budget: below this the per-slice overhead (uc_emu_start, register reads) dominates. */
export const MIN_SLICE_INSNS = 1000;
/** First slice of a fresh core: code is translated then, so it is the slowest. */
export const FIRST_SLICE_INSNS = 20_000;

export class SliceBudget {
  private next: number;

  constructor(
    readonly maxInsns: number,
    readonly targetMs: number,
  ) {
    if (!Number.isSafeInteger(maxInsns) || maxInsns <= 0) {
      throw new RprocError("EINVAL", `emulated driver: sliceInsns ${maxInsns} must be a positive integer`, { field: "sliceInsns", value: maxInsns });
    }
    if (!Number.isFinite(targetMs) || targetMs <= 0) {
      throw new RprocError("EINVAL", `emulated driver: sliceMs ${targetMs} must be a positive number`, { field: "sliceMs", value: targetMs });
    }
    this.next = Math.min(maxInsns, FIRST_SLICE_INSNS);
  }

  /** Instructions for the next slice. */
  get insns(): number {
    return this.next;
  }

  /** A slice of `insns` instructions took `ms` of host time: sets the next budget. */
  update(insns: number, ms: number): void {
    const perMs = insns / Math.max(ms, 0.01);
    const ideal = Math.round(perMs * this.targetMs);
    const floor = Math.min(MIN_SLICE_INSNS, this.maxInsns);
    this.next = Math.max(floor, Math.min(ideal, 2 * this.next, this.maxInsns));
  }
}
