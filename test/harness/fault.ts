/**
 * Fault-injection harness for any driver: make the k-th forward step (or
 * the n-th platform write / DMA allocation) fail, then check what the
 * kernel would leave — state, power refcount — and that every acquired
 * resource was released exactly once, with nothing left in the platform.
 * Acquisitions and releases are counted from the rproc's own events.
 */
import { RprocError } from "../../src/errors.js";
import type { RprocEvent } from "../../src/core/events.js";
import type { Rproc } from "../../src/core/rproc.js";
import { dmaAllocator, dmaInUse } from "../../src/core/dma.js";

export type Scenario = "boot" | "shutdown" | "attach" | "detach";

/** Per kind: acquisitions minus releases, and ids released more often than acquired. */
export function resourceBalance(events: RprocEvent[]): { open: Map<string, number>; doubleReleased: string[] } {
  const live = new Map<string, number>();
  const doubleReleased: string[] = [];
  for (const e of events) {
    if (e.phase !== "info" || (e.step !== "acquire" && e.step !== "release")) continue;
    const key = `${String(e.args?.kind)}:${String(e.args?.id)}`;
    const n = (live.get(key) ?? 0) + (e.step === "acquire" ? 1 : -1);
    if (n < 0) doubleReleased.push(key);
    live.set(key, n);
  }
  const open = new Map<string, number>();
  for (const [k, n] of live) if (n !== 0) open.set(k, n);
  return { open, doubleReleased };
}

/** Everything the core and the platform should hold for a processor that is not running. */
export function leftovers(rproc: Rproc, events: RprocEvent[]): string[] {
  const problems: string[] = [];
  const { open, doubleReleased } = resourceBalance(events);
  for (const [k, n] of open) problems.push(`${k} ${n > 0 ? "not released" : "released too often"} (${n})`);
  for (const k of doubleReleased) problems.push(`${k} released before acquired / twice`);
  if (rproc.carveouts.length) problems.push(`carveouts left: ${rproc.carveouts.map((c) => c.name).join(",")}`);
  if (rproc.mappings.length) problems.push(`mappings left: ${rproc.mappings.length}`);
  if (rproc.traces.length || rproc.numTraces) problems.push(`traces left: ${rproc.traces.length} (num ${rproc.numTraces})`);
  if (rproc.rvdevs.length) problems.push(`vdevs left: ${rproc.rvdevs.length}`);
  if (rproc.subdevs.length) problems.push(`subdevs left: ${rproc.subdevs.length}`);
  if (rproc.notifyIds.size) problems.push(`notify ids left: ${[...rproc.notifyIds.keys()].join(",")}`);
  if (rproc.dumpSegments.length) problems.push(`dump segments left: ${rproc.dumpSegments.length}`);
  if (rproc.cachedTable) problems.push("cached table not freed");
  if (rproc.cleanTable) problems.push("clean table not freed");
  if (rproc.iommuDomain) problems.push("iommu domain still attached");
  const inUse = dmaInUse(rproc.platform);
  if (inUse !== 0) problems.push(`platform DMA pools still hold ${inUse} bytes`);
  return problems;
}

export function isForwardBegin(e: RprocEvent): boolean {
  return e.phase === "begin" && e.args?.undo !== true;
}

/** Forward step names a scenario runs, in order (one entry per occurrence). */
export async function forwardSteps(rproc: Rproc, action: () => Promise<void>): Promise<string[]> {
  const steps: string[] = [];
  const off = rproc.events.on((e) => {
    if (isForwardBegin(e)) steps.push(e.step);
  });
  try {
    await action();
  } finally {
    off();
  }
  return steps;
}

/** Make the k-th (1-based) forward step from now fail with `code`. Returns a disarm function. */
export function failAtStep(rproc: Rproc, k: number, code: RprocError["code"] = "EIO"): () => void {
  let n = 0;
  rproc.injectFault = (step) => {
    if (++n === k) throw new RprocError(code, `injected fault at step ${k} (${step})`);
  };
  return () => {
    rproc.injectFault = undefined;
  };
}

/** Make the n-th host write/fill to platform memory fail with EFAULT. Returns a restore function. */
export function failHostWrite(rproc: Rproc, nth: number): () => void {
  const p = rproc.platform;
  const origWrite = p.hostWrite.bind(p);
  const origFill = p.hostFill.bind(p);
  let n = 0;
  const gate = (): void => {
    if (++n === nth) throw new RprocError("EFAULT", `injected memory fault at host write ${nth}`);
  };
  p.hostWrite = (pa, data) => {
    gate();
    origWrite(pa, data);
  };
  p.hostFill = (pa, len, v) => {
    gate();
    origFill(pa, len, v);
  };
  return () => {
    p.hostWrite = origWrite;
    p.hostFill = origFill;
  };
}

/** Make the n-th DMA allocation (dma_alloc_coherent) from the processor's pool fail with ENOMEM. */
export function failDmaAlloc(rproc: Rproc, nth: number): () => void {
  const pool = rproc.processor.dmaPool;
  if (!pool) return () => {};
  const a = dmaAllocator(rproc.platform, pool);
  const orig = a.allocCoherent.bind(a);
  let n = 0;
  a.allocCoherent = (len) => {
    if (++n === nth) {
      rproc.emit("injected_fault", "info", { kind: "dma_alloc", nth });
      throw new RprocError("ENOMEM", `injected allocation failure ${nth}`);
    }
    return orig(len);
  };
  return () => {
    a.allocCoherent = orig;
  };
}

/** The seeded PRNG (mulberry32) of the fuzzers, for the randomized interleaving tests. */
export { prng } from "../fuzz-mutate.js";
