// Crash/recover soak: thousands of reportCrash → boot recovery cycles (with
// an `enabled` coredump each time) in one process, on two drivers:
//   board — the crash tests' minimal driver (test/crash/helpers.ts);
//   sim   — the sim driver with the STM32MP15 M4 fixture (resource table,
//           vdev subdevices, carveouts, trace), crashed through its model.
// Checks that nothing grows with the number of cycles: the JS heap, the
// allocator and carveout bookkeeping, notify ids, diagnostics, the dump store
// (bounded), event listeners, the lock and the crash work's wakeup hold.
//
//   node --expose-gc --import tsx bench/crash-soak.ts [cycles=10000] [--driver board|sim|both] [--leak BYTES]
//
// Heap check: after a warm-up, the heap is measured (after gc) at cycles/2
// and at cycles. Two figures are printed per driver:
//   objectHeap — self size of every JS-level object in a heap snapshot
//                (objects, arrays and their backing stores, strings,
//                closures, numbers), leaving out V8's own compiled code,
//                maps and hidden lists, whose size drifts with JIT activity
//                and not with cycles. Must grow < 1 byte/cycle.
//   heapUsed   — process.memoryUsage().heapUsed, JIT included. Informative
//                only: between identical runs it drifted by -38..+22
//                bytes/cycle with V8's code and feedback, so it carries no
//                verdict (a bound on it failed about one run in eight).
// `--leak BYTES` retains BYTES per cycle on purpose (self-test: the soak must
// then fail); a 32-bytes/cycle leak shows as ~160 KiB between the two points.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as v8 from "node:v8";
import { rprocCrashFlush, rprocCrashStatus } from "../src/core/crash.js";
import { dmaInUse } from "../src/core/dma.js";
import { RprocCrashType, RprocDumpMechanism, RprocState } from "../src/core/state.js";
import { Rproc } from "../src/core/rproc.js";
import { Platform } from "../src/platform/platform.js";
import { createSimDriver } from "../src/drivers/sim/driver.js";
import { makeBoard } from "../test/crash/helpers.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { driver: { type: "string", default: "both" }, leak: { type: "string", default: "0" } },
});
const cycles = Number(positionals[0] ?? 10000);
const leakBytes = Number(values.leak);
if (!Number.isInteger(cycles) || cycles < 100 || !["board", "sim", "both"].includes(values.driver!) || !Number.isInteger(leakBytes) || leakBytes < 0) {
  console.error("usage: crash-soak.ts [cycles>=100] [--driver board|sim|both] [--leak BYTES]");
  process.exit(2);
}
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error("crash-soak: run node with --expose-gc");
  process.exit(2);
}

/** Node types of a heap snapshot that are V8's machinery, not data the program keeps. */
const VM_TYPES = new Set(["code", "hidden", "object shape"]);
const snapDir = mkdtempSync(join(tmpdir(), "rproc-soak-"));

interface HeapPoint {
  heapUsed: number;
  objectHeap: number;
}

function measure(): HeapPoint {
  gc!();
  gc!();
  const heapUsed = process.memoryUsage().heapUsed;
  const file = v8.writeHeapSnapshot(join(snapDir, "soak.heapsnapshot"));
  const snap = JSON.parse(readFileSync(file, "utf8")) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
  };
  rmSync(file);
  const { node_fields: fields, node_types: nodeTypes } = snap.snapshot.meta;
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const sizeAt = fields.indexOf("self_size");
  const typeNames = nodeTypes[0];
  let objectHeap = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    if (!VM_TYPES.has(typeNames[snap.nodes[i + typeAt]!]!)) objectHeap += snap.nodes[i + sizeAt]!;
  }
  return { heapUsed, objectHeap };
}

interface Subject {
  rproc: Rproc;
  crash(i: number): void;
  /** Records a test driver keeps on purpose that are not the subject of the soak, emptied before measuring. */
  trim(): { name: string; entries: number } | undefined;
}

function boardSubject(): Subject {
  const b = makeBoard();
  b.stop(); // the board's event recorder is for tests; the soak keeps only balances
  b.events.length = 0;
  return { rproc: b.rproc, crash: (i) => b.rproc.reportCrash(i % 3), trim: () => undefined };
}

function simSubject(): Subject {
  const platform = Platform.load("stm32mp157");
  const proc = platform.processor("m4");
  const driver = createSimDriver();
  const rproc = new Rproc({
    name: proc.name,
    platform,
    processor: { ...proc, driver: "sim", initiallyRunning: false },
    ops: driver,
    firmware: "stm32mp15-m4.elf",
    searchPath: [new URL("../fixtures/firmware/", import.meta.url).pathname],
  });
  return {
    rproc,
    crash: (i) => driver.sim.crash(i % 3),
    // Nothing to trim: the sim driver's kick log is bounded (SIM_KICK_LOG_LIMIT), so its
    // memory counts in the measurement like everything else.
    trim: () => undefined,
  };
}

async function soak(name: string, s: Subject): Promise<{ ok: boolean; result: Record<string, unknown> }> {
  const { rproc } = s;
  rproc.dumpConf = RprocDumpMechanism.ENABLED;
  // Per kind:id acquisitions minus releases (test/harness/fault.ts resourceBalance, kept
  // as a running map so the soak holds as many keys as resources, not every event).
  const live = new Map<string, number>();
  const unsubscribe = rproc.events.on((e) => {
    if (e.phase !== "info" || (e.step !== "acquire" && e.step !== "release")) return;
    const k = `${String(e.args?.kind)}:${String(e.args?.id)}`;
    const n = (live.get(k) ?? 0) + (e.step === "acquire" ? 1 : -1);
    if (n === 0) live.delete(k);
    else live.set(k, n);
  });
  await rproc.boot();
  const listeners0 = rproc.events.listenerCount();
  const leak: number[] = [];
  let i = 0;
  const run = async (n: number): Promise<void> => {
    for (let k = 0; k < n; k++, i++) {
      s.crash(i);
      await rprocCrashFlush(rproc);
      if (rproc.state !== RprocState.RUNNING) throw new Error(`${name} cycle ${i}: state ${rproc.state}`);
      // Like the leak this soak once missed: small integers pushed onto an array kept forever (8 bytes each).
      for (let b = 0; b < leakBytes; b += 8) leak.push(i);
    }
  };
  const shape = () => ({
    dumps: rproc.dumps.length,
    dumpSegments: rproc.dumpSegments.length,
    carveouts: rproc.carveouts.length,
    mappings: rproc.mappings.length,
    notifyIds: rproc.notifyIds.size,
    diagnostics: rproc.diagnostics.length,
    openResources: live.size,
    dmaInUse: dmaInUse(rproc.platform),
  });
  const warm = Math.min(2000, cycles);
  await run(warm);
  const shape0 = shape();
  const trimmed0 = s.trim();
  const p0 = measure();
  const t0 = performance.now();
  await run(Math.floor(cycles / 2));
  const trimmedMid = s.trim();
  const pMid = measure();
  const half = cycles - Math.floor(cycles / 2);
  await run(half);
  const ms = performance.now() - t0;
  const trimmedEnd = s.trim();
  const pEnd = measure();
  const shape1 = shape();
  const status = rprocCrashStatus(rproc);
  const perCycle = (a: number, b: number) => +((b - a) / half).toFixed(3);
  const result = {
    driver: name,
    cycles,
    warmUp: warm,
    crashCnt: rproc.crashCnt,
    msPerCycle: +(ms / cycles).toFixed(3),
    objectHeapKiB: { afterWarmUp: kib(p0.objectHeap), mid: kib(pMid.objectHeap), end: kib(pEnd.objectHeap) },
    objectHeapBytesPerCycle: perCycle(pMid.objectHeap, pEnd.objectHeap),
    heapUsedKiB: { afterWarmUp: kib(p0.heapUsed), mid: kib(pMid.heapUsed), end: kib(pEnd.heapUsed) },
    heapUsedBytesPerCycle: perCycle(pMid.heapUsed, pEnd.heapUsed),
    bookkeeping: { afterWarmUp: shape0, end: shape1 },
    listeners: { before: listeners0, after: rproc.events.listenerCount() },
    lock: { locked: rproc.lock.locked, waiting: rproc.lock.waiting },
    wakeupActive: status.wakeupActive,
    power: rproc.power,
    ...(trimmedEnd ? { trimmedTestRecords: { name: trimmedEnd.name, perHalf: [trimmed0?.entries, trimmedMid?.entries, trimmedEnd.entries] } } : {}),
    ...(leakBytes ? { injectedLeakBytesPerCycle: leakBytes } : {}),
  };
  await rproc.shutdown();
  unsubscribe();
  const afterShutdown = { openResources: [...live.entries()].map(([k, n]) => `${k} ${n}`), dmaInUse: dmaInUse(rproc.platform), carveouts: rproc.carveouts.length, dumpSegments: rproc.dumpSegments.length };
  leak.length = 0;
  const ok =
    result.crashCnt === cycles + warm &&
    result.objectHeapBytesPerCycle < 1 &&
    JSON.stringify(shape0) === JSON.stringify(shape1) &&
    shape1.dumps <= 4 &&
    result.listeners.before === result.listeners.after &&
    !result.lock.locked &&
    result.lock.waiting === 0 &&
    !result.wakeupActive &&
    result.power === 1 &&
    afterShutdown.openResources.length === 0 &&
    afterShutdown.dmaInUse === 0 &&
    afterShutdown.carveouts === 0 &&
    afterShutdown.dumpSegments === 0;
  return { ok, result: { ...result, afterShutdown, ok } };
}

function kib(n: number): number {
  return Math.round(n / 102.4) / 10;
}

let ok = true;
const results: Record<string, unknown>[] = [];
try {
  for (const d of values.driver === "both" ? ["board", "sim"] : [values.driver!]) {
    const r = await soak(d, d === "board" ? boardSubject() : simSubject());
    results.push(r.result);
    ok &&= r.ok;
  }
} finally {
  rmSync(snapDir, { recursive: true, force: true });
}
console.log(JSON.stringify(results, null, 2));
console.log(ok ? "crash-soak: OK" : "crash-soak: FAILED");
process.exit(ok ? 0 : 1);
