import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Platform } from "./platform.js";
import { lintPlatform } from "./lint.js";

test("stm32mp157: mcuram2 and mcuram are the same SRAM through the alias", () => {
  const d = lintPlatform(Platform.load("stm32mp157"));
  assert.deepEqual(
    d.map((x) => [x.code, x.path]),
    [["pool-alias-overlap", "pools[4]"]],
  );
  assert.match(d[0]!.message, /mcuram .*mcuram2/);
});

test("am64x: pools are disjoint and every memory-region is addressable", () => {
  assert.deepEqual(lintPlatform(Platform.load("am64x")), []);
});

test("imx8mp: the reserved pools at 0x55000000 sit in the DDR code/data windows", () => {
  assert.deepEqual(lintPlatform(Platform.load("imx8mp")), []);
});

test("direct overlap and unaddressable pools are reported", () => {
  const p = Platform.parse({
    name: "t",
    description: "t",
    sources: ["t"],
    regions: [{ name: "ram", pa: 0, size: 0x10000, kind: "sram", owner: "host" }],
    pools: [
      { name: "a", pa: 0, size: 0x2000 },
      { name: "b", pa: 0x1000, size: 0x2000 },
      { name: "c", pa: 0x8000, size: 0x1000 },
    ],
    processors: [{ name: "p", firmware: "f", translations: [{ da: 0, pa: 0, size: 0x4000 }], memoryRegions: ["a", "c"] }],
  });
  assert.deepEqual(
    lintPlatform(p).map((x) => [x.code, x.path]),
    [
      ["pool-overlap", "pools[1]"],
      ["pool-not-addressable", "processors[0].memoryRegions[1]"],
    ],
  );
});
