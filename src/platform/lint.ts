/**
 * Findings about a valid platform that the kernel would accept but that
 * bite on real boards (user problem 6: reserved memory vs carveouts). The
 * schema check refuses what cannot work; this reports what probably won't.
 * Alias-aware: STM32MP1's mcuram2 (0x10000000) and mcuram (0x30000000) are
 * the same SRAM bytes, as the DK device trees declare them.
 */
import { diag, type Diagnostic } from "../diagnostics.js";
import { hex } from "../errors.js";
import type { Platform } from "./platform.js";

export function lintPlatform(platform: Platform): Diagnostic[] {
  const out: Diagnostic[] = [];
  const { pools, processors } = platform.desc;
  const canon = pools.map((p) => platform.memory.canonicalRanges(p.pa, p.size));
  for (let i = 0; i < pools.length; i++) {
    for (let j = i + 1; j < pools.length; j++) {
      const a = pools[i]!;
      const b = pools[j]!;
      const hit = canon[i]!.some((x) => canon[j]!.some((y) => x.pa < y.pa + y.size && y.pa < x.pa + x.size));
      if (!hit) continue;
      const direct = a.pa < b.pa + b.size && b.pa < a.pa + a.size;
      out.push(
        diag(
          "warning",
          direct ? "pool-overlap" : "pool-alias-overlap",
          `pools[${j}]`,
          direct
            ? `pool ${b.name} (${hex(b.pa)} + ${hex(b.size)}) overlaps pool ${a.name} (${hex(a.pa)} + ${hex(a.size)})`
            : `pool ${b.name} (${hex(b.pa)} + ${hex(b.size)}) is the same memory as pool ${a.name} (${hex(a.pa)} + ${hex(a.size)}) through a bus alias`,
        ),
      );
    }
  }
  processors.forEach((proc, i) => {
    proc.memoryRegions.forEach((name, k) => {
      const pool = platform.pool(name)!;
      if (platform.paToDa(proc, pool.pa, pool.size) === undefined) {
        out.push(
          diag(
            "warning",
            "pool-not-addressable",
            `processors[${i}].memoryRegions[${k}]`,
            `${proc.name} cannot address pool ${name} (${hex(pool.pa)} + ${hex(pool.size)}): no translation holds it, so a carveout there has no device address`,
          ),
        );
      }
    });
  });
  return out;
}
