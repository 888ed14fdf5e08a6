/**
 * The rpmsg_char / rpmsg_ctrl view (drivers/rpmsg/rpmsg_char.c, rpmsg_ctrl.c)
 * over the library's endpoints, so /dev/rpmsg_ctrlN and /dev/rpmsgN are a
 * thin layer: createEpt is RPMSG_CREATE_EPT_IOCTL (the eptdev exists, the
 * endpoint only at open), open/read/write/poll/close/destroy keep the
 * kernel's errnos (EBUSY single opener, EPIPE when the endpoint is gone,
 * EMSGSIZE > 496, EAGAIN non-blocking, a read truncated to the user buffer
 * with the rest discarded, EINVAL destroying a default endpoint).
 */
import { RprocError } from "../errors.js";
import type { RpmsgHost } from "./host.js";
import type { RpmsgEndpoint } from "./endpoint.js";
import { RPMSG_NAME_SIZE } from "./wire.js";

/** struct rpmsg_endpoint_info (uapi): name[32], src, dst. */
export interface RpmsgEndpointInfo {
  name: string;
  src: number;
  dst: number;
}

export const RPMSG_CREATE_EPT_IOCTL = 0x4028b501;
export const RPMSG_DESTROY_EPT_IOCTL = 0xb502;

/** /dev/rpmsg_ctrlN of one vdev's bus. */
export class RpmsgCtrl {
  private next = 0;
  readonly eptdevs = new Map<number, RpmsgEptdev>();

  constructor(
    readonly host: RpmsgHost,
    readonly vdev = 0,
  ) {}

  /** RPMSG_CREATE_EPT_IOCTL: a new eptdev (/dev/rpmsgJ, J the lowest free index); name[31] forced to NUL. */
  createEpt(info: RpmsgEndpointInfo): RpmsgEptdev {
    while (this.eptdevs.has(this.next)) this.next++;
    const dev = new RpmsgEptdev(this, this.next, { name: info.name.slice(0, RPMSG_NAME_SIZE - 1), src: info.src >>> 0, dst: info.dst >>> 0 }, undefined);
    this.eptdevs.set(dev.index, dev);
    return dev;
  }

  /** The eptdev rpmsg_chrdev creates for an `rpmsg-raw` channel: bound to the channel's default endpoint. */
  defaultEptdev(ept: RpmsgEndpoint): RpmsgEptdev {
    while (this.eptdevs.has(this.next)) this.next++;
    const dev = new RpmsgEptdev(this, this.next, { name: ept.name, src: ept.addr, dst: ept.dst }, ept);
    this.eptdevs.set(dev.index, dev);
    return dev;
  }

  /** @internal */
  forget(dev: RpmsgEptdev): void {
    this.eptdevs.delete(dev.index);
    if (dev.index < this.next) this.next = dev.index;
  }
}

/** /dev/rpmsgJ. */
export class RpmsgEptdev {
  private ept: RpmsgEndpoint | undefined;
  private destroyed = false;

  constructor(
    readonly ctrl: RpmsgCtrl,
    readonly index: number,
    readonly info: RpmsgEndpointInfo,
    private readonly defaultEpt: RpmsgEndpoint | undefined,
  ) {}

  get path(): string {
    return `/dev/rpmsg${this.index}`;
  }

  get isOpen(): boolean {
    return this.ept !== undefined;
  }

  /** rpmsg_eptdev_open: creates the endpoint (src ANY → 0x400 up), or takes the default one. */
  open(): void {
    if (this.destroyed) throw new RprocError("ENODEV", `${this.path} is destroyed`);
    if (this.ept) throw new RprocError("EBUSY", `${this.path} is already open`);
    if (this.defaultEpt) {
      if (this.defaultEpt.closed) throw new RprocError("EINVAL", `${this.path}: its endpoint is gone`);
      this.ept = this.defaultEpt;
      return;
    }
    try {
      this.ept = this.ctrl.host.createEndpoint({ ...this.info, vdev: this.ctrl.vdev });
    } catch (e) {
      throw new RprocError("EINVAL", `failed to create endpoint: ${e instanceof Error ? e.message : String(e)}`, { field: "src", value: this.info.src });
    }
  }

  private live(): RpmsgEndpoint {
    if (!this.ept || this.ept.closed) throw new RprocError("EPIPE", `${this.path}: endpoint is gone`);
    return this.ept;
  }

  /** write(): one message to info.dst; EAGAIN when non-blocking and no TX buffer. */
  async write(data: Uint8Array, opts: { nonblock?: boolean; timeoutMs?: number } = {}): Promise<number> {
    const ept = this.live();
    if (opts.nonblock) {
      try {
        ept.trySend(data, { dst: this.info.dst });
      } catch (e) {
        if (e instanceof RprocError && e.code === "ENOMEM") throw new RprocError("EAGAIN", `${this.path}: no TX buffer`);
        throw e;
      }
    } else await ept.send(data, { dst: this.info.dst, ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}) });
    return data.length;
  }

  /** read(): one queued message, truncated to `size` (the rest is discarded); EAGAIN non-blocking and empty. */
  async read(size: number, opts: { nonblock?: boolean } = {}): Promise<Uint8Array> {
    const ept = this.live();
    const m = ept.poll() ?? (opts.nonblock ? undefined : await ept.receive());
    if (!m) {
      if (ept.closed) throw new RprocError("EPIPE", `${this.path}: endpoint is gone`);
      throw new RprocError("EAGAIN", `${this.path}: no message queued`);
    }
    return m.data.subarray(0, Math.max(0, size));
  }

  /** poll(): EPOLLIN when a message is queued, EPOLLOUT when a TX buffer is free, EPOLLERR when the endpoint is gone. */
  poll(): { in: boolean; out: boolean; err: boolean } {
    const ept = this.ept;
    if (!ept || ept.closed) return { in: false, out: false, err: true };
    const bus = this.ctrl.host.bus(this.ctrl.vdev);
    return { in: ept.queued > 0, out: bus !== undefined && bus.txAvailable() > 0, err: false };
  }

  /** close(): destroys the endpoint unless it is the channel's default one. */
  close(): void {
    if (this.ept && this.ept !== this.defaultEpt) this.ept.close();
    this.ept = undefined;
  }

  /** RPMSG_DESTROY_EPT_IOCTL: EINVAL on a default endpoint. */
  destroy(): void {
    if (this.defaultEpt) throw new RprocError("EINVAL", `${this.path}: a default endpoint cannot be destroyed`);
    this.close();
    this.destroyed = true;
    this.ctrl.forget(this);
  }
}
