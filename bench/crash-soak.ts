// Crash/recover soak: N cycles of reportCrash → boot recovery (with an
// `enabled` coredump each time) in one process. Checks that nothing grows:
// heap after gc, allocator/carveout bookkeeping, dump store (bounded), event
// listeners, the crash work's wakeup hold.
//
//   node --expose-gc --import tsx bench/crash-soak.ts [cycles=10000]
import { rprocCrashFlush, rprocCrashStatus } from "../src/core/crash.js";
import { RprocCrashType, RprocDumpMechanism, RprocState } from "../src/core/state.js";
import { makeBoard } from "../test/crash/helpers.js";

const cycles = Number(process.argv[2] ?? 10000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error("crash-soak: run node with --expose-gc");
  process.exit(2);
}

const b = makeBoard();
b.rproc.dumpConf = RprocDumpMechanism.ENABLED;
await b.rproc.boot();
// Keep only the balance, not every event, so the recorder itself does not grow.
b.stop();
const counts: Record<string, number> = {};
const unsubscribe = b.rproc.events.on((e) => {
  if (e.step !== "acquire" && e.step !== "release") return;
  const k = String(e.args?.kind);
  counts[k] = (counts[k] ?? 0) + (e.step === "acquire" ? 1 : -1);
});
const listeners0 = b.rproc.events.listenerCount();

function heap(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

const warm = Math.min(500, cycles);
for (let i = 0; i < warm; i++) {
  b.rproc.reportCrash(RprocCrashType.WATCHDOG);
  await rprocCrashFlush(b.rproc);
}
const heap0 = heap();
const t0 = performance.now();
for (let i = 0; i < cycles; i++) {
  b.rproc.reportCrash(i % 3);
  await rprocCrashFlush(b.rproc);
  if (b.rproc.state !== RprocState.RUNNING) throw new Error(`cycle ${i}: state ${b.rproc.state}`);
}
const ms = performance.now() - t0;
const heap1 = heap();
const status = rprocCrashStatus(b.rproc);
const result = {
  cycles,
  crashCnt: b.rproc.crashCnt,
  msPerCycle: +(ms / cycles).toFixed(3),
  heapBeforeKiB: Math.round(heap0 / 1024),
  heapAfterKiB: Math.round(heap1 / 1024),
  heapGrowthKiB: Math.round((heap1 - heap0) / 1024),
  dumpsKept: b.rproc.dumps.length,
  dumpSegments: b.rproc.dumpSegments.length,
  carveouts: b.rproc.carveouts.length,
  listeners: { before: listeners0, after: b.rproc.events.listenerCount() },
  wakeupActive: status.wakeupActive,
  power: b.rproc.power,
  pagesMaterialised: b.rproc.platform.memory.pageCount(),
};
unsubscribe();
await b.rproc.shutdown();
const final = Object.fromEntries(Object.entries(counts).filter(([, v]) => v !== 0));
console.log(JSON.stringify({ ...result, unreleasedAfterShutdown: final }, null, 2));
const ok =
  result.crashCnt === cycles + warm &&
  result.heapGrowthKiB < 1024 &&
  result.dumpsKept <= 4 &&
  result.listeners.before === result.listeners.after &&
  !result.wakeupActive &&
  result.power === 1 &&
  Object.values(final).every((v) => v === 0);
console.log(ok ? "crash-soak: OK" : "crash-soak: FAILED");
process.exit(ok ? 0 : 1);
