// A small driver for crash/recovery tests: no resource table, the image is
// copied raw to MCU SRAM (da 0x10000000) by `load`, and `prepare` registers
// the two dump segments the STM32 driver would (its memory regions). Every
// op call is recorded so tests can check the kernel's order; the record keeps
// the newest CALL_LOG_LIMIT calls only, so a board driven through thousands
// of crash cycles (bench/crash-soak.ts) does not grow.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Platform } from "../../src/platform/platform.js";
import { MemView } from "../../src/platform/mem-view.js";
import { Rproc } from "../../src/core/rproc.js";
import type { RprocOps } from "../../src/core/ops.js";
import type { RprocEvent } from "../../src/core/events.js";
import { rprocCoredumpAddSegment } from "../../src/core/coredump.js";

export const SRAM_DA = 0x10000000;
export const RETRAM_DA = 0x0;

/** How many op calls a board remembers (newest kept); far more than any one test looks at. */
export const CALL_LOG_LIMIT = 256;

export interface TestBoard {
  rproc: Rproc;
  /** Op calls, oldest first, at most CALL_LOG_LIMIT (clear with `calls.length = 0`). */
  calls: string[];
  events: RprocEvent[];
  fwDir: string;
  writeFirmware(bytes: Uint8Array): void;
  /** Reads device memory as the host sees it. */
  mem(da: number, len: number): Uint8Array;
  stop(): void;
}

export function makeBoard(opts: { segments?: boolean; ops?: Partial<RprocOps> } = {}): TestBoard {
  const platform = Platform.load("stm32mp157");
  const proc = platform.processor("m4");
  const calls: string[] = [];
  const call = (name: string): void => {
    calls.push(name);
    if (calls.length > CALL_LOG_LIMIT) calls.shift();
  };
  const fwDir = mkdtempSync(join(tmpdir(), "rproc-crash-"));
  const view = (rproc: Rproc, da: number, len: number): MemView | undefined => {
    const pa = rproc.platform.daToPa(rproc.processor, da, len);
    return pa === undefined ? undefined : new MemView(rproc.platform, pa, len);
  };
  const ops: RprocOps = {
    prepare: (rproc) => {
      call("prepare");
      if (opts.segments !== false) {
        rprocCoredumpAddSegment(rproc, RETRAM_DA, 0x100);
        rprocCoredumpAddSegment(rproc, SRAM_DA, 0x1000);
      }
    },
    unprepare: () => void call("unprepare"),
    start: () => void call("start"),
    stop: () => void call("stop"),
    daToVa: (rproc, da, len) => view(rproc, da, len),
    parseFw: () => void call("parse_fw"),
    load: (rproc, fw) => {
      call("load");
      view(rproc, SRAM_DA, fw.data.length)!.write(0, fw.data);
    },
    releaseFw: () => void call("release_fw"),
    ...opts.ops,
  };
  const rproc = new Rproc({ name: "m4", platform, processor: proc, ops, firmware: "fw.bin", searchPath: [fwDir] });
  rproc.setElfInfo(32, 40);
  const events: RprocEvent[] = [];
  const stop = rproc.events.on((e) => events.push(e));
  const board: TestBoard = {
    rproc,
    calls,
    events,
    fwDir,
    writeFirmware: (bytes) => writeFileSync(join(fwDir, "fw.bin"), bytes),
    mem: (da, len) => view(rproc, da, len)!.read(0, len),
    stop,
  };
  board.writeFirmware(Uint8Array.of(1, 2, 3, 4));
  return board;
}

/** "step:phase" for the events of the given steps, in order. */
export function trail(events: RprocEvent[], steps?: string[]): string[] {
  return events.filter((e) => !steps || steps.includes(e.step)).map((e) => `${e.step}:${e.phase}`);
}

/** acquire/release counts per kind from the core's bookkeeping events. */
export function balance(events: RprocEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events) {
    if (e.step !== "acquire" && e.step !== "release") continue;
    const kind = String(e.args?.kind);
    out[kind] = (out[kind] ?? 0) + (e.step === "acquire" ? 1 : -1);
  }
  return out;
}
