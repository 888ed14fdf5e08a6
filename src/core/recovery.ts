/**
 * rproc_trigger_recovery and its two strategies, the sysfs `recovery` and
 * `coredump` words, and the panic notifier (spec §5.7, §7.1).
 *
 * Boot recovery keeps everything the boot acquired (carveouts, mappings,
 * traces, vdevs, cachedTable) and does not call parse_fw again: it stops the
 * processor (crashed = true, so subdevices know), dumps, requests the
 * firmware again through the search path (a fixed image dropped in place is
 * what comes back), and runs rproc_start (load, find_loaded_rsc_table, copy
 * of cachedTable into the loaded table, subdevices, ops.start). A TEE loader
 * re-authenticates in `load`. On a failed start the TEE series calls
 * release_fw (§10.3). `power` is never touched.
 *
 * Shutting down a CRASHED processor: current mainline rproc_shutdown checks
 * `state != RUNNING && state != ATTACHED` → -EINVAL under the lock (commit
 * 5e6a0e05270e, 2022), so with recovery disabled the way out is the
 * `recovery` word `recover` (or `enabled`), not `stop`. We follow it.
 */
import { RprocError } from "../errors.js";
import { requestFirmware } from "./firmware.js";
import { rprocAttachInner, rprocDetachInner, rprocReleaseFw, rprocStart, rprocStop } from "./lifecycle.js";
import type { Rproc } from "./rproc.js";
import { RPROC_FEAT_ATTACH_ON_RECOVERY, RPROC_MAX_FEATURES, RprocDumpMechanism, RprocState, stateString } from "./state.js";
import { runStep, toRprocError } from "./steps.js";
import { rprocCoredump } from "./coredump.js";

/** rproc_trigger_recovery: lock (interruptible) → nothing unless CRASHED → attach- or boot-recovery. */
export async function rprocTriggerRecovery(rproc: Rproc, signal?: AbortSignal): Promise<void> {
  const unlock = await rproc.lock.lock(signal);
  try {
    if (rproc.state !== RprocState.CRASHED) {
      rproc.emit("rproc_trigger_recovery", "info", { state: stateString(rproc.state), message: "not crashed: nothing to recover" });
      return;
    }
    const attach = rproc.features.has(RPROC_FEAT_ATTACH_ON_RECOVERY);
    await runStep(
      rproc,
      "rproc_trigger_recovery",
      // The strategy is a step of its own, named as the kernel's function, so --trace reads
      // rproc_trigger_recovery → rproc_boot_recovery → rproc_stop ... as the kernel runs it.
      () => (attach ? runStep(rproc, "rproc_attach_recovery", () => rprocAttachRecovery(rproc)) : runStep(rproc, "rproc_boot_recovery", () => rprocBootRecovery(rproc))),
      {
        strategy: attach ? "attach" : "boot",
        message: `recovering ${rproc.name}`,
      },
    );
  } finally {
    unlock();
  }
}

/** rproc_attach_recovery: __rproc_detach then __rproc_attach; no firmware, no coredump. */
async function rprocAttachRecovery(rproc: Rproc): Promise<void> {
  await rprocDetachInner(rproc);
  await rprocAttachInner(rproc);
}

/** rproc_boot_recovery. */
async function rprocBootRecovery(rproc: Rproc): Promise<void> {
  await rprocStop(rproc, true);
  // ops->coredump returns void in the kernel: a failing dump is reported and recovery goes on.
  try {
    await runStep(rproc, "coredump", () => (rproc.ops.coredump ?? rprocCoredump)(rproc));
  } catch {
    /* reported by runStep's fail event */
  }
  // The TEE series (v22) calls release_fw only after a failed rproc_start. rproc also releases
  // when the firmware cannot be requested again: that path too leaves the processor OFFLINE,
  // and without a release the stopped image would stay in TEE memory (locked from the host
  // behind a firewall) with nothing left to release it. No-op for drivers without releaseFw.
  try {
    const fw = await runStep(rproc, "request_firmware", () => requestFirmware(rproc.firmware, rproc.searchPath, rproc.cwd), {
      name: rproc.firmware,
    });
    await rprocStart(rproc, fw);
  } catch (e) {
    await rprocReleaseFw(rproc);
    throw e;
  }
}

/** sysfs_streq: exact match, one trailing newline on either side tolerated. */
function sysfsStreq(buf: string, word: string): boolean {
  const strip = (s: string) => (s.endsWith("\n") ? s.slice(0, -1) : s);
  return strip(buf) === strip(word);
}

/** sysfs `recovery` read. */
export function recoveryShow(rproc: Rproc): string {
  return rproc.recoveryDisabled ? "disabled\n" : "enabled\n";
}

/**
 * sysfs `recovery` write: "enabled" clears the flag then triggers recovery,
 * "disabled" sets it, "recover" triggers with the flag unchanged. The
 * trigger's result is ignored (the write returns count); we await it so the
 * caller sees the processor recovered when this resolves.
 */
export async function recoveryStore(rproc: Rproc, buf: string): Promise<void> {
  if (sysfsStreq(buf, "enabled")) {
    rproc.recoveryDisabled = false;
    await rprocTriggerRecovery(rproc).catch(() => undefined);
  } else if (sysfsStreq(buf, "disabled")) {
    rproc.recoveryDisabled = true;
  } else if (sysfsStreq(buf, "recover")) {
    await rprocTriggerRecovery(rproc).catch(() => undefined);
  } else {
    throw new RprocError("EINVAL", `recovery: unrecognised option ${JSON.stringify(buf)} (enabled, disabled, recover)`, { field: "recovery", value: buf });
  }
}

const DUMP_WORDS: Record<string, RprocDumpMechanism> = {
  disabled: RprocDumpMechanism.DISABLED,
  enabled: RprocDumpMechanism.ENABLED,
  inline: RprocDumpMechanism.INLINE,
};

/** sysfs `coredump` read. */
export function coredumpShow(rproc: Rproc): string {
  const word = Object.keys(DUMP_WORDS).find((w) => DUMP_WORDS[w] === rproc.dumpConf) ?? "disabled";
  return word + "\n";
}

/** sysfs `coredump` write: EBUSY while CRASHED (checked before the word), EINVAL for an unknown word. */
export function coredumpStore(rproc: Rproc, buf: string): void {
  if (rproc.state === RprocState.CRASHED) {
    throw new RprocError("EBUSY", "can't change coredump configuration while the processor is crashed", { field: "coredump" });
  }
  for (const [word, conf] of Object.entries(DUMP_WORDS)) {
    if (sysfsStreq(buf, word)) {
      rproc.dumpConf = conf;
      return;
    }
  }
  throw new RprocError("EINVAL", `coredump: invalid value ${JSON.stringify(buf)} (disabled, enabled, inline)`, { field: "coredump", value: buf });
}

/** rproc_set_feature: EINVAL at or above RPROC_MAX_FEATURES. */
export function rprocSetFeature(rproc: Rproc, feature: number): void {
  if (!Number.isInteger(feature) || feature < 0 || feature >= RPROC_MAX_FEATURES) {
    throw new RprocError("EINVAL", `unknown rproc feature ${feature}`, { field: "feature", value: feature });
  }
  rproc.features.add(feature);
}

/**
 * rproc_panic_handler: every listed processor with ops.panic that is RUNNING
 * or ATTACHED is told the host is panicking; the kernel then busy-waits the
 * largest delay returned. We return it (milliseconds) instead of spinning.
 */
export function rprocPanicNotify(rprocs: Iterable<Rproc>): number {
  let max = 0;
  for (const rproc of rprocs) {
    if (!rproc.ops.panic) continue;
    if (rproc.state !== RprocState.RUNNING && rproc.state !== RprocState.ATTACHED) continue;
    let d = 0;
    try {
      d = rproc.ops.panic(rproc);
    } catch (e) {
      rproc.emit("panic", "fail", undefined, toRprocError(e, "panic"));
      continue;
    }
    rproc.emit("panic", "info", { delayMs: d });
    if (Number.isFinite(d) && d > max) max = d;
  }
  return max;
}
