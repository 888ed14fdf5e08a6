/**
 * A FUSE file server over the interface tree: reads requests from an open
 * /dev/fuse descriptor and answers each one from the nodes of
 * src/interfaces. Requests run concurrently (a `start` write that waits for
 * a boot does not hold up a `cat state`); replies carry the kernel's errno
 * from the RprocError a handler threw. Entry and attribute timeouts are 0 and
 * every file is opened with direct I/O, so nothing is served from a cache.
 */
import { read as fsRead, writeSync } from "node:fs";
import { ERRNO, isRprocError } from "../errors.js";
import { lookup, type DirNode, type FileHandle, type VNode } from "../interfaces/node.js";
import {
  FOPEN_DIRECT_IO,
  FOPEN_PARALLEL_DIRECT_WRITES,
  FUSE_ASYNC_READ,
  FUSE_ATOMIC_O_TRUNC,
  FUSE_BIG_WRITES,
  IN_HEADER,
  In,
  Op,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
  attrOut,
  dirent,
  entryOut,
  frame,
  initOut,
  ioctlOut,
  openOut,
  statfsOut,
  writeOut,
  type Attr,
} from "./fuse-proto.js";

export const MAX_WRITE = 64 * 1024;
const READ_BUFFER = MAX_WRITE + 64 * 1024;

export interface FuseLogEntry {
  op: "write" | "ioctl" | "open";
  path: string;
  data?: string;
  errno: string;
  ms: number;
}

export interface FuseServerOptions {
  log?: (e: FuseLogEntry) => void;
}

interface Open {
  path: string;
  handle: FileHandle;
}

const enc = new TextEncoder();

function codeOf(e: unknown): string {
  const code = isRprocError(e) ? e.code : (e as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && code in ERRNO ? code : "EIO";
}

function errnoOf(e: unknown): number {
  return ERRNO[codeOf(e) as keyof typeof ERRNO];
}

export class FuseServer {
  private readonly paths = new Map<bigint, string>([[1n, ""]]);
  private readonly inos = new Map<string, bigint>([["", 1n]]);
  private nextIno = 2n;
  private readonly files = new Map<number, Open>();
  private readonly dirs = new Map<number, [string, VNode][]>();
  private nextFh = 1;
  private readonly started = Math.floor(Date.now() / 1000);
  private inflight = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  /** Resolves when the kernel ends the session (unmount, abort) or the read fails. */
  readonly closed: Promise<string>;
  private close!: (why: string) => void;

  constructor(
    private readonly fd: number,
    private readonly root: DirNode,
    private readonly opts: FuseServerOptions = {},
  ) {
    this.closed = new Promise((res) => (this.close = res));
  }

  start(): void {
    const buf = Buffer.alloc(READ_BUFFER);
    const loop = (): void => {
      fsRead(this.fd, buf, 0, buf.length, null, (err, n) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          // ENOENT: the request was interrupted before we read it; EINTR/EAGAIN: try again.
          if (code === "ENOENT" || code === "EINTR" || code === "EAGAIN") return loop();
          this.stopped = true;
          return this.close(code === "ENODEV" ? "unmounted" : `read /dev/fuse: ${code ?? err.message}`);
        }
        if (n === 0) {
          this.stopped = true;
          return this.close("unmounted");
        }
        const req = Uint8Array.from(buf.subarray(0, n));
        this.dispatch(req);
        if (!this.stopped) loop();
      });
    };
    loop();
  }

  /** Resolves when no request is being answered (or after `ms`). */
  idle(ms: number): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((res) => {
      const t = setTimeout(res, ms);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        res();
      });
    });
  }

  private reply(unique: bigint, errno: number, body?: Uint8Array): void {
    try {
      writeSync(this.fd, frame(unique, errno, body));
    } catch {
      // ENOENT: the request was interrupted and is gone; ENODEV: the connection was aborted.
    }
  }

  private dispatch(req: Uint8Array): void {
    const r = new In(req);
    let h;
    try {
      h = r.header();
    } catch {
      return;
    }
    if (h.opcode === Op.FORGET || h.opcode === Op.BATCH_FORGET || h.opcode === Op.INTERRUPT) return;
    this.inflight++;
    Promise.resolve()
      .then(() => this.handle(h.opcode, h.nodeid, r))
      .then(
        (body) => this.reply(h.unique, 0, body ?? undefined),
        (e: unknown) => this.reply(h.unique, errnoOf(e)),
      )
      .finally(() => {
        if (--this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    if (h.opcode === Op.DESTROY) {
      this.stopped = true;
      this.close("unmounted");
    }
  }

  private pathOf(nodeid: bigint): string {
    const p = this.paths.get(nodeid);
    if (p === undefined) throw Object.assign(new Error("stale node"), { code: "ENOENT" });
    return p;
  }

  private node(path: string): VNode {
    const n = lookup(this.root, path === "" ? [] : path.split("/"));
    if (!n) throw noent(path);
    return n;
  }

  private inoOf(path: string): bigint {
    let ino = this.inos.get(path);
    if (ino === undefined) {
      ino = this.nextIno++;
      this.inos.set(path, ino);
      this.paths.set(ino, path);
    }
    return ino;
  }

  private attr(path: string, n: VNode): Attr {
    const ino = this.inoOf(path);
    if (n.kind === "dir") return { ino, size: 0, mode: S_IFDIR | n.mode, nlink: 2, timeSec: this.started };
    if (n.kind === "link") return { ino, size: enc.encode(n.target).length, mode: S_IFLNK | 0o777, nlink: 1, timeSec: this.started };
    return { ino, size: n.size, mode: S_IFREG | n.mode, nlink: 1, timeSec: this.started };
  }

  private async handle(op: number, nodeid: bigint, r: In): Promise<Uint8Array | void> {
    const b = IN_HEADER;
    switch (op) {
      case Op.INIT: {
        const flags = r.u32(b + 12) & (FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES);
        return initOut(flags, MAX_WRITE);
      }
      case Op.DESTROY:
        return;
      case Op.LOOKUP: {
        const parent = this.pathOf(nodeid);
        const name = r.cstr(b);
        const path = parent === "" ? name : `${parent}/${name}`;
        return entryOut(this.attr(path, this.node(path)));
      }
      case Op.GETATTR:
      case Op.SETATTR: {
        // SETATTR: a truncate of an attribute is accepted and changes nothing (sysfs ignores O_TRUNC).
        const path = this.pathOf(nodeid);
        return attrOut(this.attr(path, this.node(path)));
      }
      case Op.READLINK: {
        const n = this.node(this.pathOf(nodeid));
        if (n.kind !== "link") throw einval("not a symlink");
        return enc.encode(n.target);
      }
      case Op.OPEN:
        return this.open(this.pathOf(nodeid), r.u32(b));
      case Op.READ: {
        const f = this.file(r.u64(b));
        const data = await f.handle.read(Number(r.u64(b + 8)), r.u32(b + 16));
        return Uint8Array.from(data);
      }
      case Op.WRITE:
        return this.write(r);
      case Op.IOCTL:
        return this.ioctl(r);
      case Op.RELEASE: {
        const fh = Number(r.u64(b));
        const f = this.files.get(fh);
        this.files.delete(fh);
        await f?.handle.release?.();
        return;
      }
      case Op.FLUSH:
      case Op.FSYNC:
      case Op.ACCESS:
        return;
      case Op.OPENDIR: {
        const path = this.pathOf(nodeid);
        const n = this.node(path);
        if (n.kind !== "dir") throw Object.assign(einval("not a directory"), { code: "ENOTDIR" });
        const fh = this.nextFh++;
        // One listing per open directory, so a reader that pages through it sees one consistent list.
        this.dirs.set(fh, [[".", n], ["..", n], ...n.children()]);
        return openOut(fh, 0);
      }
      case Op.READDIR:
        return this.readdir(nodeid, r);
      case Op.RELEASEDIR:
        this.dirs.delete(Number(r.u64(b)));
        return;
      case Op.STATFS:
        return statfsOut();
      case Op.CREATE:
      case Op.MKNOD:
      case Op.MKDIR:
      case Op.SYMLINK:
      case Op.LINK:
      case Op.UNLINK:
      case Op.RMDIR:
      case Op.RENAME:
      case Op.RENAME2:
        throw Object.assign(einval("read-only tree"), { code: "EACCES" });
      default:
        throw Object.assign(einval("unsupported"), { code: "ENOSYS" });
    }
  }

  private file(fh: bigint): Open {
    const f = this.files.get(Number(fh));
    if (!f) throw Object.assign(einval("bad file handle"), { code: "EBADF" });
    return f;
  }

  private open(path: string, flags: number): Uint8Array {
    const n = this.node(path);
    if (n.kind !== "file") throw Object.assign(einval("not a file"), { code: "EISDIR" });
    const acc = flags & 3;
    const t0 = performance.now();
    let handle: FileHandle;
    try {
      handle = n.open({ read: acc === 0 || acc === 2, write: acc === 1 || acc === 2, nonblock: (flags & 0o4000) !== 0 });
    } catch (e) {
      this.opts.log?.({ op: "open", path, errno: codeOf(e), ms: performance.now() - t0 });
      throw e;
    }
    const fh = this.nextFh++;
    this.files.set(fh, { path, handle });
    return openOut(fh, FOPEN_DIRECT_IO | FOPEN_PARALLEL_DIRECT_WRITES);
  }

  private async write(r: In): Promise<Uint8Array> {
    const b = IN_HEADER;
    const f = this.file(r.u64(b));
    const size = r.u32(b + 16);
    const data = Uint8Array.from(r.bytes(b + 40, size));
    const t0 = performance.now();
    try {
      const n = await f.handle.write(data, Number(r.u64(b + 8)));
      this.opts.log?.({ op: "write", path: f.path, data: preview(data), errno: "OK", ms: performance.now() - t0 });
      return writeOut(n);
    } catch (e) {
      this.opts.log?.({ op: "write", path: f.path, data: preview(data), errno: codeOf(e), ms: performance.now() - t0 });
      throw e;
    }
  }

  private async ioctl(r: In): Promise<Uint8Array> {
    const b = IN_HEADER;
    const f = this.file(r.u64(b));
    const cmd = r.u32(b + 12);
    const inSize = r.u32(b + 24);
    const outSize = r.u32(b + 28);
    const arg = Uint8Array.from(r.bytes(b + 32, inSize));
    const t0 = performance.now();
    if (!f.handle.ioctl) throw Object.assign(einval("no ioctl"), { code: "ENOTTY" });
    try {
      const res = await f.handle.ioctl(cmd, arg, outSize);
      this.opts.log?.({ op: "ioctl", path: f.path, data: `0x${cmd.toString(16)}`, errno: "OK", ms: performance.now() - t0 });
      return ioctlOut(res.result, res.out?.subarray(0, outSize));
    } catch (e) {
      this.opts.log?.({ op: "ioctl", path: f.path, data: `0x${cmd.toString(16)}`, errno: codeOf(e), ms: performance.now() - t0 });
      throw e;
    }
  }

  private readdir(nodeid: bigint, r: In): Uint8Array {
    const b = IN_HEADER;
    const list = this.dirs.get(Number(r.u64(b)));
    if (!list) throw Object.assign(einval("bad dir handle"), { code: "EBADF" });
    const offset = Number(r.u64(b + 8));
    const size = r.u32(b + 16);
    const dirPath = this.pathOf(nodeid);
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = offset; i < list.length; i++) {
      const [name, n] = list[i]!;
      const path = name === "." || name === ".." ? dirPath : dirPath === "" ? name : `${dirPath}/${name}`;
      const type = n.kind === "dir" ? 4 : n.kind === "link" ? 10 : 8;
      const d = dirent(this.inoOf(path), i + 1, type, name);
      if (total + d.length > size) break;
      parts.push(d);
      total += d.length;
    }
    return Buffer.concat(parts);
  }
}

function preview(data: Uint8Array): string {
  const s = JSON.stringify(Buffer.from(data.subarray(0, 40)).toString("latin1"));
  return data.length > 40 ? `${s}… (${data.length} bytes)` : s;
}

function einval(msg: string): Error & { code: string } {
  return Object.assign(new Error(msg), { code: "EINVAL" });
}

function noent(path: string): Error & { code: string } {
  return Object.assign(new Error(`no such file: ${path}`), { code: "ENOENT" });
}
