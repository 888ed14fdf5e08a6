/**
 * The split virtqueue as include/uapi/linux/virtio_ring.h lays it out, as
 * field tables in one place (switch to src/formats/struct.ts once it lands),
 * plus the memory a ring lives in. Little-endian: a remoteproc vdev is a
 * legacy virtio device, so the ring uses the host's byte order (LE on Arm).
 */

/** A field: byte offset and width (1, 2, 4 or 8) inside its struct. */
export interface Field {
  readonly off: number;
  readonly size: 1 | 2 | 4 | 8;
}

function struct<T extends Record<string, Field>>(size: number, fields: T): T & { readonly SIZE: number } {
  return Object.freeze({ ...fields, SIZE: size });
}

/** struct vring_desc (16 bytes). */
export const VRING_DESC = struct(16, {
  addr: { off: 0, size: 8 },
  len: { off: 8, size: 4 },
  flags: { off: 12, size: 2 },
  next: { off: 14, size: 2 },
});

/** struct vring_avail header; ring[num] (u16) follows at 4, then used_event. */
export const VRING_AVAIL = struct(4, { flags: { off: 0, size: 2 }, idx: { off: 2, size: 2 } });

/** struct vring_used header; ring[num] of vring_used_elem follows at 4, then avail_event. */
export const VRING_USED = struct(4, { flags: { off: 0, size: 2 }, idx: { off: 2, size: 2 } });

/** struct vring_used_elem (8 bytes). */
export const VRING_USED_ELEM = struct(8, { id: { off: 0, size: 4 }, len: { off: 4, size: 4 } });

export const VRING_DESC_F_NEXT = 1;
export const VRING_DESC_F_WRITE = 2;
export const VRING_DESC_F_INDIRECT = 4;
export const VRING_AVAIL_F_NO_INTERRUPT = 1;
export const VRING_USED_F_NO_NOTIFY = 1;
export const VIRTIO_RING_F_INDIRECT_DESC = 28;
export const VIRTIO_RING_F_EVENT_IDX = 29;
/** Largest queue a split ring can index (u16 ring indexes). */
export const VRING_MAX_NUM = 32768;

/** Where each part of a vring of `num` entries aligned to `align` lies (vring_init). */
export interface VringLayout {
  num: number;
  align: number;
  desc: number;
  avail: number;
  availRing: number;
  usedEvent: number;
  used: number;
  usedRing: number;
  availEvent: number;
  /** vring_size(num, align). */
  size: number;
}

/** vring_init()'s offsets; `num` a power of two ≤ 32768 and `align` a power of two, as the caller checked. */
export function vringLayout(num: number, align: number): VringLayout {
  const availEnd = 16 * num + 2 * (3 + num);
  const used = Math.ceil(availEnd / align) * align;
  return {
    num,
    align,
    desc: 0,
    avail: 16 * num,
    availRing: 16 * num + 4,
    usedEvent: 16 * num + 4 + 2 * num,
    used,
    usedRing: used + 4,
    availEvent: used + 4 + 8 * num,
    size: used + 6 + 8 * num,
  };
}

/** Why (num, align) cannot describe a vring, or undefined when it can (vring_create_virtqueue's "Bad virtqueue length"). */
export function vringGeometryError(num: number, align: number): string | undefined {
  if (!Number.isSafeInteger(num) || num <= 0 || num > VRING_MAX_NUM || (num & (num - 1)) !== 0) return `Bad virtqueue length ${num}`;
  if (!Number.isSafeInteger(align) || align <= 0 || align > 0x10000000 || (align & (align - 1)) !== 0) return `Bad vring alignment ${align}`;
  return undefined;
}

/**
 * A window of memory a ring or a buffer lives in: `len` bytes, accessed by
 * offset. MemView (host world or a core's own view) satisfies it; tests use
 * a plain byte array.
 */
export interface RingMemory {
  readonly len: number;
  read(off: number, len: number): Uint8Array;
  write(off: number, data: Uint8Array): void;
}

/** A RingMemory over a Uint8Array (tests, benchmarks). */
export function bytesMemory(bytes: Uint8Array): RingMemory {
  return {
    len: bytes.length,
    read: (off, len) => bytes.subarray(off, off + len),
    write: (off, data) => bytes.set(data, off),
  };
}

export function rd16(m: RingMemory, off: number): number {
  const b = m.read(off, 2);
  return b[0]! | (b[1]! << 8);
}

export function rd32(m: RingMemory, off: number): number {
  const b = m.read(off, 4);
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

/** A 64-bit field as a number, or undefined when it is above 2^53 (no address of ours is). */
export function rd64(m: RingMemory, off: number): number | undefined {
  const lo = rd32(m, off);
  const hi = rd32(m, off + 4);
  return hi >= 0x200000 ? undefined : hi * 0x100000000 + lo;
}

export function wr16(m: RingMemory, off: number, v: number): void {
  m.write(off, Uint8Array.of(v & 0xff, (v >>> 8) & 0xff));
}

export function wr32(m: RingMemory, off: number, v: number): void {
  m.write(off, Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff));
}

export function wr64(m: RingMemory, off: number, v: number): void {
  wr32(m, off, v % 0x100000000);
  wr32(m, off + 4, Math.floor(v / 0x100000000));
}

/** vring_need_event(): should the other side be told, given its event index and our index moving old → new? */
export function vringNeedEvent(eventIdx: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}

/**
 * The address space descriptors point into: the vdev's shared memory as a
 * list of windows (base address as written in descriptors, length, memory).
 * `view` answers only for a range wholly inside one window.
 */
export class SharedMemory {
  private readonly windows: { base: number; mem: RingMemory }[] = [];

  add(base: number, mem: RingMemory): this {
    this.windows.push({ base, mem });
    return this;
  }

  /** The window holding [addr, addr+len) and the offset in it, or undefined (outside the shared memory). */
  resolve(addr: number, len: number): { mem: RingMemory; off: number } | undefined {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(len) || addr < 0 || len < 0) return undefined;
    for (const w of this.windows) if (addr >= w.base && len <= w.mem.len && addr - w.base <= w.mem.len - len) return { mem: w.mem, off: addr - w.base };
    return undefined;
  }

  describe(): string {
    return this.windows.map((w) => `0x${w.base.toString(16)}+0x${w.mem.len.toString(16)}`).join(", ") || "none";
  }
}
