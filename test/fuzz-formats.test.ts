// Fuzz every parser inspect() reaches (ELF, resource table, OP-TEE signed
// image, ELF core file) with seeded mutations of well-formed inputs: each
// input must either parse or fail with an RprocError, nothing else, and
// inspect()'s result must be plain JSON (what `rproc inspect --json` prints).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { loadSeeds, mutate, prng, exercise, type Seed } from "./fuzz-mutate.js";
import { extraSeeds } from "./fuzz-seeds.js";

const SEED = 0x5eed_1234;
const INPUTS = 24_000;
const FIXTURES = new URL("../fixtures/firmware/", import.meta.url);

function family(s: Seed): string {
  return s.name.startsWith("signed-") ? "signed" : s.name.startsWith("core-") ? "core" : "elf";
}

test(`${INPUTS} mutated firmware images, signed images and core files either parse or fail with RprocError (seed ${SEED.toString(16)})`, () => {
  const seeds = [...loadSeeds(FIXTURES), ...extraSeeds(FIXTURES)];
  assert.ok(seeds.length >= 12);
  // Every seed itself must be accepted, or its mutations test nothing.
  for (const s of seeds) assert.equal(exercise(s.bytes), "parsed", s.name);
  const rand = prng(SEED);
  const counts: Record<string, { parsed: number; rejected: number }> = {};
  for (let i = 0; i < INPUTS; i++) {
    const seed = seeds[i % seeds.length]!;
    const input = mutate(seed, rand);
    const c = (counts[family(seed)] ??= { parsed: 0, rejected: 0 });
    try {
      c[exercise(input)]++;
    } catch (e) {
      assert.fail(`input ${i} (from ${seed.name}): ${(e as Error).message}\n${(e as Error).stack}`);
    }
  }
  // Both outcomes must occur for every kind of input, or the mutator is not reaching the checks.
  assert.deepEqual(Object.keys(counts).sort(), ["core", "elf", "signed"]);
  for (const [k, c] of Object.entries(counts)) {
    const n = c.parsed + c.rejected;
    assert.ok(c.parsed > n / 20 && c.rejected > n / 20, `${k}: ${JSON.stringify(c)}`);
  }
});
