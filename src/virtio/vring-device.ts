/**
 * The device (remote) side of a split virtqueue, as OpenAMP's
 * lib/virtio/virtqueue.c runs it in the remote role:
 * virtqueue_get_available_buffer, virtqueue_add_consumed_buffer and
 * vq_ring_must_notify. Here the host is the untrusted writer: every avail
 * index, head and descriptor is checked, and a descriptor is handed out only
 * as a view inside the vdev's shared memory. A bad entry is dropped with a
 * diagnostic; the ring never makes this side read outside that memory.
 */
import {
  VRING_AVAIL_F_NO_INTERRUPT,
  VRING_DESC,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
  VRING_USED_ELEM,
  VRING_USED_F_NO_NOTIFY,
  rd16,
  rd32,
  rd64,
  vringLayout,
  vringNeedEvent,
  wr16,
  wr32,
  type RingMemory,
  type SharedMemory,
  type VringLayout,
} from "./layout.js";
import type { VringDiag } from "./vring-driver.js";

/** One buffer the driver made available: its head, descriptor fields and a view of its bytes. */
export interface AvailBuffer {
  head: number;
  addr: number;
  len: number;
  deviceWritable: boolean;
  mem: RingMemory;
  off: number;
}

export interface VringDeviceOptions {
  name: string;
  eventIdx?: boolean;
  onDiag?: VringDiag;
}

export class VringDevice {
  readonly layout: VringLayout;
  readonly name: string;
  private readonly eventIdx: boolean;
  private readonly onDiag: VringDiag;
  private lastAvailIdx = 0;
  private usedIdxShadow = 0;
  private usedAtLastNotify = 0;
  /** Heads handed out and not yet returned: a second return of one is refused. */
  private readonly outstanding: Uint8Array;

  constructor(
    readonly mem: RingMemory,
    num: number,
    align: number,
    readonly shared: SharedMemory,
    opts: VringDeviceOptions,
  ) {
    this.layout = vringLayout(num, align);
    this.name = opts.name;
    this.eventIdx = opts.eventIdx ?? false;
    this.onDiag = opts.onDiag ?? (() => {});
    this.outstanding = new Uint8Array(num);
  }

  /** Buffers the driver has made available and this side has not taken yet (0 when the index is impossible). */
  pending(): number {
    const availIdx = rd16(this.mem, this.layout.avail + 2);
    const n = (availIdx - this.lastAvailIdx) & 0xffff;
    if (n > this.layout.num) {
      this.onDiag("vring-avail-jump", `${this.name}: avail index ${availIdx} is ${n} entries past ${this.lastAvailIdx}, beyond the ring size ${this.layout.num}: ignored`);
      return 0;
    }
    return n;
  }

  /**
   * virtqueue_get_available_buffer: the next available buffer, or undefined.
   * An entry that cannot be used (head out of range, chained or indirect
   * descriptor, address or length outside the shared memory) is consumed
   * and returned at once with length 0, so the driver gets its descriptor back.
   */
  getAvailable(): AvailBuffer | undefined {
    const L = this.layout;
    while (this.pending() > 0) {
      const slot = this.lastAvailIdx & (L.num - 1);
      this.lastAvailIdx = (this.lastAvailIdx + 1) & 0xffff;
      if (this.eventIdx) wr16(this.mem, L.availEvent, this.lastAvailIdx);
      const head = rd16(this.mem, L.availRing + 2 * slot);
      if (head >= L.num) {
        this.onDiag("vring-bad-head", `${this.name}: avail ring slot ${slot} names descriptor ${head}, ring has ${L.num}: dropped`);
        continue;
      }
      const d = L.desc + head * VRING_DESC.SIZE;
      const addr = rd64(this.mem, d + VRING_DESC.addr.off);
      const len = rd32(this.mem, d + VRING_DESC.len.off);
      const flags = rd16(this.mem, d + VRING_DESC.flags.off);
      const why =
        flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT)
          ? `flags 0x${flags.toString(16)}: chained or indirect descriptors are not used by rpmsg`
          : addr === undefined
            ? "address above 2^53"
            : this.outstanding[head]
              ? "descriptor already held by the device"
              : undefined;
      const where = why === undefined && addr !== undefined ? this.shared.resolve(addr, len) : undefined;
      if (why !== undefined || !where) {
        this.onDiag(
          "vring-bad-desc",
          `${this.name}: descriptor ${head} (addr 0x${(addr ?? 0).toString(16)}, len ${len}) ${why ?? `lies outside the vdev's shared memory (${this.shared.describe()})`}: dropped`,
        );
        if (!this.outstanding[head]) this.writeUsed(head, 0);
        continue;
      }
      this.outstanding[head] = 1;
      return { head, addr: addr!, len, deviceWritable: (flags & VRING_DESC_F_WRITE) !== 0, mem: where.mem, off: where.off };
    }
    return undefined;
  }

  /** virtqueue_add_consumed_buffer: give `head` back with `len` bytes written. False (and a diagnostic) for a head not held. */
  addConsumed(head: number, len: number): boolean {
    if (!Number.isInteger(head) || head < 0 || head >= this.layout.num || !this.outstanding[head]) {
      this.onDiag("vring-bad-consume", `${this.name}: descriptor ${head} is not held by the device: not returned`);
      return false;
    }
    this.outstanding[head] = 0;
    this.writeUsed(head, len);
    return true;
  }

  /** vq_ring_must_notify for the device role: does the driver want an interrupt for what was used since the last notify? */
  mustNotify(): boolean {
    const newIdx = this.usedIdxShadow;
    const oldIdx = this.usedAtLastNotify;
    this.usedAtLastNotify = newIdx;
    if (this.eventIdx) return vringNeedEvent(rd16(this.mem, this.layout.usedEvent), newIdx, oldIdx);
    return (rd16(this.mem, this.layout.avail) & VRING_AVAIL_F_NO_INTERRUPT) === 0;
  }

  /** Ask the driver not to kick (VRING_USED_F_NO_NOTIFY), or to kick again. */
  setNotify(wanted: boolean): void {
    if (this.eventIdx) wr16(this.mem, this.layout.availEvent, wanted ? this.lastAvailIdx : (this.lastAvailIdx - 1) & 0xffff);
    else wr16(this.mem, this.layout.used, wanted ? 0 : VRING_USED_F_NO_NOTIFY);
  }

  private writeUsed(head: number, len: number): void {
    const L = this.layout;
    const e = L.usedRing + VRING_USED_ELEM.SIZE * (this.usedIdxShadow & (L.num - 1));
    wr32(this.mem, e + VRING_USED_ELEM.id.off, head);
    wr32(this.mem, e + VRING_USED_ELEM.len.off, len);
    this.usedIdxShadow = (this.usedIdxShadow + 1) & 0xffff;
    wr16(this.mem, L.used + 2, this.usedIdxShadow);
  }
}
