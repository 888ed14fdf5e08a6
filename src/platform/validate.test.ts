import { test } from "node:test";
import * as assert from "node:assert/strict";
import { validatePlatform } from "./validate.js";
import { Platform } from "./platform.js";
import { RprocError } from "../errors.js";

/** A small valid platform; each case breaks one thing in a fresh copy. */
function base(): any {
  return {
    name: "mini",
    description: "test platform",
    sources: ["test"],
    regions: [
      { name: "sram", pa: "0x10000000", size: "0x20000", kind: "sram", owner: "shared" },
      { name: "sram-alias", pa: "0x30000000", size: "0x20000", kind: "sram", owner: "shared", aliasOf: "sram" },
      { name: "mbox", pa: "0x4c001000", size: "0x400", kind: "mmio", owner: "host" },
      { name: "ddr", pa: 0x80000000, size: 0x80000000, kind: "ddr", owner: "host" },
    ],
    pools: [
      { name: "vdev0vring0", pa: "0x10000000", size: "0x1000" },
      { name: "fw", pa: "0x10001000", size: "0x1f000", noMap: true },
    ],
    processors: [
      {
        name: "m4",
        firmware: "fw.elf",
        translations: [{ da: 0, pa: "0x10000000", size: "0x20000", name: "sram" }],
        memoryRegions: ["vdev0vring0", "fw"],
        dmaPool: "fw",
        tee: { rprocId: 0 },
        mailbox: { kind: "stm32-ipcc", pa: "0x4c001000", size: "0x400", channels: ["vq0", "vq1"] },
        watchdog: { kind: "wdg", timeoutMs: 100 },
        peripherals: [{ name: "ipcc", pa: "0x4c001000", size: 4, da: "0x4c001000" }],
      },
    ],
  };
}

test("the base fixture is valid and gets the documented defaults", () => {
  const d = validatePlatform(base());
  const p = d.processors[0]!;
  assert.equal(p.driver, "sim");
  assert.equal(p.registerCarveouts, false);
  assert.equal(p.hasIommu, false);
  assert.equal(p.initiallyRunning, false);
  assert.equal(p.coredumpSegments, "none");
  assert.equal(d.regions[0]!.pa, 0x10000000);
  assert.equal(d.regions[3]!.size, 0x80000000);
});

/** [what is broken, how, the field the error must name] */
const cases: [string, (j: any) => void, string][] = [
  ["root not an object", (j) => Object.assign(j, { __replace: [] }), "(root)"],
  ["unknown top-level key", (j) => (j.extends = "x"), "extends"],
  ["missing name", (j) => delete j.name, "name"],
  ["name with a slash", (j) => (j.name = "a/b"), "name"],
  ["empty description", (j) => (j.description = ""), "description"],
  ["no sources", (j) => (j.sources = []), "sources"],
  ["source not a string", (j) => (j.sources = [3]), "sources[0]"],
  ["regions not an array", (j) => (j.regions = {}), "regions"],
  ["no regions", (j) => ((j.regions = []), (j.pools = []), (j.processors[0].translations = [])), "regions"],
  ["unknown region key", (j) => (j.regions[0].cacheable = true), "regions[0].cacheable"],
  ["region kind", (j) => (j.regions[0].kind = "flash"), "regions[0].kind"],
  ["region owner", (j) => (j.regions[2].owner = "linux"), "regions[2].owner"],
  ["negative pa", (j) => (j.regions[2].pa = -4), "regions[2].pa"],
  ["fractional size", (j) => (j.regions[2].size = 1.5), "regions[2].size"],
  ["pa as a non-hex string", (j) => (j.regions[2].pa = "4c001000h"), "regions[2].pa"],
  ["pa beyond 2^53", (j) => (j.regions[3].pa = "0x20000000000000"), "regions[3].pa"],
  ["zero size", (j) => (j.regions[2].size = 0), "regions[2].size"],
  ["pa + size wraps", (j) => (j.regions[3].size = "0x1fffffffffffff"), "regions[3].size"],
  ["overlapping regions", (j) => (j.regions[2].pa = "0x1001f000"), "regions[2].pa"],
  ["duplicate region name", (j) => (j.regions[2].name = "sram"), "regions[2].name"],
  ["alias of nothing", (j) => (j.regions[1].aliasOf = "tcm"), "regions[1].aliasOf"],
  ["alias of itself", (j) => (j.regions[1].aliasOf = "sram-alias"), "regions[1].aliasOf"],
  ["alias size differs", (j) => (j.regions[1].size = "0x10000"), "regions[1].size"],
  ["alias not page aligned", (j) => ((j.regions[1].pa = "0x30000800")), "regions[1].aliasOf"],
  ["pool outside every region", (j) => (j.pools[1].pa = "0x20000000"), "pools[1].pa"],
  ["pool straddling a region end", (j) => (j.pools[1].size = "0x20000"), "pools[1].pa"],
  ["duplicate pool name", (j) => (j.pools[1].name = "vdev0vring0"), "pools[1].name"],
  ["pool noMap not boolean", (j) => (j.pools[1].noMap = "yes"), "pools[1].noMap"],
  ["no processors", (j) => (j.processors = []), "processors"],
  ["duplicate processor", (j) => j.processors.push({ ...j.processors[0], tee: undefined }), "processors[1].name"],
  ["unknown processor key", (j) => (j.processors[0].autoBoot = true), "processors[0].autoBoot"],
  ["missing firmware", (j) => delete j.processors[0].firmware, "processors[0].firmware"],
  ["firmware with newline", (j) => (j.processors[0].firmware = "a\nb"), "processors[0].firmware"],
  ["core kind", (j) => (j.processors[0].core = "cortex-m0"), "processors[0].core"],
  ["elfMachine beyond u16", (j) => (j.processors[0].elfMachine = 70000), "processors[0].elfMachine"],
  ["boolean as string", (j) => (j.processors[0].hasIommu = "false"), "processors[0].hasIommu"],
  ["coredumpSegments value", (j) => (j.processors[0].coredumpSegments = "all"), "processors[0].coredumpSegments"],
  ["no translations", (j) => (j.processors[0].translations = []), "processors[0].translations"],
  ["translation zero size", (j) => (j.processors[0].translations[0].size = 0), "processors[0].translations[0].size"],
  ["translation da beyond 32 bits", (j) => (j.processors[0].translations[0].da = "0x100000000"), "processors[0].translations[0].da"],
  ["translation da + size wraps 32 bits", (j) => j.processors[0].translations.push({ da: "0xffff0000", pa: "0x80000000", size: "0x20000" }), "processors[0].translations[1].size"],
  ["translation pa not mapped", (j) => (j.processors[0].translations[0].pa = "0x20000000"), "processors[0].translations[0].pa"],
  ["translation unknown key", (j) => (j.processors[0].translations[0].flags = 1), "processors[0].translations[0].flags"],
  ["duplicate translation name", (j) => j.processors[0].translations.push({ da: "0x30000000", pa: "0x30000000", size: "0x1000", name: "sram" }), "processors[0].translations[1].name"],
  ["memoryRegions names no pool", (j) => (j.processors[0].memoryRegions = ["vdev0vring0", "vdev0vring1"]), "processors[0].memoryRegions[1]"],
  ["memoryRegions lists a pool twice", (j) => (j.processors[0].memoryRegions = ["fw", "fw"]), "processors[0].memoryRegions[1]"],
  ["dmaPool names no pool", (j) => (j.processors[0].dmaPool = "dma"), "processors[0].dmaPool"],
  ["tee without rprocId", (j) => (j.processors[0].tee = {}), "processors[0].tee.rprocId"],
  ["tee rprocId reused", (j) => j.processors.push({ ...j.processors[0], name: "m4b" }), "processors[1].tee.rprocId"],
  ["tee acceptEcdsa not a boolean", (j) => (j.processors[0].tee.acceptEcdsa = "yes"), "processors[0].tee.acceptEcdsa"],
  ["mailbox kind", (j) => (j.processors[0].mailbox.kind = "arm-mhu"), "processors[0].mailbox.kind"],
  ["mailbox not mapped", (j) => (j.processors[0].mailbox.pa = "0x4c002000"), "processors[0].mailbox.pa"],
  ["mailbox duplicate channel", (j) => (j.processors[0].mailbox.channels = ["vq0", "vq0"]), "processors[0].mailbox.channels[1]"],
  ["watchdog zero timeout", (j) => (j.processors[0].watchdog.timeoutMs = 0), "processors[0].watchdog.timeoutMs"],
  ["watchdog pa without size", (j) => (j.processors[0].watchdog.pa = "0x4c001000"), "processors[0].watchdog.size"],
  ["peripheral not mapped", (j) => (j.processors[0].peripherals[0].pa = "0x5000"), "processors[0].peripherals[0].pa"],
  ["peripheral da wraps 32 bits", (j) => (j.processors[0].peripherals[0].da = "0xfffffffe"), "processors[0].peripherals[0].size"],
  ["duplicate peripheral", (j) => j.processors[0].peripherals.push(j.processors[0].peripherals[0]), "processors[0].peripherals[1].name"],
  ["unmodelledMmio not log/fault", (j) => (j.processors[0].unmodelledMmio = "ignore"), "processors[0].unmodelledMmio"],
];

for (const [what, breakIt, field] of cases) {
  test(`invalid: ${what} -> EINVAL at ${field}`, () => {
    let j = base();
    breakIt(j);
    if (j.__replace !== undefined) j = j.__replace;
    assert.throws(
      () => Platform.parse(j),
      (e: unknown) => {
        assert.ok(e instanceof RprocError, `expected RprocError, got ${String(e)}`);
        assert.equal(e.code, "EINVAL");
        assert.equal(e.field, field, e.message);
        assert.ok(e.message.includes(field), `message names the field: ${e.message}`);
        return true;
      },
    );
  });
}

test("unmodelledMmio: absent by default (the emulated driver logs), \"fault\" kept", () => {
  assert.equal(validatePlatform(base()).processors[0]!.unmodelledMmio, undefined);
  const j = base();
  j.processors[0].unmodelledMmio = "fault";
  assert.equal(validatePlatform(j).processors[0]!.unmodelledMmio, "fault");
});

test("a 64-bit core may use device addresses above 4 GiB", () => {
  const j = base();
  j.processors[0].core = "cortex-a53";
  j.processors[0].translations.push({ da: "0x100000000", pa: "0x80000000", size: "0x1000" });
  assert.equal(validatePlatform(j).processors[0]!.translations[1]!.da, 2 ** 32);
});

test("messages give the value and the limit", () => {
  const j = base();
  j.processors[0].translations[0].da = "0xfffff000";
  j.processors[0].translations[0].size = "0x2000";
  try {
    validatePlatform(j);
    assert.fail("expected an error");
  } catch (e) {
    assert.ok(e instanceof RprocError);
    assert.match(e.message, /0xfffff000/);
    assert.match(e.message, /0x100000000/);
    assert.equal(e.limit, 2 ** 32);
  }
});

test("driverModel: defaults filled in; names it gives must exist", () => {
  const j = base();
  j.processors[0].driverModel = { kernelDriver: "ti_k3_r5", daToVa: { translations: ["sram"], memoryRegions: { from: 1 } }, recovery: "disabled" };
  assert.deepEqual(validatePlatform(j).processors[0]!.driverModel, {
    kernelDriver: "ti_k3_r5",
    daToVa: { translations: ["sram"], memoryRegions: { from: 1, skip: [] }, strictEnd: false },
    missingResourceTable: "refuse",
    carveoutSkip: [],
    recovery: "disabled",
    setsElfInfo: true,
  });
  const bad = base();
  bad.processors[0].driverModel = { kernelDriver: "x", daToVa: { translations: ["tcm"] } };
  assert.throws(() => validatePlatform(bad), { code: "EINVAL", field: "processors[0].driverModel.daToVa.translations[0]" });
  const region = base();
  region.processors[0].driverModel = { kernelDriver: "imx_rproc", loadedTableRegion: "rsc-table" };
  assert.throws(() => validatePlatform(region), { code: "EINVAL", field: "processors[0].driverModel.loadedTableRegion" });
  const word = base();
  word.processors[0].driverModel = { kernelDriver: "x", missingResourceTable: "ignore" };
  assert.throws(() => validatePlatform(word), { code: "EINVAL", field: "processors[0].driverModel.missingResourceTable" });
});
