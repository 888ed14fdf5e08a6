import { test } from "node:test";
import * as assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Platform } from "../../platform/platform.js";
import { createRproc, loadDriver } from "../../drivers/registry.js";
import { RprocState } from "../../core/state.js";
import { findSymbol, parseElf } from "../../formats/elf.js";
import { loadSigningKey } from "../../tee/crypto.js";
import { signFirmware } from "../../tee/sign.js";

// The composition root imports this driver on first use (src/drivers/registry.ts).
await loadDriver("tee");

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const M4_ELF = resolve(REPO, "fixtures/firmware/stm32mp15-m4.elf");
/** OP-TEE's demo firmware, from the vectors copied into fixtures/. */
const DEMO_ELF = resolve(REPO, "fixtures/vectors/optee/fw_demo_m4.elf");

function signed(dir: string, name: string, elf: string): void {
  const key = loadSigningKey(readFileSync(resolve(REPO, "platforms/keys/rproc-test-rsa2048.pem")));
  writeFileSync(join(dir, name), signFirmware([{ name: "m4", bytes: readFileSync(elf) }], { key }));
}

/** What the M4 itself reads at device address `da` (its translations, no host checks). */
function deviceRead(platform: Platform, da: number, len: number): Uint8Array {
  const pa = platform.daToPa(platform.processor(), da, len);
  assert.ok(pa !== undefined, `da 0x${da.toString(16)} is in the M4's translations`);
  return platform.secureRead(pa, len);
}

const u32 = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);

test("firewalled TEE boot: the default behaviour writes its banner through the core's own view; the host stays locked out", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-sim-fw-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  signed(dir, "demo.sig", DEMO_ELF);
  const platform = Platform.load("stm32mp157-firewall");
  // Default behaviour: no driverOptions.behaviour.
  const rproc = createRproc(platform, undefined, { driver: "tee", firmware: "demo.sig", searchPath: [dir] });
  await rproc.boot();
  assert.equal(rproc.state, RprocState.RUNNING);

  const trace = rproc.traces[0]!;
  assert.ok(trace, "the demo image declares a trace buffer");
  const bytes = deviceRead(platform, trace.da, trace.len);
  const text = Buffer.from(bytes.subarray(0, bytes.indexOf(0))).toString("latin1");
  assert.match(text, /^\[rproc-sim\] demo\.sig started at 0x[0-9a-f]+ on m4 \(simulated: no instructions executed\)\n$/);

  // The firewall is intact: the host gets EACCES on the firmware memory, the trace buffer included.
  const tracePa = platform.daToPa(platform.processor(), trace.da, trace.len)!;
  assert.throws(() => platform.hostRead(tracePa, 4), { code: "EACCES" });
  assert.throws(() => platform.hostRead(0x38000000, 4), { code: "EACCES" });
  assert.throws(() => platform.hostWrite(tracePa, Uint8Array.of(1)), { code: "EACCES" });

  await rproc.shutdown();
  assert.equal(rproc.state, RprocState.OFFLINE);
  assert.equal(platform.hostRead(tracePa, 4).length, 4, "RELEASE_FW unlocks the memory");
});

test("firewalled TEE boot: fw_counter is bumped in device memory though the host cannot read it", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-sim-fw-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  signed(dir, "m4.sig", M4_ELF);
  const platform = Platform.load("stm32mp157-firewall");
  const rproc = createRproc(platform, undefined, { driver: "tee", firmware: "m4.sig", searchPath: [dir] });
  const sym = findSymbol(parseElf(new Uint8Array(readFileSync(M4_ELF))), "fw_counter")!;
  await rproc.boot();
  assert.equal(u32(deviceRead(platform, Number(sym.value), 4)), 1);
  assert.throws(() => platform.hostRead(platform.daToPa(platform.processor(), Number(sym.value), 4)!, 4), { code: "EACCES" });
  await rproc.shutdown();
});

test("sim boot: fw_counter is non-zero in device memory at the symbol's address, and a re-boot starts it afresh", async () => {
  const elf = parseElf(new Uint8Array(readFileSync(M4_ELF)));
  const sym = findSymbol(elf, "fw_counter");
  assert.ok(sym && typeof sym.value === "number", "the fixture has fw_counter");
  const platform = Platform.load("stm32mp157");
  const rproc = createRproc(platform, undefined, { firmware: M4_ELF });
  await rproc.boot();
  assert.equal(u32(deviceRead(platform, sym.value, 4)), 1);
  // The host's view (rproc_da_to_va) sees the same memory on an unfirewalled platform.
  assert.equal(rproc.daToVa(sym.value, 4)!.u32(0), 1);
  await rproc.shutdown();
  // fw_counter lives in .bss: the load zero-fills it again (the page exists now, so it must be cleared).
  await rproc.boot();
  assert.equal(u32(deviceRead(platform, sym.value, 4)), 1);
  await rproc.shutdown();
});

test("the behaviour's view is the core's: a trace buffer the core cannot reach is not written", async () => {
  const platform = Platform.load("stm32mp157");
  let wrote: boolean | undefined;
  let outside: number | undefined = 0;
  const rproc = createRproc(platform, undefined, {
    firmware: M4_ELF,
    driverOptions: {
      behaviour: {
        name: "probe",
        onStart(ctx: { writeTrace(s: string, i?: number): boolean; readU32(da: number): number | undefined }) {
          wrote = ctx.writeTrace("x", 5); // no trace5
          outside = ctx.readU32(0xde000000); // OP-TEE's memory: neither translated for the M4 nor reachable
        },
      },
    },
  });
  await rproc.boot();
  assert.equal(wrote, false);
  assert.equal(outside, undefined);
  await rproc.shutdown();
});
