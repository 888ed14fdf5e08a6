/**
 * Mounting and unmounting a FUSE tree without libfuse: open /dev/fuse,
 * mount(2) with `fd=N` (koffi calls libc; koffi is already rproc's one
 * runtime dependency), serve, umount2(2). A mount point left behind by a
 * killed server (its connection is gone, stat gives ENOTCONN) is detached
 * and reused; a live rproc mount on the same directory is refused.
 */
import { closeSync, existsSync, openSync, readFileSync, realpathSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { RprocError, type Errno, ERRNO } from "../errors.js";
import type { DirNode } from "../interfaces/node.js";
import { FuseServer, type FuseServerOptions } from "./fuse-server.js";

export const FS_TYPE = "fuse.rproc";
const MS_NOSUID = 2;
const MS_NODEV = 4;
const MNT_DETACH = 2;

interface Libc {
  mount(src: string, target: string, type: string, flags: number, data: string): number;
  umount2(target: string, flags: number): number;
  errno(): number;
}

let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc) return libc;
  try {
    const koffi = createRequire(import.meta.url)("koffi") as typeof import("koffi");
    const lib = koffi.load("libc.so.6");
    const mount = lib.func("int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)");
    const umount2 = lib.func("int umount2(const char *target, int flags)");
    libc = { mount: (...a) => mount(...a) as number, umount2: (...a) => umount2(...a) as number, errno: () => koffi.errno() };
    return libc;
  } catch (e) {
    throw new RprocError("ENODEV", `cannot call mount(2) through koffi and libc.so.6: ${(e as Error).message}`, { cause: e });
  }
}

function errnoName(n: number): Errno {
  const hit = Object.entries(ERRNO).find(([, v]) => v === n);
  return (hit?.[0] as Errno | undefined) ?? "EIO";
}

/** /proc/self/mountinfo: the filesystem type mounted at `dir` (topmost), if any. */
export function mountedType(dir: string, mountinfo = readFileSync("/proc/self/mountinfo", "utf8")): string | undefined {
  let found: string | undefined;
  for (const line of mountinfo.split("\n")) {
    const [pre, post] = line.split(" - ");
    if (!pre || !post) continue;
    const point = pre.split(" ")[4]?.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (point === dir) found = post.split(" ")[0];
  }
  return found;
}

export function fuseAvailable(): { ok: true } | { ok: false; why: string } {
  if (!existsSync("/dev/fuse")) return { ok: false, why: "/dev/fuse does not exist (load the module: modprobe fuse)" };
  if (process.getuid?.() !== 0) return { ok: false, why: "mounting a FUSE file system without fusermount needs root (CAP_SYS_ADMIN)" };
  return { ok: true };
}

/** Detaches a dead rproc mount at `dir`; refuses a live one. Returns true when a stale mount was cleared. */
export function clearStaleMount(dir: string): boolean {
  const type = mountedType(dir);
  if (type !== FS_TYPE) return false;
  try {
    statSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOTCONN") {
      if (loadLibc().umount2(dir, MNT_DETACH) !== 0) {
        const n = loadLibc().errno();
        throw new RprocError(errnoName(n), `${dir}: a stale rproc mount is left there and cannot be detached (umount2: ${errnoName(n)})`, { field: "mountpoint", value: dir });
      }
      return true;
    }
    throw e;
  }
  throw new RprocError("EBUSY", `${dir} is already served by a running \`rproc mount\`; stop it (Ctrl-C) or \`umount ${dir}\` first`, { field: "mountpoint", value: dir });
}

export interface Mounted {
  dir: string;
  server: FuseServer;
  /** Resolves with the reason the session ended. */
  closed: Promise<string>;
  /** Detaches the mount, lets requests in progress finish (up to `graceMs`), then closes the connection. */
  unmount(graceMs?: number): Promise<void>;
}

/** Mounts `root` at `dir` and starts serving it. */
export function mountTree(dir: string, root: DirNode, opts: FuseServerOptions & { onStale?: () => void } = {}): Mounted {
  const avail = fuseAvailable();
  if (!avail.ok) throw new RprocError(existsSync("/dev/fuse") ? "EPERM" : "ENODEV", `cannot mount: ${avail.why}`, { field: "mountpoint", value: dir });
  let real: string;
  try {
    real = realpathSync(dir);
    if (!statSync(real).isDirectory()) throw new RprocError("ENOTDIR", `${dir} is not a directory`, { field: "mountpoint", value: dir });
  } catch (e) {
    if (e instanceof RprocError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTCONN") real = dir.startsWith("/") ? dir : `${process.cwd()}/${dir}`;
    else throw new RprocError("ENOENT", `${dir}: mount point does not exist`, { field: "mountpoint", value: dir, cause: e });
  }
  if (clearStaleMount(real)) opts.onStale?.();
  const lib = loadLibc();
  const fd = openSync("/dev/fuse", "r+");
  const data = `fd=${fd},rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions`;
  if (lib.mount("rproc", real, FS_TYPE, MS_NOSUID | MS_NODEV, data) !== 0) {
    const n = lib.errno();
    closeSync(fd);
    throw new RprocError(errnoName(n), `mount ${real}: ${errnoName(n)}`, { field: "mountpoint", value: real });
  }
  const server = new FuseServer(fd, root, opts);
  server.start();
  let done = false;
  const closed = server.closed.then((why) => {
    done = true;
    return why;
  });
  return {
    dir: real,
    server,
    closed,
    async unmount(graceMs = 5000) {
      if (!done && mountedType(real) === FS_TYPE) lib.umount2(real, MNT_DETACH);
      await server.idle(graceMs);
      // The session ends when the kernel drops the connection (last open file closed); a reader
      // still holding a file open past the grace period gets ENOTCONN when the process exits.
      await Promise.race([closed, new Promise((r) => setTimeout(r, 200).unref())]);
      if (done) closeSync(fd);
    },
  };
}
