/**
 * Boot a generated 32 MiB firmware on a simulated platform and compare with
 * a plain copy of its segments into a preallocated buffer.
 * Targets: boot time <= 2x the copy; peak RSS <= 2x image + 80 MB.
 * Run: node --import tsx bench/boot.ts
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Platform } from "../src/platform/platform.js";
import { createRproc } from "../src/core/create.js";
import { buildElf32, buildRscTable } from "../test/harness/elf-build.js";

const MiB = 1 << 20;
const SEG = 8 * MiB;
const BASE = 0x80000000;
const platform = Platform.parse({
  name: "bench",
  description: "one core, 256 MiB DDR at da = pa",
  sources: ["synthetic benchmark platform (no hardware)"],
  regions: [{ name: "ddr", pa: "0x80000000", size: "0x10000000", kind: "ddr", owner: "host" }],
  pools: [{ name: "dma", pa: "0x8f000000", size: "0x100000" }],
  processors: [
    {
      name: "core0",
      driver: "sim",
      firmware: "bench.elf",
      translations: [{ name: "ddr", da: "0x80000000", pa: "0x80000000", size: "0x10000000" }],
      memoryRegions: ["dma"],
      registerCarveouts: false,
      dmaPool: "dma",
      hasIommu: false,
      initiallyRunning: false,
      coredumpSegments: "none",
    },
  ],
});

const table = buildRscTable([
  { type: "trace", da: BASE + 4 * SEG, len: 0x1000, name: "log" },
  { type: "vdev", id: 7, vrings: [{ da: 0xffffffff, align: 4096, num: 256 }, { da: 0xffffffff, align: 4096, num: 256 }] },
]);
const segments = [0, 1, 2, 3].map((i) => {
  const data = new Uint8Array(SEG);
  for (let j = 0; j < SEG; j += 4096) data[j] = (i * 31 + j) & 0xff;
  return { paddr: BASE + i * SEG, data: data as Uint8Array };
});
segments.push({ paddr: BASE + 4 * SEG + 0x1000, data: table });
const image = buildElf32({ entry: BASE, segments, sections: [{ name: ".resource_table", addr: BASE + 4 * SEG + 0x1000, data: table }] });
const dir = mkdtempSync(join(tmpdir(), "rproc-bench-"));
writeFileSync(join(dir, "bench.elf"), image);

function copyOnce(dst: Buffer): number {
  const t0 = process.hrtime.bigint();
  let off = 0;
  for (const s of segments) {
    Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength).copy(dst, off);
    off += s.data.byteLength;
  }
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const rounds = 5;
const dst = Buffer.alloc(image.byteLength);
const copyMs: number[] = [];
const bootMs: number[] = [];
for (let i = 0; i < rounds; i++) copyMs.push(copyOnce(dst));
const rproc = createRproc(platform, undefined, { searchPath: [dir] });
for (let i = 0; i < rounds; i++) {
  const t0 = process.hrtime.bigint();
  await rproc.boot();
  bootMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  await rproc.shutdown();
}
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const rssMB = process.resourceUsage().maxRSS / 1024;
const imageMB = image.byteLength / MiB;
const ratio = median(bootMs) / median(copyMs);
console.log(`image ${imageMB.toFixed(1)} MiB, ${segments.length} segments`);
console.log(`copy  median ${median(copyMs).toFixed(1)} ms`);
console.log(`boot  median ${median(bootMs).toFixed(1)} ms (boot+load+resources, shutdown excluded)`);
console.log(`ratio boot/copy ${ratio.toFixed(2)} (target <= 2)`);
console.log(`peak RSS ${rssMB.toFixed(0)} MB; budget 2 x image + 80 = ${(2 * imageMB + 80).toFixed(0)} MB`);
