/**
 * The FUSE kernel protocol (include/uapi/linux/fuse.h), the subset a
 * sysfs-like tree needs: opcodes, the request header, and encoders for the
 * replies. Little-endian host layout (x86-64, arm64). Every request body is
 * read through `In`, which checks lengths so a short request is EIO, never
 * a RangeError.
 */
import { RprocError } from "../errors.js";

export const FUSE_KERNEL_VERSION = 7;
/** The minor we speak: 7.31 has everything below (max_pages, ioctl, atomic O_TRUNC). */
export const FUSE_KERNEL_MINOR = 31;

export const Op = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  SETATTR: 4,
  READLINK: 5,
  SYMLINK: 6,
  MKNOD: 8,
  MKDIR: 9,
  UNLINK: 10,
  RMDIR: 11,
  RENAME: 12,
  LINK: 13,
  OPEN: 14,
  READ: 15,
  WRITE: 16,
  STATFS: 17,
  RELEASE: 18,
  FSYNC: 20,
  FLUSH: 25,
  INIT: 26,
  OPENDIR: 27,
  READDIR: 28,
  RELEASEDIR: 29,
  ACCESS: 34,
  CREATE: 35,
  INTERRUPT: 36,
  DESTROY: 38,
  IOCTL: 39,
  BATCH_FORGET: 42,
  RENAME2: 45,
} as const;

/** fuse_init flags we accept from the kernel. */
export const FUSE_ASYNC_READ = 1 << 0;
export const FUSE_ATOMIC_O_TRUNC = 1 << 3;
export const FUSE_BIG_WRITES = 1 << 5;
/** fuse_open_out.open_flags */
export const FOPEN_DIRECT_IO = 1 << 0;
export const FOPEN_PARALLEL_DIRECT_WRITES = 1 << 6;

export const IN_HEADER = 40;
export const OUT_HEADER = 16;

export interface InHeader {
  len: number;
  opcode: number;
  unique: bigint;
  nodeid: bigint;
  uid: number;
  gid: number;
  pid: number;
}

/** A bounds-checked reader over one request. */
export class In {
  private readonly dv: DataView;
  constructor(readonly buf: Uint8Array) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(off: number, n: number): void {
    if (off < 0 || off + n > this.buf.length) throw new RprocError("EIO", `FUSE request too short: ${off}+${n} > ${this.buf.length}`, { field: "fuse request" });
  }
  u16(off: number): number {
    this.need(off, 2);
    return this.dv.getUint16(off, true);
  }
  u32(off: number): number {
    this.need(off, 4);
    return this.dv.getUint32(off, true);
  }
  u64(off: number): bigint {
    this.need(off, 8);
    return this.dv.getBigUint64(off, true);
  }
  bytes(off: number, n: number): Uint8Array {
    this.need(off, n);
    return this.buf.subarray(off, off + n);
  }
  /** A NUL-terminated name at `off` (LOOKUP and friends). */
  cstr(off: number): string {
    this.need(off, 0);
    const rest = this.buf.subarray(off);
    const nul = rest.indexOf(0);
    return Buffer.from(rest.buffer, rest.byteOffset, nul < 0 ? rest.length : nul).toString("utf8");
  }
  header(): InHeader {
    return {
      len: this.u32(0),
      opcode: this.u32(4),
      unique: this.u64(8),
      nodeid: this.u64(16),
      uid: this.u32(24),
      gid: this.u32(28),
      pid: this.u32(32),
    };
  }
}

/** A little-endian writer for one reply body. */
export class Out {
  readonly buf: Uint8Array;
  private readonly dv: DataView;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.dv = new DataView(this.buf.buffer);
  }
  u16(off: number, v: number): this {
    this.dv.setUint16(off, v, true);
    return this;
  }
  u32(off: number, v: number): this {
    this.dv.setUint32(off, v >>> 0, true);
    return this;
  }
  i32(off: number, v: number): this {
    this.dv.setInt32(off, v | 0, true);
    return this;
  }
  u64(off: number, v: number | bigint): this {
    this.dv.setBigUint64(off, BigInt(v), true);
    return this;
  }
}

/** The reply frame: fuse_out_header {len, error (negative errno), unique} then the body. */
export function frame(unique: bigint, errno: number, body?: Uint8Array): Uint8Array {
  const len = OUT_HEADER + (body?.length ?? 0);
  const out = new Out(len);
  out.u32(0, len).i32(4, -errno).u64(8, unique);
  if (body) out.buf.set(body, OUT_HEADER);
  return out.buf;
}

export interface Attr {
  ino: bigint;
  size: number;
  /** st_mode including the file type bits. */
  mode: number;
  nlink: number;
  timeSec: number;
}

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

/** struct fuse_attr (88 bytes) at `off`. */
export function writeAttr(o: Out, off: number, a: Attr): void {
  o.u64(off, a.ino).u64(off + 8, a.size).u64(off + 16, Math.ceil(a.size / 512));
  for (const t of [24, 32, 40]) o.u64(off + t, a.timeSec);
  o.u32(off + 60, a.mode).u32(off + 64, a.nlink).u32(off + 68, 0).u32(off + 72, 0).u32(off + 76, 0).u32(off + 80, 4096);
}

/** fuse_entry_out (128 bytes): nodeid, generation, entry/attr timeouts 0 so nothing is cached. */
export function entryOut(a: Attr): Uint8Array {
  const o = new Out(128);
  o.u64(0, a.ino).u64(8, 0).u64(16, 0).u64(24, 0);
  writeAttr(o, 40, a);
  return o.buf;
}

/** fuse_attr_out (104 bytes), attr timeout 0. */
export function attrOut(a: Attr): Uint8Array {
  const o = new Out(104);
  writeAttr(o, 16, a);
  return o.buf;
}

export function openOut(fh: number, flags: number): Uint8Array {
  return new Out(16).u64(0, fh).u32(8, flags).buf;
}

export function writeOut(size: number): Uint8Array {
  return new Out(8).u32(0, size).buf;
}

/** fuse_init_out (64 bytes). */
export function initOut(flags: number, maxWrite: number): Uint8Array {
  const o = new Out(64);
  o.u32(0, FUSE_KERNEL_VERSION).u32(4, FUSE_KERNEL_MINOR).u32(8, 0).u32(12, flags);
  o.u16(16, 16).u16(18, 12).u32(20, maxWrite).u32(24, 1).u16(28, Math.ceil(maxWrite / 4096));
  return o.buf;
}

/** fuse_kstatfs inside fuse_statfs_out (80 bytes). */
export function statfsOut(): Uint8Array {
  return new Out(80).u32(40, 4096).u32(44, 255).u32(48, 4096).buf;
}

/** fuse_ioctl_out (16 bytes) then the _IOR data. */
export function ioctlOut(result: number, data?: Uint8Array): Uint8Array {
  const o = new Out(16 + (data?.length ?? 0));
  o.i32(0, result);
  if (data) o.buf.set(data, 16);
  return o.buf;
}

/** One struct fuse_dirent, padded to 8 bytes. */
export function dirent(ino: bigint, off: number, type: number, name: string): Uint8Array {
  const n = Buffer.from(name, "utf8");
  const size = (24 + n.length + 7) & ~7;
  const o = new Out(size);
  o.u64(0, ino).u64(8, off).u32(16, n.length).u32(20, type);
  o.buf.set(n, 24);
  return o.buf;
}
