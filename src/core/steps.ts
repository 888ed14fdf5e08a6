/**
 * The kernel's goto ladders as data: each step names what it does (the
 * kernel's function name) and how to undo it. runSteps() emits begin/end/fail
 * per step and, on failure, runs the undos of the completed steps in reverse —
 * which is what the labels of rproc_fw_boot/rproc_start/rproc_attach do.
 * Where a kernel label also undoes the *failing* step's partial work (e.g.
 * clean_up_resources after rproc_handle_resources fails), the step says so
 * with `undoOnFailure`.
 */
import { RprocError, isRprocError } from "../errors.js";
import type { Rproc } from "./rproc.js";

export interface Step {
  name: string;
  run: () => unknown | Promise<unknown>;
  /** The kernel's undo for this step, run at most once. */
  undo?: () => unknown | Promise<unknown>;
  /** Event name of the undo (the kernel function it calls). */
  undoName?: string;
  /** Kernel quirk: the label reached on this step's failure undoes its partial work too. */
  undoOnFailure?: boolean;
  /** Args shown in the begin event. */
  args?: Record<string, unknown>;
}

/** Anything thrown by a driver becomes an RprocError (EIO) so nothing untyped crosses the core. */
export function toRprocError(e: unknown, step: string): RprocError {
  if (isRprocError(e)) {
    if (e.step === undefined) e.step = step;
    return e;
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new RprocError("EIO", `${step}: ${msg}`, { step, cause: e });
}

/** Run one forward step with events and the fault-injection hook. */
export async function runStep<T>(rproc: Rproc, name: string, fn: () => T | Promise<T>, args?: Record<string, unknown>): Promise<T> {
  rproc.emit(name, "begin", args);
  try {
    rproc.injectFault?.(name);
    const r = await fn();
    rproc.emit(name, "end");
    return r;
  } catch (e) {
    const err = toRprocError(e, name);
    rproc.emit(name, "fail", undefined, err);
    throw err;
  }
}

/**
 * Run an undo/cleanup action: the kernel's unwind functions return void (or
 * their result is ignored), so a failure is reported as an event and the
 * unwind continues.
 */
export async function runUndo(rproc: Rproc, name: string, fn: () => unknown | Promise<unknown>): Promise<void> {
  // Marked so fault injection and sequence checks can tell unwind actions from forward steps.
  rproc.emit(name, "begin", { undo: true });
  try {
    await fn();
    rproc.emit(name, "end");
  } catch (e) {
    rproc.emit(name, "fail", undefined, toRprocError(e, name));
  }
}

export async function runSteps(rproc: Rproc, steps: Step[]): Promise<void> {
  const done: Step[] = [];
  for (const step of steps) {
    try {
      await runStep(rproc, step.name, step.run, step.args);
    } catch (e) {
      if (step.undoOnFailure) done.push(step);
      for (const d of done.reverse()) if (d.undo) await runUndo(rproc, d.undoName ?? `undo_${d.name}`, d.undo);
      throw e;
    }
    done.push(step);
  }
}
