/**
 * The file-tree model the interfaces are served through: directories,
 * files and symlinks whose contents are computed when asked, so a tree
 * always reflects the processors' current state (a trace0 that exists only
 * while resources are held, a devcdK that exists only while a dump does).
 * No I/O: a FUSE server, an in-process test or a benchmark walks the same
 * nodes.
 *
 * Files follow kernfs/debugfs open-file semantics: `open` may refuse
 * (EACCES), each open gets its own handle, and an attribute's text is
 * produced once per handle, at its first read (seq_file), so `cat` sees one
 * snapshot.
 */
import { RprocError } from "../errors.js";
import { AsyncMutex } from "../core/lock.js";

export interface OpenFlags {
  read: boolean;
  write: boolean;
  nonblock?: boolean;
}

export interface IoctlResult {
  /** ioctl's return value (>= 0). */
  result: number;
  /** Bytes copied back to the caller's argument (an _IOR ioctl). */
  out?: Uint8Array;
}

export interface FileHandle {
  read(offset: number, size: number): Promise<Uint8Array> | Uint8Array;
  /** One write(2): returns how many bytes were taken. */
  write(data: Uint8Array, offset: number): Promise<number> | number;
  /** `arg` holds the _IOW bytes (empty for _IO/_IOR); `outSize` is the _IOR size. */
  ioctl?(cmd: number, arg: Uint8Array, outSize: number): Promise<IoctlResult> | IoctlResult;
  release?(): Promise<void> | void;
}

export interface FileNode {
  kind: "file";
  /** Permission bits (0644…). */
  mode: number;
  /** st_size: sysfs attributes report 4096, debugfs 0. */
  size: number;
  open(flags: OpenFlags): FileHandle;
}

export interface DirNode {
  kind: "dir";
  mode: number;
  children(): Map<string, VNode>;
}

export interface LinkNode {
  kind: "link";
  target: string;
}

export type VNode = FileNode | DirNode | LinkNode;

export function dir(children: () => Iterable<[string, VNode]>, mode = 0o755): DirNode {
  return { kind: "dir", mode, children: () => new Map(children()) };
}

export function staticDir(entries: Record<string, VNode>, mode = 0o755): DirNode {
  return dir(() => Object.entries(entries), mode);
}

export function link(target: string): LinkNode {
  return { kind: "link", target };
}

/** Walks `parts` from `root` without following symlinks (the FUSE kernel side resolves those). */
export function lookup(root: DirNode, parts: readonly string[]): VNode | undefined {
  let node: VNode = root;
  for (const p of parts) {
    if (node.kind !== "dir") return undefined;
    const next: VNode | undefined = node.children().get(p);
    if (!next) return undefined;
    node = next;
  }
  return node;
}

/** PAGE_SIZE: kernfs hands at most this many bytes of one write to store(). */
export const PAGE_SIZE = 4096;

/** A sysfs or debugfs attribute: a show/store pair over one processor. */
export interface Attribute {
  mode: number;
  show?: () => string | Uint8Array;
  /** One store() call with the bytes of one write (after the kernfs cut). Throws an RprocError. */
  store?: (buf: Uint8Array) => Promise<void> | void;
  /** sysfs (kernfs with KERNFS_ROOT_EXTRA_OPEN_PERM_CHECK): opening without the mode's permission is EACCES even for root. debugfs: no check. */
  kernfs: boolean;
}

const enc = new TextEncoder();

/** kernfs_fop_open's extra permission check, then a handle with its own snapshot and write lock. */
export function attributeFile(a: Attribute): FileNode {
  return {
    kind: "file",
    mode: a.mode,
    size: a.kernfs ? PAGE_SIZE : 0,
    open(flags) {
      if (a.kernfs) {
        if (flags.write && (a.mode & 0o222) === 0) throw new RprocError("EACCES", "attribute is read-only (kernfs open check)", { step: "kernfs_fop_open" });
        if (flags.read && (a.mode & 0o444) === 0) throw new RprocError("EACCES", "attribute is write-only (kernfs open check)", { step: "kernfs_fop_open" });
      }
      return attributeHandle(a);
    },
  };
}

function attributeHandle(a: Attribute): FileHandle {
  let snapshot: Uint8Array | undefined;
  // kernfs of->mutex: store() is never called concurrently for one open file.
  const mutex = new AsyncMutex();
  return {
    read(offset, size) {
      if (!a.show) throw new RprocError("EINVAL", "attribute has no read", { step: "read" });
      if (snapshot === undefined) {
        const s = a.show();
        snapshot = typeof s === "string" ? enc.encode(s) : s;
      }
      return snapshot.subarray(Math.min(offset, snapshot.length), Math.min(offset + size, snapshot.length));
    },
    async write(data) {
      if (!a.store) throw new RprocError("EINVAL", "attribute has no write", { step: "write" });
      const store = a.store;
      // kernfs_fop_write_iter: len = min(count, PAGE_SIZE); the writer sees a short write and sends the rest as a new store.
      const buf = a.kernfs ? data.subarray(0, PAGE_SIZE) : data;
      if (a.kernfs && buf.length === 0) return 0; // sysfs_kf_write: nothing to store
      const unlock = await mutex.lock();
      try {
        await store(buf);
      } finally {
        unlock();
      }
      return buf.length;
    },
  };
}
