import { test } from "node:test";
import * as assert from "node:assert/strict";
import { RprocError } from "../../errors.js";
import { FIRST_SLICE_INSNS, MIN_SLICE_INSNS, SliceBudget } from "./slice-budget.js";

test("a slow core gets a budget that fits the target wall time; a fast one grows at most twofold per slice up to sliceInsns", () => {
  const b = new SliceBudget(1_000_000, 4);
  assert.equal(b.insns, FIRST_SLICE_INSNS);
  // 10 M instructions/s (an MMIO-polling loop): 4 ms is 40,000 instructions.
  b.update(b.insns, 2);
  assert.equal(b.insns, 40_000);
  b.update(40_000, 4);
  assert.equal(b.insns, 40_000);
  // Now 500 M/s (a tight loop): grows 2x per slice, then stops at the maximum.
  const seen: number[] = [];
  for (let i = 0; i < 8; i++) {
    b.update(b.insns, b.insns / 500_000);
    seen.push(b.insns);
  }
  assert.deepEqual(seen, [80_000, 160_000, 320_000, 640_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000]);
  // It slows down (the firmware starts polling): the budget drops at once.
  b.update(1_000_000, 100);
  assert.equal(b.insns, 40_000);
});

test("the budget never falls below the minimum (nor above a smaller sliceInsns), even when a slice was very slow", () => {
  const b = new SliceBudget(1_000_000, 4);
  b.update(20_000, 10_000);
  assert.equal(b.insns, MIN_SLICE_INSNS);
  const small = new SliceBudget(500, 4);
  assert.equal(small.insns, 500);
  small.update(500, 1000);
  assert.equal(small.insns, 500);
});

test("bad limits are EINVAL naming the option", () => {
  for (const [insns, ms, field] of [
    [0, 4, "sliceInsns"],
    [1.5, 4, "sliceInsns"],
    [1000, 0, "sliceMs"],
    [1000, Number.NaN, "sliceMs"],
  ] as const) {
    assert.throws(
      () => new SliceBudget(insns, ms),
      (e: unknown) => e instanceof RprocError && e.code === "EINVAL" && e.field === field,
    );
  }
});
