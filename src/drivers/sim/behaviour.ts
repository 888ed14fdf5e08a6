/**
 * What the simulated remote does. The simulator never executes firmware
 * instructions: a behaviour model stands in for the firmware's observable
 * effects (trace output, a counter in memory, a crash), so host-side paths
 * (trace reads, crash handling, coredumps) can be exercised.
 */
import { hex } from "../../errors.js";
import { findSymbol, type ElfFile } from "../../formats/elf.js";
import type { Rproc } from "../../core/rproc.js";
import type { MemView } from "../../platform/mem-view.js";
import { RprocCrashType } from "../../core/state.js";

export interface SimBehaviourContext {
  rproc: Rproc;
  /** The firmware image as the sim driver parsed it (undefined when attached without one). */
  elf: ElfFile | undefined;
  firmwareName: string | undefined;
  /*
   * Memory access is the remote core's own, as a bus master: device
   * addresses through its translations (or a carveout's device mapping),
   * never through the host's views, so a TEE firewall that locks the
   * firmware memory from the host does not stop the core.
   */
  /** Write text to trace buffer `index` (NUL-terminated, truncated to the buffer); false when there is none. */
  writeTrace(text: string, index?: number): boolean;
  /** Read/write a little-endian u32 at a device address; undefined/false when the core cannot reach it. */
  readU32(da: number): number | undefined;
  writeU32(da: number, v: number): boolean;
  /** The core's own view of [da, da+len) (remote models read vrings and buffers through it); undefined when out of reach. */
  view(da: number, len: number): MemView | undefined;
  /** Report a crash the way a driver's watchdog/IRQ handler would (rproc_report_crash). */
  crash(type?: RprocCrashType): void;
  /** Run fn after ms unless the processor stops first. */
  after(ms: number, fn: () => void): void;
}

export interface SimBehaviour {
  name: string;
  onStart?(ctx: SimBehaviourContext): void;
  onAttach?(ctx: SimBehaviourContext): void;
  onKick?(ctx: SimBehaviourContext, vqid: number): void;
  onStop?(ctx: SimBehaviourContext): void;
}

export interface DefaultBehaviourOptions {
  /** Text written to trace0 at start; the default names the firmware and boot address. */
  banner?: string;
  /** Report a crash this many ms after start. */
  crashAfterMs?: number;
  crashType?: RprocCrashType;
  /** Symbol incremented at every start/attach when the firmware has it. */
  counterSymbol?: string;
}

/**
 * The default model: a boot banner in the first trace buffer, `fw_counter`
 * (when the image has that symbol) incremented once per start — in device
 * memory at the symbol's address, where a debugger reading the core's
 * memory finds it — and an optional crash after a delay.
 */
export function defaultBehaviour(opts: DefaultBehaviourOptions = {}): SimBehaviour {
  const counter = opts.counterSymbol ?? "fw_counter";
  const bump = (ctx: SimBehaviourContext): void => {
    const sym = ctx.elf ? findSymbol(ctx.elf, counter) : undefined;
    if (!sym || typeof sym.value !== "number") return;
    const v = ctx.readU32(sym.value);
    if (v !== undefined) ctx.writeU32(sym.value, v + 1);
  };
  const armCrash = (ctx: SimBehaviourContext): void => {
    if (opts.crashAfterMs !== undefined) ctx.after(opts.crashAfterMs, () => ctx.crash(opts.crashType ?? RprocCrashType.WATCHDOG));
  };
  return {
    name: "default",
    onStart(ctx) {
      const banner =
        opts.banner ??
        `[rproc-sim] ${ctx.firmwareName ?? "firmware"} started at ${hex(ctx.rproc.bootaddr)} on ${ctx.rproc.processor.name} (simulated: no instructions executed)\n`;
      ctx.writeTrace(banner);
      bump(ctx);
      armCrash(ctx);
    },
    onAttach(ctx) {
      armCrash(ctx);
    },
  };
}
