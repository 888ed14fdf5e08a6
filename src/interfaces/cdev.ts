/**
 * /dev/remoteprocN (remoteproc_cdev.c): write "start"/"stop"/"detach" as a
 * strncmp prefix of 1..10 bytes with no newline stripping (so `echo start`
 * is EINVAL and `printf start` works), the two shutdown-on-release ioctls,
 * and release that shuts down or detaches when that flag is set. The flag is
 * per processor, not per open file, as in the kernel.
 */
import { RprocError } from "../errors.js";
import type { Rproc } from "../core/rproc.js";
import { RprocState, stateString } from "../core/state.js";
import type { FileHandle, FileNode } from "./node.js";
import { cdevWord } from "./parse.js";
import { userBoot, type KernelQuirks } from "./sysfs.js";

/** _IOW(0xB7, 1, __s32) and _IOR(0xB7, 2, __s32) in the generic _IOC encoding (arm, arm64, x86). */
export const RPROC_SET_SHUTDOWN_ON_RELEASE = 0x4004b701;
export const RPROC_GET_SHUTDOWN_ON_RELEASE = 0x8004b702;

export class RprocCdev {
  /** rproc->cdev_put_on_release. */
  putOnRelease = false;

  constructor(
    readonly rproc: Rproc,
    private readonly quirks: KernelQuirks = {},
  ) {}

  /** rproc_cdev_write. */
  async write(buf: Uint8Array): Promise<number> {
    const w = cdevWord(buf);
    const rproc = this.rproc;
    if (w === "start") await userBoot(rproc, this.quirks);
    else if (w === "stop") {
      // Before 2022 the cdev allowed stop only from RUNNING (EINVAL when ATTACHED).
      if (this.quirks.startBusyWhenRunning && rproc.state !== RprocState.RUNNING)
        throw new RprocError("EINVAL", `can't stop ${rproc.name}: state is ${stateString(rproc.state)}`, { step: "rproc_cdev_write" });
      await rproc.shutdown();
    } else if (w === "detach" && !this.quirks.noDetach) await rproc.detach();
    else {
      const text = Buffer.from(buf.subarray(0, 10)).toString("latin1");
      throw new RprocError("EINVAL", `Unrecognized option ${JSON.stringify(text)} (write start, stop or detach without a newline, 1..10 bytes)`, {
        field: "remoteproc cdev",
        value: buf.length,
        limit: 10,
      });
    }
    return buf.length;
  }

  /** rproc_device_ioctl: other commands are EINVAL (not ENOTTY). */
  ioctl(cmd: number, arg: Uint8Array): { result: number; out?: Uint8Array } {
    if (cmd === RPROC_SET_SHUTDOWN_ON_RELEASE) {
      if (arg.length < 4) throw new RprocError("EFAULT", "ioctl argument shorter than __s32", { field: "ioctl" });
      this.putOnRelease = new DataView(arg.buffer, arg.byteOffset, 4).getInt32(0, true) !== 0;
      return { result: 0 };
    }
    if (cmd === RPROC_GET_SHUTDOWN_ON_RELEASE) {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setInt32(0, this.putOnRelease ? 1 : 0, true);
      return { result: 0, out };
    }
    throw new RprocError("EINVAL", `Unsupported ioctl 0x${(cmd >>> 0).toString(16)}`, { field: "ioctl", value: cmd >>> 0 });
  }

  /** rproc_cdev_release: errors are dropped (the VFS ignores release's value). */
  async release(): Promise<void> {
    if (!this.putOnRelease) return;
    const r = this.rproc;
    if (r.state === RprocState.RUNNING) await r.shutdown().catch(() => undefined);
    else if (r.state === RprocState.ATTACHED) await r.detach().catch(() => undefined);
  }

  file(): FileNode {
    return {
      kind: "file",
      mode: 0o600,
      size: 0,
      open: (): FileHandle => ({
        read: () => {
          throw new RprocError("EINVAL", "/dev/remoteprocN has no read", { step: "read" });
        },
        write: (data) => this.write(data),
        ioctl: (cmd, arg) => this.ioctl(cmd, arg),
        release: () => this.release(),
      }),
    };
  }
}
