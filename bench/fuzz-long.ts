/**
 * Longer fuzz campaign over every parser inspect() reaches: ELF, resource
 * table, OP-TEE signed image, ELF core file (seeds: test/fuzz-seeds.ts).
 *   node --import tsx bench/fuzz-long.ts [inputs=200000] [seed=1]
 * Prints inputs/s and how the inputs ended; exits 1 on the first input for
 * which something other than an RprocError escaped (the input is written
 * to fuzz-crash-<seed>-<n>.bin for replay).
 */
import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { loadSeeds, mutate, prng, exercise } from "../test/fuzz-mutate.js";
import { extraSeeds } from "../test/fuzz-seeds.js";

const count = Number(process.argv[2] ?? 200_000);
const seedValue = Number(process.argv[3] ?? 1);
if (!Number.isInteger(count) || count <= 0 || !Number.isInteger(seedValue)) {
  console.error("usage: fuzz-long.ts [inputs] [seed]");
  process.exit(2);
}

const fixtures = new URL("../fixtures/firmware/", import.meta.url);
const seeds = [...loadSeeds(fixtures), ...extraSeeds(fixtures)];
const rand = prng(seedValue);
const counts = { parsed: 0, rejected: 0 };
const t0 = performance.now();
const tty = process.stderr.isTTY === true;
for (let i = 0; i < count; i++) {
  // Progress on a terminal only, every 5,000 inputs.
  if (tty && i % 5000 === 0) process.stderr.write(`\r${i}/${count} inputs (${((100 * i) / count).toFixed(0)}%)`);
  const input = mutate(seeds[i % seeds.length]!, rand);
  try {
    counts[exercise(input)]++;
  } catch (e) {
    const file = `fuzz-crash-${seedValue}-${i}.bin`;
    writeFileSync(file, input);
    console.error(`input ${i}: ${(e as Error).message}; written to ${file}`);
    process.exit(1);
  }
}
if (tty) process.stderr.write("\r\x1b[K");
const s = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({ inputs: count, seed: seedValue, seconds: Number(s.toFixed(2)), inputsPerSecond: Math.round(count / s), ...counts }),
);
