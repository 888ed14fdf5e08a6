// Fuzz the ELF and resource-table readers with seeded mutations of every fixture:
// each input must either parse or fail with an RprocError, nothing else.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { loadSeeds, mutate, prng, exercise } from "./fuzz-mutate.js";

const SEED = 0x5eed_1234;
const INPUTS = 24_000;

test(`${INPUTS} mutated firmware images either parse or fail with RprocError (seed ${SEED.toString(16)})`, () => {
  const seeds = loadSeeds(new URL("../fixtures/firmware/", import.meta.url));
  assert.ok(seeds.length >= 6);
  const rand = prng(SEED);
  const counts = { parsed: 0, rejected: 0 };
  for (let i = 0; i < INPUTS; i++) {
    const seed = seeds[i % seeds.length]!;
    const input = mutate(seed, rand);
    try {
      counts[exercise(input)]++;
    } catch (e) {
      assert.fail(`input ${i} (from ${seed.name}): ${(e as Error).message}\n${(e as Error).stack}`);
    }
  }
  // Both outcomes must occur, or the mutator is not reaching the checks.
  assert.ok(counts.parsed > INPUTS / 20, JSON.stringify(counts));
  assert.ok(counts.rejected > INPUTS / 20, JSON.stringify(counts));
});
