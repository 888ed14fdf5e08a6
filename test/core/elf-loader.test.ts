/**
 * The ELF loader refuses a firmware at the step a board refuses it: the
 * kernel checks a segment's file range only in rproc_elf_load_segments
 * (spec §3.3), for the PT_LOAD segments it loads — after the resources were
 * allocated — and never for segments it skips.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Platform } from "../../src/platform/platform.js";
import { RprocState } from "../../src/core/state.js";
import { RprocError } from "../../src/errors.js";
import { makeRproc, tempFirmware, unwind } from "../harness/setup.js";
import { leftovers } from "../harness/fault.js";
import { buildElf32, buildRscTable } from "../harness/elf-build.js";

const PT_NOTE = 4;
const PH1 = 52 + 32; // second program header (ELF32)

function image(patch: (dv: DataView, size: number) => void): Uint8Array {
  const table = buildRscTable([{ type: "trace", da: 0xa0110000, len: 0x100, name: "log" }]);
  const bytes = buildElf32({
    entry: 0,
    segments: [{ paddr: 0xa0100000, data: table }, { paddr: 0xa0200000, data: new Uint8Array(16).fill(0xaa) }],
    sections: [{ name: ".resource_table", addr: 0xa0100000, data: table }],
  });
  patch(new DataView(bytes.buffer), bytes.byteLength);
  return bytes;
}

async function bootFails(bytes: Uint8Array): Promise<{ err: RprocError; events: ReturnType<typeof makeRproc>["events"]; rproc: ReturnType<typeof makeRproc>["rproc"] }> {
  const { rproc, events } = makeRproc(Platform.load("am64x"), tempFirmware(bytes));
  try {
    await rproc.boot();
  } catch (e) {
    assert.ok(e instanceof RprocError, String(e));
    return { err: e, events, rproc };
  }
  assert.fail("expected the boot to fail");
}

const LOAD_UNWIND = ["resource_cleanup", "free_cached_table", "unprepare", "disable_iommu"];

test("p_filesz > p_memsz: EINVAL at load ('bad phdr filesz'), after the resources, unwound in kernel order", async () => {
  const { err, events, rproc } = await bootFails(image((dv) => dv.setUint32(PH1 + 20, 8, true)));
  assert.equal(err.code, "EINVAL");
  assert.equal(err.step, "load");
  assert.match(err.message, /bad phdr filesz 0x10 memsz 0x8/);
  assert.equal(err.field, "programHeaders[1].p_filesz");
  assert.deepEqual(unwind(events), LOAD_UNWIND);
  assert.equal(rproc.state, RprocState.OFFLINE);
  assert.deepEqual(leftovers(rproc, events), []);
});

test("segment beyond the end of the file: EINVAL at load ('truncated fw')", async () => {
  const { err, events, rproc } = await bootFails(image((dv, size) => dv.setUint32(PH1 + 4, size - 4, true)));
  assert.equal(err.code, "EINVAL");
  assert.equal(err.step, "load");
  assert.match(err.message, /truncated fw: need 0x[0-9a-f]+ avail 0x[0-9a-f]+ \(segment 1\)/);
  assert.deepEqual(unwind(events), LOAD_UNWIND);
  assert.deepEqual(leftovers(rproc, events), []);
});

test("segments the kernel skips (PT_NOTE, p_memsz 0) may point anywhere: the firmware boots", async () => {
  for (const patch of [
    (dv: DataView, size: number) => {
      dv.setUint32(PH1, PT_NOTE, true);
      dv.setUint32(PH1 + 4, size + 0x100, true);
    },
    (dv: DataView, size: number) => {
      dv.setUint32(PH1 + 4, size + 0x100, true);
      dv.setUint32(PH1 + 16, 0, true);
      dv.setUint32(PH1 + 20, 0, true);
    },
  ]) {
    const { rproc, events } = makeRproc(Platform.load("am64x"), tempFirmware(image(patch)));
    await rproc.boot();
    assert.equal(rproc.state, RprocState.RUNNING);
    // the skipped segment was not loaded: its memory is still untouched
    assert.equal(rproc.daToVa(0xa0200000, 4)?.u32(0), 0);
    await rproc.shutdown();
    assert.deepEqual(leftovers(rproc, events), []);
  }
});

test("other malformations stay refused at sanity_check (hardening the kernel lacks)", async () => {
  // program header table beyond the file: the kernel would read out of bounds
  const { err } = await bootFails(image((dv, size) => dv.setUint32(28, size - 8, true)));
  assert.equal(err.code, "EINVAL");
  assert.equal(err.step, "sanity_check");
});
