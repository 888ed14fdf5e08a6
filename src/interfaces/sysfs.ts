/**
 * /sys/class/remoteproc/remoteprocN/{state,firmware,recovery,coredump,name,dev,uevent}
 * as show/store pairs over an Rproc, mirroring remoteproc_sysfs.c (mainline)
 * with the version switches of spec §1.6. Every write is parsed from the
 * bytes of one write(2) as the kernel parses its NUL-terminated copy.
 */
import { RprocError } from "../errors.js";
import type { Rproc } from "../core/rproc.js";
import { RprocState, stateString } from "../core/state.js";
import { coredumpShow, coredumpStore, recoveryShow, recoveryStore } from "../core/recovery.js";
import { attributeFile, type Attribute, type FileNode } from "./node.js";
import { cString, nameContainsDotdot, sysfsStreq } from "./parse.js";

/** Answers that differ between kernel versions (spec §1.6); the default is current mainline. */
export interface KernelQuirks {
  /** Before 2022 (commit 5e6a0e05270e): `start` on a running/attached processor is EBUSY instead of power++. */
  startBusyWhenRunning?: boolean;
  /** Before 5.13: the `detach` word is unknown (EINVAL). */
  noDetach?: boolean;
  /** rproc->sysfs_read_only: recovery, firmware, state and coredump become 0444. */
  sysfsReadOnly?: boolean;
}

/** The cdev's char major (dynamic on a board: alloc_chrdev_region); fixed here so `dev` is stable. */
export const RPROC_CDEV_MAJOR = 239;

const UEVENT_ACTIONS = ["add", "remove", "change", "move", "online", "offline", "bind", "unbind"];

/**
 * rproc_boot as reached from user space, with the checks the kernel makes
 * before or inside it that the library's boot leaves to its caller:
 * the pre-2022 EBUSY and _request_firmware's refusal of `..` components.
 */
export async function userBoot(rproc: Rproc, quirks: KernelQuirks): Promise<void> {
  if (quirks.startBusyWhenRunning && (rproc.state === RprocState.RUNNING || rproc.state === RprocState.ATTACHED))
    throw new RprocError("EBUSY", `${rproc.name} is already ${stateString(rproc.state)} (pre-2022 kernels refuse start)`, { step: "state_store" });
  const booting = rproc.power === 0 && rproc.state === RprocState.OFFLINE;
  if (booting && nameContainsDotdot(rproc.firmware))
    throw new RprocError("EINVAL", `Firmware load for '${rproc.firmware}' refused, path contains '..' component`, {
      step: "request_firmware",
      field: "firmware",
      value: rproc.firmware,
    });
  await rproc.boot();
}

/** state_store: sysfs_streq over start, stop, detach. */
export async function stateStore(rproc: Rproc, buf: Uint8Array, quirks: KernelQuirks = {}): Promise<void> {
  const s = cString(buf);
  if (sysfsStreq(s, "start")) return userBoot(rproc, quirks);
  if (sysfsStreq(s, "stop")) return rproc.shutdown();
  if (!quirks.noDetach && sysfsStreq(s, "detach")) return rproc.detach();
  throw new RprocError("EINVAL", `Unrecognised option: ${JSON.stringify(s)}`, { field: "state", value: s });
}

/** firmware_show: "unknown" while ATTACHED (the image was loaded by someone else). */
export function firmwareShow(rproc: Rproc): string {
  return `${rproc.state === RprocState.ATTACHED ? "unknown" : rproc.firmware}\n`;
}

export function rprocSysfsAttributes(rproc: Rproc, quirks: KernelQuirks = {}): Record<string, FileNode> {
  const rw = quirks.sysfsReadOnly ? 0o444 : 0o644;
  const attr = (a: Omit<Attribute, "kernfs">): FileNode => attributeFile({ ...a, kernfs: true });
  const writable = <T>(store: T): T | undefined => (quirks.sysfsReadOnly ? undefined : store);
  const stateOpt = writable((b: Uint8Array) => stateStore(rproc, b, quirks));
  const fwOpt = writable((b: Uint8Array) => rproc.setFirmware(cString(b)));
  const recOpt = writable((b: Uint8Array) => recoveryStore(rproc, cString(b)));
  const cdOpt = writable((b: Uint8Array) => coredumpStore(rproc, cString(b)));
  return {
    state: attr({ mode: rw, show: () => `${stateString(rproc.state)}\n`, ...(stateOpt ? { store: stateOpt } : {}) }),
    firmware: attr({ mode: rw, show: () => firmwareShow(rproc), ...(fwOpt ? { store: fwOpt } : {}) }),
    recovery: attr({ mode: rw, show: () => recoveryShow(rproc), ...(recOpt ? { store: recOpt } : {}) }),
    coredump: attr({ mode: rw, show: () => coredumpShow(rproc), ...(cdOpt ? { store: cdOpt } : {}) }),
    name: attr({ mode: 0o444, show: () => `${rproc.name}\n` }),
    dev: attr({ mode: 0o444, show: () => `${RPROC_CDEV_MAJOR}:${rproc.index}\n` }),
    uevent: attr({
      mode: 0o644,
      show: () => `MAJOR=${RPROC_CDEV_MAJOR}\nMINOR=${rproc.index}\nDEVNAME=${rproc.devName}\n`,
      // kobject_synth_uevent: a known action word is accepted (udev replay); anything else is EINVAL.
      store: (b) => {
        const w = cString(b).split(/\s/)[0] ?? "";
        if (!UEVENT_ACTIONS.includes(w)) throw new RprocError("EINVAL", `uevent: unknown action ${JSON.stringify(w)}`, { field: "uevent", value: w });
      },
    }),
  };
}
