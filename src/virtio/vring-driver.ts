/**
 * The driver (host) side of a split virtqueue, as drivers/virtio/virtio_ring.c
 * runs it for one-descriptor buffers (all rpmsg uses): add_inbuf/add_outbuf,
 * kick_prepare, get_buf, enable_cb/disable_cb, with or without EVENT_IDX.
 *
 * The remote writes only the used ring. Descriptor contents and each head's
 * token stay on the host (the kernel's desc_extra/desc_state), so a hostile
 * used ring can name a wrong head or a wrong length, never make the host read
 * an address it did not choose. A bad head marks the queue broken as
 * BAD_RING does, with the kernel's text as a diagnostic.
 */
import { RprocError } from "../errors.js";
import {
  VRING_AVAIL_F_NO_INTERRUPT,
  VRING_DESC,
  VRING_DESC_F_WRITE,
  VRING_USED_ELEM,
  VRING_USED_F_NO_NOTIFY,
  rd16,
  rd32,
  vringLayout,
  vringNeedEvent,
  wr16,
  wr32,
  wr64,
  type RingMemory,
  type VringLayout,
} from "./layout.js";

export type VringDiag = (code: string, message: string) => void;

export interface VringDriverOptions {
  /** The queue's name ("input", "output"): BAD_RING prefixes its messages with it. */
  name: string;
  /** VIRTIO_RING_F_EVENT_IDX negotiated. */
  eventIdx?: boolean;
  onDiag?: VringDiag;
}

export class VringDriver<T> {
  readonly layout: VringLayout;
  readonly name: string;
  /** Set once the remote wrote something impossible; the queue then stops (vq->broken). */
  broken = false;
  private readonly eventIdx: boolean;
  private readonly onDiag: VringDiag;
  private readonly tokens: (T | undefined)[];
  private readonly nextFree: Uint16Array;
  private freeHead = 0;
  private numFree: number;
  private availIdxShadow = 0;
  private availFlagsShadow = 0;
  private numAdded = 0;
  private lastUsedIdx = 0;

  /** vring_new_virtqueue over memory the caller zeroed (rproc_virtio_find_vqs clears it first). */
  constructor(
    readonly mem: RingMemory,
    num: number,
    align: number,
    opts: VringDriverOptions,
  ) {
    this.layout = vringLayout(num, align);
    if (this.layout.size > mem.len) throw new RprocError("EINVAL", `vring of ${num} needs ${this.layout.size} bytes, its memory has ${mem.len}`, { field: "vring.num", value: this.layout.size, limit: mem.len });
    this.name = opts.name;
    this.eventIdx = opts.eventIdx ?? false;
    this.onDiag = opts.onDiag ?? (() => {});
    this.tokens = new Array<T | undefined>(num).fill(undefined);
    this.nextFree = new Uint16Array(num);
    for (let i = 0; i < num; i++) this.nextFree[i] = i + 1;
    this.numFree = num;
  }

  get num(): number {
    return this.layout.num;
  }

  get free(): number {
    return this.numFree;
  }

  /** virtqueue_add_inbuf (device-writable) / virtqueue_add_outbuf: 0, or -28 (ENOSPC) when the ring is full, -5 (EIO) when broken. */
  add(addr: number, len: number, deviceWritable: boolean, token: T): number {
    if (this.broken) return -5;
    if (this.numFree === 0) return -28;
    const L = this.layout;
    const head = this.freeHead;
    const d = L.desc + head * VRING_DESC.SIZE;
    wr64(this.mem, d + VRING_DESC.addr.off, addr);
    wr32(this.mem, d + VRING_DESC.len.off, len);
    wr16(this.mem, d + VRING_DESC.flags.off, deviceWritable ? VRING_DESC_F_WRITE : 0);
    wr16(this.mem, d + VRING_DESC.next.off, 0);
    this.freeHead = this.nextFree[head]!;
    this.numFree--;
    this.tokens[head] = token;
    wr16(this.mem, L.availRing + 2 * (this.availIdxShadow & (L.num - 1)), head);
    // virtio_wmb: the entry is visible before the index that publishes it.
    this.availIdxShadow = (this.availIdxShadow + 1) & 0xffff;
    wr16(this.mem, L.avail + 2, this.availIdxShadow);
    this.numAdded++;
    return 0;
  }

  /** virtqueue_kick_prepare_split: does the device want a notification for what was added since the last call? */
  kickPrepare(): boolean {
    const L = this.layout;
    const newIdx = this.availIdxShadow;
    const oldIdx = (newIdx - this.numAdded) & 0xffff;
    this.numAdded = 0;
    if (this.eventIdx) return vringNeedEvent(rd16(this.mem, L.availEvent), newIdx, oldIdx);
    return (rd16(this.mem, L.used) & VRING_USED_F_NO_NOTIFY) === 0;
  }

  /** Used entries not yet taken (more_used_split), with the jump check a hostile index needs. */
  moreUsed(): boolean {
    if (this.broken) return false;
    const usedIdx = rd16(this.mem, this.layout.used + 2);
    const pending = (usedIdx - this.lastUsedIdx) & 0xffff;
    if (pending > this.layout.num) {
      this.badRing(`used index ${usedIdx} is ${pending} entries past ${this.lastUsedIdx}, beyond the ring size ${this.layout.num}`);
      return false;
    }
    return pending !== 0;
  }

  /** virtqueue_get_buf: the next used buffer's token and the length the device wrote, or undefined. */
  getBuf(): { token: T; len: number } | undefined {
    if (!this.moreUsed()) return undefined;
    const L = this.layout;
    const e = L.usedRing + VRING_USED_ELEM.SIZE * (this.lastUsedIdx & (L.num - 1));
    const id = rd32(this.mem, e + VRING_USED_ELEM.id.off);
    const len = rd32(this.mem, e + VRING_USED_ELEM.len.off);
    if (id >= L.num) {
      this.badRing(`id ${id} out of range`);
      return undefined;
    }
    const token = this.tokens[id];
    if (token === undefined) {
      this.badRing(`id ${id} is not a head!`);
      return undefined;
    }
    // detach_buf_split: the descriptor goes back on the free list.
    this.tokens[id] = undefined;
    this.nextFree[id] = this.freeHead;
    this.freeHead = id;
    this.numFree++;
    this.lastUsedIdx = (this.lastUsedIdx + 1) & 0xffff;
    if (this.eventIdx && !(this.availFlagsShadow & VRING_AVAIL_F_NO_INTERRUPT)) wr16(this.mem, L.usedEvent, this.lastUsedIdx);
    return { token, len };
  }

  /** virtqueue_disable_cb_split. */
  disableCb(): void {
    if (this.availFlagsShadow & VRING_AVAIL_F_NO_INTERRUPT) return;
    this.availFlagsShadow |= VRING_AVAIL_F_NO_INTERRUPT;
    // The kernel's own "hack": with EVENT_IDX, an event index a full ring away.
    if (this.eventIdx) wr16(this.mem, this.layout.usedEvent, (this.lastUsedIdx + this.layout.num) & 0xffff);
    else wr16(this.mem, this.layout.avail, this.availFlagsShadow);
  }

  /** virtqueue_enable_cb: true when nothing is pending (no race to handle). */
  enableCb(): boolean {
    if (this.availFlagsShadow & VRING_AVAIL_F_NO_INTERRUPT) {
      this.availFlagsShadow &= ~VRING_AVAIL_F_NO_INTERRUPT;
      if (!this.eventIdx) wr16(this.mem, this.layout.avail, this.availFlagsShadow);
    }
    if (this.eventIdx) wr16(this.mem, this.layout.usedEvent, this.lastUsedIdx);
    return !this.moreUsed();
  }

  /** Used entries the device returned and the driver has not taken yet (0 when broken or impossible). */
  usedPending(): number {
    if (this.broken) return 0;
    const pending = (rd16(this.mem, this.layout.used + 2) - this.lastUsedIdx) & 0xffff;
    return pending > this.layout.num ? 0 : pending;
  }

  /** Buffers the device holds (added and not yet returned). */
  inFlight(): number {
    return this.layout.num - this.numFree;
  }

  /** Every token still owned by the device (virtqueue_detach_unused_buf at teardown). */
  detachUnused(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.tokens.length; i++) {
      const t = this.tokens[i];
      if (t !== undefined) out.push(t);
      this.tokens[i] = undefined;
    }
    return out;
  }

  private badRing(message: string): void {
    this.broken = true;
    // BAD_RING(): dev_err(&vdev->dev, "%s:" fmt, vq->vq.name, ...), then vq->broken = true.
    this.onDiag("vring-bad-ring", `${this.name}:${message}`);
  }
}
