// The dump builder against spec §6 at the rproc level: 0xff where a segment
// cannot be read (no mapping; memory the host may not read), custom segments
// with the driver's own dump callback (both modes, both variants), the
// bounded newest-first dump store and writing a dump to a file, and the
// interruptible lock of rproc_trigger_recovery.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RprocCrashType, RprocDumpMechanism, RprocState } from "../../src/core/state.js";
import { rprocCrashFlush } from "../../src/core/crash.js";
import { rprocCoredumpAddCustomSegment, rprocCoredumpAddSegment, rprocCoredumpUsingSections } from "../../src/core/coredump.js";
import { dumpBytes, setCoredumpSettings, writeDumpFile } from "../../src/core/coredump-store.js";
import { readCoreFile } from "../../src/formats/core-file-reader.js";
import type { DumpSegment, Rproc } from "../../src/core/rproc.js";
import type { RprocError } from "../../src/errors.js";
import { makeBoard, SRAM_DA } from "./helpers.js";

const T = { timeout: 10_000 };

/** Crashes the board and returns the dump's bytes; an inline dump is read in chunks of `chunk` bytes, as userspace would. */
async function crashAndRead(rproc: Rproc, chunk = 0x1000): Promise<Uint8Array> {
  const before = rproc.lastDump;
  rproc.reportCrash(RprocCrashType.WATCHDOG);
  const flushed = rprocCrashFlush(rproc);
  if (rproc.dumpConf === RprocDumpMechanism.INLINE) {
    while (rproc.lastDump === before) await new Promise((r) => setImmediate(r));
    const bytes = rproc.lastDump!.reader!.readAll(chunk);
    await flushed;
    return bytes;
  }
  await flushed;
  assert.notEqual(rproc.lastDump, before, "a dump was taken");
  return dumpBytes(rproc.lastDump!);
}

function segmentBytes(file: Uint8Array, i: number): Uint8Array {
  const core = readCoreFile(file);
  const s = core.segments[i]!;
  return file.subarray(s.offset, s.offset + s.size);
}

const UNMAPPED_DA = 0x90000000;

for (const mode of [RprocDumpMechanism.ENABLED, RprocDumpMechanism.INLINE]) {
  const name = mode === RprocDumpMechanism.ENABLED ? "enabled" : "inline";

  test(`${name}: a segment with no mapping is 0xff in the dump, and the copy failure is said`, T, async () => {
    const b = makeBoard({
      ops: {
        prepare: (rproc) => {
          rprocCoredumpAddSegment(rproc, SRAM_DA, 0x100);
          rprocCoredumpAddSegment(rproc, UNMAPPED_DA, 0x40);
        },
      },
    });
    b.rproc.dumpConf = mode;
    await b.rproc.boot();
    const file = await crashAndRead(b.rproc, 0x30);
    assert.deepEqual([...segmentBytes(file, 0).subarray(0, 4)], [1, 2, 3, 4], "the readable segment is device memory");
    assert.deepEqual([...segmentBytes(file, 1)], new Array(0x40).fill(0xff));
    const said = b.events.filter((e) => e.step === "rproc_copy_segment" && e.args?.code === "coredump-invalid-copy");
    assert.ok(said.length > 0, "rproc_copy_segment reports the invalid copy");
    assert.ok(said.every((e) => (e.args!.da as number) >= UNMAPPED_DA));
    assert.equal(b.rproc.state, RprocState.RUNNING);
  });

  test(`${name}: memory the host may not read (locked by the TEE) is 0xff, the rest is dumped`, T, async () => {
    const b = makeBoard({
      ops: {
        prepare: (rproc) => {
          rprocCoredumpAddSegment(rproc, SRAM_DA, 0x100);
          rprocCoredumpAddSegment(rproc, SRAM_DA + 0x800, 0x100);
        },
      },
    });
    b.rproc.dumpConf = mode;
    await b.rproc.boot();
    const pa = b.rproc.platform.daToPa(b.rproc.processor, SRAM_DA + 0x800, 0x100)!;
    b.rproc.platform.lockForHost(pa, 0x100, "test-firewall");
    // locked for the whole crash sequence: the recovery's reload writes elsewhere (the image's 4 bytes at SRAM_DA)
    const file = await crashAndRead(b.rproc, 0x60);
    b.rproc.platform.unlockForHost("test-firewall");
    assert.deepEqual([...segmentBytes(file, 0).subarray(0, 4)], [1, 2, 3, 4]);
    assert.deepEqual([...segmentBytes(file, 1)], new Array(0x100).fill(0xff));
    assert.ok(b.events.some((e) => e.step === "rproc_coredump" && /EACCES/.test(String(e.args?.message))), "the reason (EACCES) is said");
  });

  test(`${name}: custom segments: the driver's dump callback fills them, at the offsets asked`, T, async () => {
    const asked: [number, number][] = [];
    const pattern = (seg: DumpSegment, offset: number, size: number): Uint8Array => {
      asked.push([offset, size]);
      return Uint8Array.from({ length: size }, (_, k) => (seg.da + offset + k) & 0xff);
    };
    const b = makeBoard({
      ops: {
        prepare: (rproc) => {
          rprocCoredumpAddSegment(rproc, SRAM_DA, 0x10);
          rprocCoredumpAddCustomSegment(rproc, 0x20000000, 0x90, (_r, seg, off, size) => pattern(seg, off, size), "regs");
        },
      },
    });
    b.rproc.dumpConf = mode;
    await b.rproc.boot();
    const file = await crashAndRead(b.rproc, 0x40);
    const core = readCoreFile(file);
    assert.deepEqual(core.segments.map((s) => [s.da, s.size]), [[SRAM_DA, 0x10], [0x20000000, 0x90]]);
    assert.deepEqual([...segmentBytes(file, 1)], Array.from({ length: 0x90 }, (_, k) => k & 0xff));
    // enabled copies the whole segment at once; inline asks for what each read needs, never beyond the segment
    if (mode === RprocDumpMechanism.ENABLED) assert.deepEqual(asked, [[0, 0x90]]);
    else {
      assert.ok(asked.length > 1, JSON.stringify(asked));
      assert.equal(asked.reduce((n, [, s]) => n + s, 0), 0x90);
      assert.ok(asked.every(([o, s]) => o + s <= 0x90));
    }
    await b.rproc.shutdown();
    assert.equal(b.rproc.dumpSegments.length, 0, "rproc_coredump_cleanup at shutdown");
  });

  test(`${name}: section variant with custom segments named by their priv (rproc_coredump_using_sections)`, T, async () => {
    const b = makeBoard({
      ops: {
        coredump: rprocCoredumpUsingSections,
        prepare: (rproc) => {
          rprocCoredumpAddCustomSegment(rproc, SRAM_DA, 0x20, undefined, "mcuram2");
          rprocCoredumpAddCustomSegment(rproc, 0x30000000, 0x8, (_r, _s, off, size) => new Uint8Array(size).fill(0xa5 + off), "ipc");
        },
      },
    });
    b.rproc.dumpConf = mode;
    await b.rproc.boot();
    const file = await crashAndRead(b.rproc);
    const core = readCoreFile(file);
    assert.equal(core.variant, "sections");
    assert.deepEqual(core.segments.map((s) => [s.name, s.da, s.size]), [["mcuram2", SRAM_DA, 0x20], ["ipc", 0x30000000, 0x8]]);
    assert.deepEqual([...segmentBytes(file, 0).subarray(0, 4)], [1, 2, 3, 4]);
    assert.deepEqual([...segmentBytes(file, 1)], new Array(8).fill(0xa5));
  });
}

test("a driver dump callback that throws: no dump, recovery goes on (ops->coredump is void), errno EIO", T, async () => {
  const b = makeBoard({
    ops: {
      prepare: (rproc) => rprocCoredumpAddCustomSegment(rproc, SRAM_DA, 0x10, () => {
        throw new TypeError("driver bug");
      }),
    },
  });
  b.rproc.dumpConf = RprocDumpMechanism.ENABLED;
  await b.rproc.boot();
  b.rproc.reportCrash(RprocCrashType.WATCHDOG);
  await rprocCrashFlush(b.rproc);
  assert.equal(b.rproc.state, RprocState.RUNNING);
  assert.equal(b.rproc.dumps.length, 0);
  const fail = b.events.find((e) => e.step === "rproc_coredump" && e.phase === "fail");
  assert.equal(fail?.errno, "EIO", JSON.stringify(fail));
  assert.match(String(fail?.message), /driver bug/);
});

test("dumps are kept newest first, at most maxDumps; a dump is written to a file byte for byte", T, async () => {
  const b = makeBoard();
  b.rproc.dumpConf = RprocDumpMechanism.ENABLED;
  setCoredumpSettings(b.rproc, { maxDumps: 2 });
  assert.throws(() => setCoredumpSettings(b.rproc, { maxDumps: 0 }), (e: RprocError) => e.code === "EINVAL");
  await b.rproc.boot();
  for (let i = 0; i < 3; i++) {
    b.rproc.reportCrash(RprocCrashType.WATCHDOG);
    await rprocCrashFlush(b.rproc);
  }
  assert.equal(b.rproc.crashCnt, 3);
  assert.deepEqual(b.rproc.dumps.map((d) => [d.id, d.crashCnt]), [[3, 3], [2, 2]]);
  assert.equal(b.rproc.lastDump, b.rproc.dumps[0]);
  const file = join(mkdtempSync(join(tmpdir(), "rproc-dump-")), "core.elf");
  const n = writeDumpFile(b.rproc.lastDump!, file);
  assert.equal(n, b.rproc.lastDump!.size);
  assert.ok(readFileSync(file).equals(Buffer.from(dumpBytes(b.rproc.lastDump!))));
  assert.throws(() => writeDumpFile(b.rproc.lastDump!, join(file, "not-a-dir", "core.elf")), (e: RprocError) => e.code === "EIO");
});

test("rproc_trigger_recovery takes the lock interruptibly: an aborted `recover` fails with EINTR and changes nothing", T, async () => {
  const b = makeBoard();
  await b.rproc.boot();
  b.rproc.recoveryDisabled = true;
  b.rproc.reportCrash(RprocCrashType.MMUFAULT);
  await rprocCrashFlush(b.rproc);
  assert.equal(b.rproc.state, RprocState.CRASHED);
  const unlock = await b.rproc.lock.lock(); // another operation holds rproc->lock
  const ac = new AbortController();
  const pending = b.rproc.triggerRecovery({ signal: ac.signal });
  ac.abort();
  await assert.rejects(pending, (e: RprocError) => e.code === "EINTR");
  unlock();
  assert.equal(b.rproc.state, RprocState.CRASHED);
  assert.equal(b.rproc.lock.locked, false);
  await b.rproc.triggerRecovery();
  assert.equal(b.rproc.state, RprocState.RUNNING);
});
