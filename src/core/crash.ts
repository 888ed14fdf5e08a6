/**
 * rproc_report_crash and the crash work item (spec §5.7).
 *
 * The driver may report from any context, even while another operation holds
 * rproc->lock. Like the kernel's single `crash_handler` work_struct on
 * rproc_recovery_wq: a report while the work is still *pending* is absorbed
 * (queue_work returns false); a report while it *runs* queues it once more, to
 * run after. The work itself takes the lock (non-interruptibly), so it waits
 * for whatever holds it, and then the state decides: CRASHED → nothing more
 * (the wakeup hold taken by the report leaks, as in the kernel), OFFLINE →
 * nothing, anything else → CRASHED, crashCnt++, and recovery unless disabled.
 */
import type { RprocError } from "../errors.js";
import type { Rproc } from "./rproc.js";
import { RprocState, crashTypeString, stateString } from "./state.js";
import { rprocTriggerRecovery } from "./recovery.js";
import { toRprocError } from "./steps.js";

export interface CrashWorkStatus {
  /** WORK_STRUCT_PENDING: queued and not yet started. */
  pending: boolean;
  /** pm_stay_awake / pm_relax on the parent device. */
  wakeupActive: boolean;
  reports: number;
  lastType: number | undefined;
  /** What the last recovery run by the crash work returned (the kernel ignores it; we keep it for reports). */
  lastRecoveryError: RprocError | undefined;
}

interface CrashWork extends CrashWorkStatus {
  /** The tail of the work's runs, in order. */
  tail: Promise<void>;
}

const works = new WeakMap<Rproc, CrashWork>();

function workOf(rproc: Rproc): CrashWork {
  let w = works.get(rproc);
  if (!w) {
    w = { pending: false, tail: Promise.resolve(), wakeupActive: false, reports: 0, lastType: undefined, lastRecoveryError: undefined };
    works.set(rproc, w);
  }
  return w;
}

/** rproc_report_crash(rproc, type): log, hold a wakeup source, queue the crash work. Never throws, never waits. */
export function rprocReportCrash(rproc: Rproc, type: number): void {
  const w = workOf(rproc);
  w.reports++;
  w.lastType = type;
  w.wakeupActive = true; // pm_stay_awake(rproc->dev.parent)
  rproc.emit("rproc_report_crash", "info", {
    type,
    typeName: crashTypeString(type),
    message: `crash detected in ${rproc.name}: type ${crashTypeString(type)}`,
  });
  if (w.pending) {
    rproc.emit("queue_work", "info", { work: "crash_handler", queued: false, message: "crash work already pending: report absorbed" });
    return;
  }
  w.pending = true;
  rproc.emit("queue_work", "info", { work: "crash_handler", queued: true });
  w.tail = w.tail.then(() => rprocCrashHandlerWork(rproc, w));
}

/** rproc_crash_handler_work. Errors never escape: a work item has nobody to return to. */
async function rprocCrashHandlerWork(rproc: Rproc, w: CrashWork): Promise<void> {
  w.pending = false; // the workqueue clears PENDING before calling the function
  const unlock = await rproc.lock.lock();
  rproc.emit("rproc_crash_handler_work", "begin", { state: stateString(rproc.state) });
  if (rproc.state === RprocState.CRASHED) {
    // Kernel quirk (§11.9): returns without pm_relax, so the wakeup hold of this report stays.
    unlock();
    rproc.emit("rproc_crash_handler_work", "end", { handled: false, reason: "already crashed", wakeupActive: w.wakeupActive });
    return;
  }
  if (rproc.state === RprocState.OFFLINE) {
    unlock();
    w.wakeupActive = false;
    rproc.emit("rproc_crash_handler_work", "end", { handled: false, reason: "offline: stopped processors are not recovered" });
    return;
  }
  rproc.state = RprocState.CRASHED;
  rproc.crashCnt++;
  rproc.emit("rproc_crash_handler_work", "info", { crashCnt: rproc.crashCnt, message: `handling crash #${rproc.crashCnt} in ${rproc.name}` });
  unlock();
  if (!rproc.recoveryDisabled) {
    try {
      await rprocTriggerRecovery(rproc);
      w.lastRecoveryError = undefined;
    } catch (e) {
      w.lastRecoveryError = toRprocError(e, "rproc_trigger_recovery");
    }
  }
  w.wakeupActive = false; // pm_relax(rproc->dev.parent)
  rproc.emit("rproc_crash_handler_work", "end", { handled: true, state: stateString(rproc.state), recovered: !rproc.recoveryDisabled && !w.lastRecoveryError });
}

/** flush_work(&rproc->crash_handler): resolves when every queued crash work has run. */
export async function rprocCrashFlush(rproc: Rproc): Promise<void> {
  const w = works.get(rproc);
  if (!w) return;
  let tail: Promise<void>;
  do {
    tail = w.tail;
    await tail;
  } while (tail !== w.tail);
}

export function rprocCrashStatus(rproc: Rproc): CrashWorkStatus {
  const w = workOf(rproc);
  return { pending: w.pending, wakeupActive: w.wakeupActive, reports: w.reports, lastType: w.lastType, lastRecoveryError: w.lastRecoveryError };
}
