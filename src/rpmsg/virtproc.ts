/**
 * One rpmsg bus instance over one vdev (struct virtproc_info,
 * drivers/rpmsg/virtio_rpmsg_bus.c): its buffers, its two virtqueues, its
 * endpoints (idr from 1024) and the channels the name service created.
 * Everything the remote writes (used lengths, headers, announcements) is
 * checked before use; bad input is dropped with the kernel's message.
 */
import { RprocError } from "../errors.js";
import type { RprocVirtioDevice, VirtQueue, CoherentBuffer } from "../core/virtio-device.js";
import { RpmsgEndpoint, type EndpointBackend, type RpmsgMessage } from "./endpoint.js";
import { rpmsgDriverFor } from "./drivers.js";
import {
  MAX_RPMSG_BUF_SIZE,
  MAX_RPMSG_NUM_BUFS,
  RPMSG_ADDR_ANY,
  RPMSG_HDR,
  RPMSG_MTU,
  RPMSG_NS_ADDR,
  RPMSG_NS_DESTROY,
  RPMSG_NS_MSG,
  RPMSG_RESERVED_ADDRESSES,
  VIRTIO_RPMSG_F_NS,
  addrD,
  decodeHdr,
  decodeNs,
  encodeMessage,
} from "./wire.js";

export interface RpmsgChannel {
  /** Device name, virtio<M>.<name>.<src %d>.<dst %d> as rpmsg_register_device names it (src ANY: -1). */
  id: string;
  name: string;
  vdev: number;
  /** The local address the bound driver's endpoint got (RPMSG_ADDR_ANY when no driver binds). */
  src: number;
  /** The remote endpoint that announced it. */
  dst: number;
  driver: string | null;
  note: string;
  /** The bound driver's endpoint (what /dev/ttyRPMSGn or /dev/rpmsgN would use), when a driver binds. */
  endpoint: RpmsgEndpoint | undefined;
}

export interface RpmsgTraffic {
  direction: "rx" | "tx";
  vdev: number;
  src: number;
  dst: number;
  data: Uint8Array;
}

export interface VirtprocHooks {
  diag(severity: "error" | "warning" | "info", code: string, message: string): void;
  channelAdded(ch: RpmsgChannel): void;
  channelRemoved(ch: RpmsgChannel): void;
  traffic(t: RpmsgTraffic): void;
}

export class Virtproc implements EndpointBackend {
  readonly numBufs: number;
  readonly bufSize = MAX_RPMSG_BUF_SIZE;
  readonly rvq: VirtQueue;
  readonly svq: VirtQueue;
  readonly bufs: CoherentBuffer;
  readonly channels: RpmsgChannel[] = [];
  private readonly endpoints = new Map<number, RpmsgEndpoint>();
  private readonly nsEpt: RpmsgEndpoint | undefined;
  private lastSbuf = 0;
  private sleepers = 0;
  private readonly sendq: (() => void)[] = [];
  private removed = false;

  /** rpmsg_probe, in mainline's order; the caller (the virtio bus) sets DRIVER_OK when probe returns without it. */
  constructor(
    readonly vdev: RprocVirtioDevice,
    private readonly hooks: VirtprocHooks,
  ) {
    [this.rvq, this.svq] = vdev.findVqs(["input", "output"], [() => this.recvDone(), () => this.xmitDone()]) as [VirtQueue, VirtQueue];
    if (this.rvq.num !== this.svq.num) hooks.diag("warning", "rpmsg-asymmetric-vrings", `WARN_ON: vring sizes differ (${this.rvq.num} vs ${this.svq.num})`);
    this.numBufs = this.rvq.num < MAX_RPMSG_NUM_BUFS / 2 ? this.rvq.num * 2 : MAX_RPMSG_NUM_BUFS;
    try {
      this.bufs = vdev.allocCoherent(this.numBufs * this.bufSize);
    } catch (e) {
      vdev.delVqs();
      throw e;
    }
    try {
      // The first half of the buffers is for RX: every one goes into vq0 as a device-writable buffer.
      for (let i = 0; i < this.numBufs / 2; i++) this.rvq.ring.add(this.bufs.dma + i * this.bufSize, this.bufSize, true, i);
      this.svq.ring.disableCb();
      if (vdev.hasFeature(VIRTIO_RPMSG_F_NS)) this.nsEpt = this.createEndpoint(RPMSG_NS_ADDR, RPMSG_ADDR_ANY, "rpmsg_ns", false, (m) => this.nsCb(m));
      const notify = this.rvq.ring.kickPrepare();
      vdev.ready();
      if (notify) this.rvq.notify();
    } catch (e) {
      // rpmsg_probe's unwind: free_coherent, then vqs_del.
      this.removed = true;
      this.bufs.free();
      vdev.delVqs();
      throw e;
    }
    hooks.diag("info", "rpmsg-host-online", "rpmsg host is online");
  }

  /** rpmsg_remove: reset, channels and endpoints gone, vqs deleted, buffers freed. */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    this.vdev.reset();
    for (const ch of [...this.channels]) this.releaseChannel(ch);
    for (const ept of [...this.endpoints.values()]) this.destroy(ept);
    for (const w of this.sendq.splice(0)) w();
    this.vdev.delVqs();
    this.bufs.free();
  }

  get isRemoved(): boolean {
    return this.removed;
  }

  /** Free TX buffers right now (fresh ones not yet used plus used ones the remote returned). */
  txAvailable(): number {
    return this.numBufs / 2 - this.lastSbuf + (this.svq.ring.moreUsed() ? 1 : 0);
  }

  /** rpmsg_create_ept: `addr` ANY takes the lowest free address from 1024 (idr_alloc(1024, 0)). */
  createEndpoint(addr: number, dst: number, name: string, queueing = true, cb?: (m: RpmsgMessage) => void): RpmsgEndpoint {
    if (this.removed) throw new RprocError("ENODEV", "rpmsg device is gone");
    let a = addr;
    if (a === RPMSG_ADDR_ANY) {
      a = RPMSG_RESERVED_ADDRESSES;
      while (this.endpoints.has(a)) a++;
    } else if (this.endpoints.has(a)) {
      throw new RprocError("EBUSY", `idr_alloc failed: address 0x${a.toString(16)} in use`, { field: "src", value: a });
    }
    const ept = new RpmsgEndpoint(a >>> 0, dst >>> 0, name, this, queueing);
    if (cb) ept.onMessage(cb);
    this.endpoints.set(ept.addr, ept);
    return ept;
  }

  /** __rpmsg_destroy_ept. */
  destroy(ept: RpmsgEndpoint): void {
    if (this.endpoints.get(ept.addr) === ept) this.endpoints.delete(ept.addr);
    ept.markClosed();
  }

  endpointCount(): number {
    return this.endpoints.size;
  }

  /** rpmsg_send_offchannel_raw. Synchronous unless it has to wait for a TX buffer. */
  send(ept: RpmsgEndpoint, dst: number, data: Uint8Array, wait: boolean, timeoutMs: number): Promise<void> | void {
    const src = ept.addr;
    if (src === RPMSG_ADDR_ANY || dst === RPMSG_ADDR_ANY) throw this.err("EINVAL", `invalid addr (src 0x${src.toString(16)}, dst 0x${(dst >>> 0).toString(16)})`);
    if (data.length > RPMSG_MTU) throw this.err("EMSGSIZE", `message is too big (${data.length})`, data.length, RPMSG_MTU);
    if (this.removed) throw this.err("ENODEV", "rpmsg device is gone");
    const buf = this.getTxBuf();
    if (buf !== undefined) return this.post(buf, src, dst, data);
    if (!wait) throw this.err("ENOMEM", "no TX buffer available", undefined, undefined, "warning");
    return this.waitAndSend(ept, src, dst, data, timeoutMs);
  }

  private async waitAndSend(ept: RpmsgEndpoint, src: number, dst: number, data: Uint8Array, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // rpmsg_upref_sleepers: the first sleeper turns TX-complete interrupts on.
      if (++this.sleepers === 1 && !this.svq.ring.enableCb()) this.xmitDone();
      const left = deadline - Date.now();
      const woke = left > 0 && (await this.sleep(left));
      if (--this.sleepers === 0 && !this.removed) this.svq.ring.disableCb();
      if (this.removed || ept.closed) throw this.err("EPIPE", "endpoint or device went away while waiting for a TX buffer");
      const buf = this.getTxBuf();
      if (buf !== undefined) return this.post(buf, src, dst, data);
      if (!woke) throw this.err("ERESTARTSYS", "timeout waiting for a tx buffer");
    }
  }

  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waker = (): void => {
        clearTimeout(t);
        resolve(true);
      };
      const t = setTimeout(() => {
        const i = this.sendq.indexOf(waker);
        if (i >= 0) this.sendq.splice(i, 1);
        resolve(false);
      }, ms);
      this.sendq.push(waker);
    });
  }

  /** get_a_tx_buf: a fresh TX buffer while some are left, else one the remote returned on vq1. */
  private getTxBuf(): number | undefined {
    if (this.lastSbuf < this.numBufs / 2) return this.numBufs / 2 + this.lastSbuf++;
    const u = this.svq.ring.getBuf();
    return u?.token;
  }

  private post(buf: number, src: number, dst: number, data: Uint8Array): void {
    const msg = encodeMessage(src, dst, data);
    this.bufs.va.write(buf * this.bufSize, msg);
    const err = this.svq.ring.add(this.bufs.dma + buf * this.bufSize, msg.length, false, buf);
    if (err) throw this.err("EIO", `virtqueue_add_outbuf failed: ${err}`);
    this.hooks.traffic({ direction: "tx", vdev: this.vdev.index, src, dst, data });
    this.svq.kick();
  }

  /** rpmsg_xmit_done: wake the senders waiting for a buffer. */
  private xmitDone(): void {
    for (const w of this.sendq.splice(0)) w();
  }

  /** rpmsg_recv_done: every used RX buffer, dispatched and given back; one kick after the batch. */
  private recvDone(): void {
    let received = 0;
    for (let u = this.rvq.ring.getBuf(); u; u = this.rvq.ring.getBuf()) {
      if (!this.recvSingle(u.token, u.len)) break;
      received++;
    }
    if (received) this.rvq.kick();
  }

  private recvSingle(token: number, len: number): boolean {
    const off = token * this.bufSize;
    // The kernel checks len > 512 and hdr.len > len - 16 (unsigned: a len below 16 wraps and passes,
    // and the payload would then be read past the buffer); rproc refuses that case too.
    const hdr = decodeHdr(this.bufs.va.read(off, RPMSG_HDR.SIZE));
    if (len > this.bufSize || len < RPMSG_HDR.SIZE || hdr.len > len - RPMSG_HDR.SIZE) {
      // As the kernel: the buffer is not given back and the batch stops.
      this.hooks.diag("warning", "rpmsg-inbound-too-big", `inbound msg too big: (${len}, ${hdr.len})`);
      return false;
    }
    const data = this.bufs.va.read(off + RPMSG_HDR.SIZE, hdr.len).slice();
    this.hooks.traffic({ direction: "rx", vdev: this.vdev.index, src: hdr.src, dst: hdr.dst, data });
    const ept = this.endpoints.get(hdr.dst);
    if (ept) ept.deliver({ src: hdr.src, dst: hdr.dst, data });
    else this.hooks.diag("warning", "rpmsg-no-recipient", `msg received with no recipient (src 0x${hdr.src.toString(16)}, dst 0x${hdr.dst.toString(16)})`);
    const err = this.rvq.ring.add(this.bufs.dma + off, this.bufSize, true, token);
    if (err) {
      this.hooks.diag("error", "rpmsg-add-inbuf-failed", `failed to add a virtqueue buffer: ${err}`);
      return false;
    }
    return true;
  }

  /** rpmsg_ns_cb. */
  private nsCb(m: RpmsgMessage): void {
    if (m.data.length !== RPMSG_NS_MSG.SIZE) {
      this.hooks.diag("error", "rpmsg-malformed-ns", `malformed ns msg (${m.data.length})`);
      return;
    }
    const ns = decodeNs(m.data);
    const destroy = (ns.flags & RPMSG_NS_DESTROY) !== 0;
    this.hooks.diag("info", "rpmsg-ns", `${destroy ? "destroy" : "creat"}ing channel ${ns.name} addr 0x${ns.addr.toString(16)}`);
    if (destroy) {
      const ch = this.channels.find((c) => c.name === ns.name && c.dst === ns.addr);
      if (ch) this.releaseChannel(ch);
      else this.hooks.diag("error", "rpmsg-destroy-channel-failed", "rpmsg_destroy_channel failed: -22");
      return;
    }
    if (this.channels.some((c) => c.name === ns.name && c.dst === ns.addr)) {
      this.hooks.diag("error", "rpmsg-channel-exists", `channel ${ns.name}:${RPMSG_ADDR_ANY.toString(16)}:${ns.addr.toString(16)} already exist`);
      this.hooks.diag("error", "rpmsg-create-channel-failed", "rpmsg_create_channel failed");
      return;
    }
    this.createChannel(ns.name, ns.addr);
  }

  /** rpmsg_create_channel + the bus probe of the matching driver, which creates the channel's endpoint. */
  private createChannel(name: string, dst: number): RpmsgChannel {
    const match = rpmsgDriverFor(name);
    const ch: RpmsgChannel = {
      id: `virtio${this.vdev.index}.${name}.${addrD(RPMSG_ADDR_ANY)}.${addrD(dst)}`,
      name,
      vdev: this.vdev.index,
      src: RPMSG_ADDR_ANY,
      dst,
      driver: match.driver,
      note: match.note,
      endpoint: undefined,
    };
    if (match.driver) {
      ch.endpoint = this.createEndpoint(RPMSG_ADDR_ANY, dst, name);
      ch.src = ch.endpoint.addr;
    }
    this.channels.push(ch);
    this.hooks.channelAdded(ch);
    return ch;
  }

  /** rpmsg_release_channel: the driver's remove destroys its endpoint. */
  private releaseChannel(ch: RpmsgChannel): void {
    const i = this.channels.indexOf(ch);
    if (i >= 0) this.channels.splice(i, 1);
    if (ch.endpoint) this.destroy(ch.endpoint);
    this.hooks.channelRemoved(ch);
  }

  private err(code: "EINVAL" | "EMSGSIZE" | "ENOMEM" | "ENODEV" | "EIO" | "EPIPE" | "ERESTARTSYS", message: string, value?: number, limit?: number, severity: "error" | "warning" = "error"): RprocError {
    this.hooks.diag(severity, `rpmsg-send-${code.toLowerCase()}`, message);
    return new RprocError(code, message, { field: "rpmsg.send", ...(value !== undefined ? { value } : {}), ...(limit !== undefined ? { limit } : {}) });
  }
}
