import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Platform } from "./platform.js";
import { MemView } from "./mem-view.js";
import { RprocError } from "../errors.js";

const isErr = (code: string) => (e: unknown) => e instanceof RprocError && e.code === code;

test("every bundled platform loads and names its sources", () => {
  const all = Platform.bundled();
  assert.deepEqual(all.map((b) => b.name).sort(), ["am64x", "imx8mp", "stm32mp157", "stm32mp157-firewall"]);
  for (const b of all) {
    const p = Platform.load(b.name);
    assert.equal(p.desc.name, b.name, "file name and platform name agree");
    assert.ok(p.desc.sources.length > 0);
    assert.ok(p.dir && b.path.startsWith(p.dir));
    assert.equal(p.memory.pageCount(), 0);
  }
});

test("stm32mp157-firewall differs from stm32mp157 only in name, description and firewall", () => {
  const a = JSON.parse(readFileSync(Platform.bundled().find((b) => b.name === "stm32mp157")!.path, "utf8"));
  const b = JSON.parse(readFileSync(Platform.bundled().find((b) => b.name === "stm32mp157-firewall")!.path, "utf8"));
  assert.equal(a.processors[0].firewall, false);
  assert.equal(b.processors[0].firewall, true);
  for (const x of [a, b]) {
    delete x.name;
    delete x.description;
    delete x.processors[0].firewall;
  }
  assert.deepEqual(a, b);
});

test("stm32mp157 carries the device-tree numbers", () => {
  const p = Platform.load("stm32mp157");
  const m4 = p.processor();
  assert.equal(m4.name, "m4");
  assert.equal(m4.firmware, "rproc-m4-fw");
  assert.equal(m4.elfMachine, 40);
  assert.equal(m4.registerCarveouts, true);
  assert.equal(m4.coredumpSegments, "memory-regions");
  assert.deepEqual(m4.tee, { rprocId: 0, publicKey: "keys/rproc-test-rsa2048.pub.pem" });
  assert.deepEqual(m4.memoryRegions, ["retram", "mcuram", "mcuram2", "vdev0vring0", "vdev0vring1", "vdev0buffer"]);
  assert.deepEqual(p.pool("vdev0vring1"), { name: "vdev0vring1", pa: 0x10041000, size: 0x1000, noMap: true });
  assert.equal(p.pool("nope"), undefined);
  assert.equal(m4.mailbox?.pa, 0x4c001000);
  assert.equal(p.regionAt(0xde000000, 4)?.owner, "tee");
});

test("processor(): default first, ENODEV when unknown", () => {
  const p = Platform.load("am64x");
  assert.equal(p.processor().name, "r5f0_0");
  assert.equal(p.processor("r5f1_1").firmware, "am64-main-r5f1_1-fw");
  assert.throws(() => p.processor("m4"), isErr("ENODEV"));
});

test("daToPa / paToDa: a range must fit one translation", () => {
  const p = Platform.load("stm32mp157");
  const m4 = p.processor();
  assert.equal(p.daToPa(m4, 0x0, 0x10000), 0x38000000); // RETRAM exactly filled
  assert.equal(p.daToPa(m4, 0x100, 4), 0x38000100);
  assert.equal(p.daToPa(m4, 0xfffc, 8), undefined); // runs off RETRAM
  assert.equal(p.daToPa(m4, 0x10000000, 0x60000), 0x10000000);
  assert.equal(p.daToPa(m4, 0x1005ffff, 2), undefined);
  assert.equal(p.daToPa(m4, 0x20000000, 4), undefined);
  assert.equal(p.daToPa(m4, -4, 4), undefined);
  assert.equal(p.paToDa(m4, 0x38000010, 4), 0x10);
  assert.equal(p.paToDa(m4, 0x30000000, 4), 0x30000000);
  assert.equal(p.paToDa(m4, 0xc0000000, 4), undefined);
});

test("aliased SRAM: both bus addresses reach the same memory", () => {
  const p = Platform.load("stm32mp157");
  const m4 = p.processor();
  const viaCode = p.daToPa(m4, 0x10000100, 4)!;
  const viaSys = p.daToPa(m4, 0x30000100, 4)!;
  assert.notEqual(viaCode, viaSys);
  p.hostWrite(viaCode, Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
  assert.deepEqual(p.hostRead(viaSys, 4), Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
  assert.equal(p.memory.pageCount(), 1);
});

test("TI R5F: local TCM views and SoC views translate to the same TCM", () => {
  const p = Platform.load("am64x");
  const core1 = p.processor("r5f0_1");
  assert.equal(p.daToPa(core1, 0x0, 4), 0x78200000);
  assert.equal(p.daToPa(core1, 0x41010000, 4), 0x78300000);
  assert.equal(p.daToPa(core1, 0x78200000, 0x8000), 0x78200000);
  assert.equal(p.daToPa(core1, 0x0, 0x8001), undefined); // 32 KiB in split mode
  assert.equal(p.paToDa(core1, 0x78200010, 4), 0x10); // first match: the local view
  assert.equal(p.daToPa(core1, 0xa1100000, 0xf00000), 0xa1100000);
  assert.equal(core1.dmaPool, "r5f-dma-memory@a1000000");
});

test("host access: EFAULT outside every region, EACCES on TEE memory", () => {
  const p = Platform.load("am64x");
  assert.throws(() => p.hostRead(0x1000, 4), isErr("EFAULT"));
  assert.throws(() => p.hostWrite(0x9e800000, Uint8Array.of(1)), isErr("EACCES"));
  assert.throws(() => p.hostRead(0x9e7ffffc, 8), isErr("EACCES")); // straddles into OP-TEE
  p.secureWrite(0x9e800000, Uint8Array.of(7));
  assert.deepEqual(p.secureRead(0x9e800000, 1), Uint8Array.of(7));
  assert.throws(() => p.secureRead(0x1000, 4), isErr("EFAULT"));
  // A range over two adjacent regions is fine for the host when both are host memory.
  p.hostWrite(0x78000000 + 0x10000 - 2, Uint8Array.of(1, 2)); // end of ATCM
  assert.throws(() => p.hostRead(0x7800fffe, 4), isErr("EFAULT")); // gap after ATCM
});

test("host lock: EACCES for the host, secure world unaffected, unlock by owner, alias-aware", () => {
  const p = Platform.load("stm32mp157-firewall");
  p.hostWrite(0x10000000, Uint8Array.of(1));
  p.lockForHost(0x30000000, 0x40000, "ta:0");
  assert.ok(p.isHostLocked(0x10000000, 1), "the alias of the locked SRAM is locked too");
  assert.ok(!p.isHostLocked(0x30040000, 4));
  assert.throws(() => p.hostRead(0x10000000, 1), isErr("EACCES"));
  assert.throws(() => p.hostWrite(0x3003fffc, new Uint8Array(8)), isErr("EACCES"));
  assert.throws(() => p.hostFill(0x30000000, 4, 0), isErr("EACCES"));
  p.hostWrite(0x30040000, Uint8Array.of(9)); // outside the lock
  p.secureWrite(0x30000000, Uint8Array.of(2));
  assert.deepEqual(p.secureRead(0x10000000, 1), Uint8Array.of(2));
  p.lockForHost(0x38000000, 0x10000, "ta:1");
  p.unlockForHost("ta:0");
  assert.ok(!p.isHostLocked(0x30000000, 0x40000));
  assert.ok(p.isHostLocked(0x38000000, 1));
  assert.deepEqual(p.hostRead(0x30000000, 1), Uint8Array.of(2));
  p.unlockForHost("ta:1");
  assert.ok(!p.isHostLocked(0x38000000, 1));
  assert.throws(() => p.lockForHost(0x1000, 4, "x"), isErr("EFAULT"));
});

test("MemView: bounds-checked window, world chosen at construction", () => {
  const p = Platform.load("stm32mp157-firewall");
  const v = new MemView(p, 0x10040000, 0x1000);
  v.setU32(0, 0x12345678);
  assert.equal(v.u32(0), 0x12345678);
  assert.deepEqual(v.read(0, 4), Uint8Array.of(0x78, 0x56, 0x34, 0x12));
  v.setU32(4, -1);
  assert.equal(v.u32(4), 0xffffffff);
  const s = v.sub(0x10, 0x20);
  s.fill(0, 0x20, 0xab);
  assert.equal(v.read(0x2f, 2)[0], 0xab);
  assert.equal(v.read(0x30, 1)[0], 0);
  assert.throws(() => v.read(0xffe, 4), isErr("EINVAL"));
  assert.throws(() => v.sub(0x800, 0x801), isErr("EINVAL"));
  assert.throws(() => v.write(-1, Uint8Array.of(1)), isErr("EINVAL"));
  assert.throws(() => new MemView(p, 0x20000000, 4), isErr("EFAULT"));
  p.lockForHost(0x10040000, 0x1000, "ta");
  assert.throws(() => v.u32(0), isErr("EACCES"));
  const secure = new MemView(p, 0x10040000, 0x1000, "secure");
  assert.equal(secure.u32(0), 0x12345678);
  assert.equal(secure.sub(0, 4).world, "secure");
});

test("load: unknown name is ENOENT listing the bundled ones; a file path loads and sets dir", () => {
  assert.throws(() => Platform.load("stm32mp999"), (e: unknown) => isErr("ENOENT")(e) && (e as Error).message.includes("stm32mp157"));
  assert.throws(() => Platform.load("/nonexistent/x.json"), isErr("ENOENT"));
  const dir = mkdtempSync(join(tmpdir(), "rproc-platform-"));
  const file = join(dir, "mine.json");
  const json = JSON.parse(readFileSync(Platform.bundled().find((b) => b.name === "imx8mp")!.path, "utf8"));
  json.name = "mine";
  json.processors[0].tee = { rprocId: 3, publicKey: "keys/pub.pem" };
  writeFileSync(file, JSON.stringify(json));
  const p = Platform.load(file);
  assert.equal(p.dir, dir);
  assert.equal(p.processor().tee?.publicKey, "keys/pub.pem");
  writeFileSync(file, "{ not json");
  assert.throws(() => Platform.load(file), (e: unknown) => isErr("EINVAL")(e) && (e as Error).message.includes(file));
  json.processors[0].translations[0].size = 0;
  writeFileSync(file, JSON.stringify(json));
  assert.throws(() => Platform.load(file), (e: unknown) => isErr("EINVAL")(e) && (e as RprocError).field === "processors[0].translations[0].size");
});
