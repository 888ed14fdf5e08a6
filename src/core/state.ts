/**
 * Processor state, crash type and coredump mechanism: numeric values and the
 * strings sysfs/debugfs print, exactly as include/linux/remoteproc.h and
 * remoteproc_sysfs.c define them (spec §1.6–1.8).
 */
export enum RprocState {
  OFFLINE = 0,
  SUSPENDED = 1,
  RUNNING = 2,
  CRASHED = 3,
  DELETED = 4,
  ATTACHED = 5,
  DETACHED = 6,
  LAST = 7,
}

const STATE_STRINGS = ["offline", "suspended", "running", "crashed", "deleted", "attached", "detached", "invalid"];

/** sysfs `state` text; like the kernel, any value >= RPROC_LAST reads "invalid". */
export function stateString(s: number): string {
  if (!Number.isInteger(s) || s < 0 || s >= RprocState.LAST) return "invalid";
  return STATE_STRINGS[s]!;
}

export enum RprocCrashType {
  MMUFAULT = 0,
  WATCHDOG = 1,
  FATAL_ERROR = 2,
}

/** rproc_crash_to_string(): unknown values print "unknown". */
export function crashTypeString(t: number): string {
  switch (t) {
    case RprocCrashType.MMUFAULT:
      return "mmufault";
    case RprocCrashType.WATCHDOG:
      return "watchdog";
    case RprocCrashType.FATAL_ERROR:
      return "fatal error";
    default:
      return "unknown";
  }
}

export enum RprocDumpMechanism {
  DISABLED = 0,
  ENABLED = 1,
  INLINE = 2,
}

/** enum rproc_features; rproc_set_feature() refuses values >= RPROC_MAX_FEATURES. */
export const RPROC_FEAT_ATTACH_ON_RECOVERY = 0;
export const RPROC_MAX_FEATURES = 1;
