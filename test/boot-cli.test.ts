import { test } from "node:test";
import * as assert from "node:assert/strict";
import { main } from "../src/cli/main.js";
import type { CliIO } from "../src/cli/io.js";
import { ROOT, fixture, tempFirmware } from "./harness/setup.js";
import { am64xTestImage } from "./harness/elf-build.js";

const ANY = 0xffffffff;

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), isTTY: false, cwd: ROOT, env: {} };
  const code = await main(["boot", ...args], io);
  return { code, out, err };
}

test("rproc boot --json: stm32mp15 M4 fixture reaches running with every address resolved", async () => {
  const r = await cli([fixture("stm32mp15-m4.elf"), "--platform", "stm32mp157", "--json"]);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.state, "running");
  assert.equal(j.error, null);
  assert.equal(j.processor, "m4");
  assert.deepEqual(j.segments.map((s: { da: number; pa: number; region: string }) => [s.da, s.pa, s.region]), [
    [0, 0x38000000, "retram"],
    [0x10000000, 0x10000000, "mcu-sram-alias"],
  ]);
  assert.equal(j.vdevs[0].vrings[0].da, 0x10040000);
  assert.deepEqual(j.vdevs[0].vrings.map((v: { notifyid: number }) => v.notifyid), [0, 1]);
  for (const v of j.vdevs[0].vrings) assert.notEqual(v.da, 0xffffffff);
  assert.match(j.traces[0].text, /started at 0x41/);
  assert.ok(j.events.length > 20);
});

test("rproc boot: refusals exit 1 naming the step and errno; --trace prints events", async () => {
  const dev = await cli(["fixtures/firmware/am64x-r5f.elf", "--platform", "am64x", "--trace"]);
  assert.equal(dev.code, 1);
  assert.match(dev.out, /boot failed at handle_resources: EINVAL/);
  assert.match(dev.out, /begin sanity_check/);
  assert.doesNotMatch(dev.out + dev.err, /\n\s+at /, "no stack trace");
  const be = await cli([fixture("bigendian.elf"), "--platform", "am64x", "--json"]);
  assert.equal(be.code, 1);
  assert.deepEqual([JSON.parse(be.out).error.code, JSON.parse(be.out).error.step], ["EINVAL", "sanity_check"]);
  const nt = await cli([fixture("no-rsc-table.elf"), "--platform", "am64x", "--json"]);
  assert.deepEqual([JSON.parse(nt.out).error.code, JSON.parse(nt.out).error.step], ["EINVAL", "parse_fw"]);
  const nf = await cli(["missing-fw", "--platform", "am64x", "--search-path", "/nonexistent"]);
  assert.equal(nf.code, 1);
  assert.match(nf.out, /request_firmware: ENOENT.*\/nonexistent\/missing-fw/);
});

test("rproc boot: usage errors exit 2", async () => {
  assert.equal((await cli([])).code, 2);
  assert.equal((await cli([fixture("stm32mp15-m4.elf")])).code, 2);
  assert.equal((await cli([fixture("stm32mp15-m4.elf"), "--platform", "no-such-platform"])).code, 2);
  assert.equal((await cli([fixture("stm32mp15-m4.elf"), "--platform", "stm32mp157", "--processor", "zz"])).code, 2);
  assert.equal((await cli(["--bogus"])).code, 2);
  // with --json the refusal is machine-readable too
  const j = await cli([fixture("stm32mp15-m4.elf"), "--platform", "stm32mp157", "--processor", "zz", "--json"]);
  assert.equal(j.code, 2);
  assert.deepEqual([JSON.parse(j.out).error.code, JSON.parse(j.out).error.step], ["ENODEV", null]);
});

test("rproc boot --json on am64x: the issue's fields, every pa/da resolved (R5F fixture without devmem)", async () => {
  const r = await cli([fixture("am64x-r5f-nodevmem.elf"), "--platform", "am64x", "--json"]);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  for (const k of ["platform", "processor", "firmware", "state", "bootAddress", "segments", "carveouts", "traces", "vdevs", "events", "error"]) assert.ok(k in j, k);
  assert.deepEqual([j.platform, j.processor, j.state, j.error], ["am64x", "r5f0_0", "running", null]);
  assert.deepEqual(Object.keys(j.segments[0]), ["index", "da", "pa", "filesz", "memsz", "region"]);
  assert.deepEqual(j.segments.map((s: { da: number; pa: number; region: string }) => [s.da, s.pa, s.region]), [
    [0, 0x78000000, "r5fss0-core0-atcm"],
    [0xa0100000, 0xa0100000, "ddr"],
  ]);
  assert.deepEqual(Object.keys(j.carveouts[0]), ["name", "da", "pa", "len", "allocated"]);
  assert.deepEqual(Object.keys(j.traces[0]).slice(0, 3), ["name", "da", "len"]);
  for (const c of j.carveouts) assert.ok(c.da !== ANY && c.pa !== null && c.pa !== ANY, c.name);
  for (const v of j.vdevs)
    for (const q of v.vrings) {
      assert.deepEqual(Object.keys(q), ["da", "pa", "num", "align", "notifyid", "layout"]);
      // vring_size(num, align): desc 16*num, avail 6+2*num, used aligned up (the web view draws these offsets).
      assert.deepEqual(q.layout, { desc: 0, avail: 16 * q.num, used: Math.ceil((18 * q.num + 6) / q.align) * q.align, size: Math.ceil((18 * q.num + 6) / q.align) * q.align + 6 + 8 * q.num });
      assert.ok(q.da !== ANY && q.pa !== null, JSON.stringify(q));
    }
});

test("rproc boot --json: a vdev no virtio driver binds still reports its allocated vring addresses, not ADDR_ANY", async () => {
  const img = am64xTestImage([{ type: "vdev", id: 3, vrings: [{ da: ANY, align: 4096, num: 64 }, { da: ANY, align: 4096, num: 64 }] }]);
  const r = await cli([tempFirmware(img), "--platform", "am64x", "--json"]);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  const console = j.vdevs.find((v: { id: number }) => v.id === 3);
  for (const q of console.vrings) {
    assert.notEqual(q.da, ANY);
    assert.equal(q.da, q.pa);
  }
  // and says why the firmware's table still holds ADDR_ANY
  assert.ok(j.diagnostics.some((d: { code: string }) => d.code === "vring-da-unpublished"));
});
