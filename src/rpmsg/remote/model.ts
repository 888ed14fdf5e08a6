/**
 * A remote rpmsg endpoint set, as OpenAMP's rpmsg_virtio runs it in the
 * remote (device) role: it reads its own resource table, waits for the
 * host's DRIVER_OK, takes gfeatures (NS only when negotiated), sends on
 * vring0 (the host's RX) and receives on vring1 (the host's TX), announces
 * its services with rpmsg_ns and answers messages. It runs through the
 * same vring code as the host, in the device role, over the core's own
 * bus view of memory, so every hostile descriptor is refused.
 */
import { RSC_VDEV, VDEV_OFF, VRING_OFF, VRING_SIZE } from "../../formats/resource-table.js";
import { SharedMemory, rd32, vringGeometryError, vringLayout, type RingMemory } from "../../virtio/layout.js";
import { VringDevice } from "../../virtio/vring-device.js";
import { RPMSG_HDR, RPMSG_MTU, RPMSG_NS_ADDR, RPMSG_NS_CREATE, RPMSG_RESERVED_ADDRESSES, VIRTIO_RPMSG_F_NS, decodeHdr, encodeMessage, encodeNs } from "../wire.js";

const VIRTIO_ID_RPMSG = 7;
const DRIVER_OK = 4;

/** What a service does with a message: the payloads it answers (to the sender), possibly none. */
export type ServiceHandler = (data: Uint8Array, src: number) => Uint8Array[];

export interface RemoteService {
  name: string;
  handler: ServiceHandler;
}

export interface RemoteIo {
  /** The core's own view of [da, da+len) (its bus, its translations), or undefined when it cannot reach it. */
  view(da: number, len: number): RingMemory | undefined;
  /** The firmware's mailbox send: the host gets rproc_vq_interrupt(notifyid). */
  kickHost(notifyid: number): void;
  /** Run later (the firmware's main loop turn); the model never re-enters the host from inside a kick. */
  defer(fn: () => void): void;
  /** Where the firmware's table is (its .resource_table section) and the buffer memory windows it knows. */
  tableDa: number;
  tableLen: number;
  shared: { da: number; len: number }[];
}

interface Link {
  status: number;
  gfeatures: number;
  tx: VringDevice;
  rx: VringDevice;
  txNotify: number;
  rxNotify: number;
}

export interface RemoteStats {
  statusAtFirstKick: number | undefined;
  received: number;
  sent: number;
  dropped: number;
  diags: string[];
}

export class RpmsgRemoteModel {
  readonly stats: RemoteStats = { statusAtFirstKick: undefined, received: 0, sent: 0, dropped: 0, diags: [] };
  private link: Link | undefined;
  private readonly pending: Uint8Array[] = [];
  private scheduled = false;
  private readonly services: { addr: number; svc: RemoteService }[];

  constructor(
    private readonly io: RemoteIo,
    services: RemoteService[],
  ) {
    // OpenAMP endpoints created with RPMSG_ADDR_ANY take addresses from 1024 up.
    this.services = services.map((svc, i) => ({ addr: RPMSG_RESERVED_ADDRESSES + i, svc }));
  }

  get linked(): boolean {
    return this.link !== undefined;
  }

  /** The host kicked us on `notifyid` (the mailbox interrupt). */
  onKick(_notifyid: number): void {
    if (this.stats.statusAtFirstKick === undefined) this.stats.statusAtFirstKick = this.readStatus();
    if (this.scheduled) return;
    this.scheduled = true;
    this.io.defer(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private diag(message: string): void {
    if (this.stats.diags.length < 256) this.stats.diags.push(message);
    this.stats.dropped++;
  }

  private table(): RingMemory | undefined {
    return this.io.view(this.io.tableDa, this.io.tableLen);
  }

  /** Body offset of the rpmsg vdev in the table, or undefined. */
  private vdevOffset(t: RingMemory): number | undefined {
    if (t.len < 16) return undefined;
    const num = rd32(t, 4);
    for (let i = 0; i < num && 16 + 4 * i + 4 <= t.len; i++) {
      const off = rd32(t, 16 + 4 * i);
      if (off + 4 + 24 > t.len) continue;
      if (rd32(t, off) === RSC_VDEV && rd32(t, off + 4 + VDEV_OFF.id) === VIRTIO_ID_RPMSG) return off + 4;
    }
    return undefined;
  }

  private readStatus(): number | undefined {
    const t = this.table();
    const v = t && this.vdevOffset(t);
    return t && v !== undefined ? t.read(v + VDEV_OFF.status, 1)[0] : undefined;
  }

  /** rpmsg_virtio_init_vdev (remote role): once DRIVER_OK is set, build both rings from the table and announce. */
  private tryLink(): boolean {
    const t = this.table();
    const v = t && this.vdevOffset(t);
    if (!t || v === undefined) return false;
    const status = t.read(v + VDEV_OFF.status, 1)[0]!;
    if (!(status & DRIVER_OK)) return false;
    const gfeatures = rd32(t, v + VDEV_OFF.dfeatures) & rd32(t, v + VDEV_OFF.gfeatures);
    const shared = new SharedMemory();
    for (const w of this.io.shared) {
      const m = this.io.view(w.da, w.len);
      if (m) shared.add(w.da, m);
    }
    const rings: VringDevice[] = [];
    const notify: number[] = [];
    for (let i = 0; i < 2; i++) {
      const f = (field: number): number => rd32(t, v + VDEV_OFF.vrings + VRING_SIZE * i + field);
      const [da, num, align] = [f(VRING_OFF.da), f(VRING_OFF.num), f(VRING_OFF.align)];
      const bad = vringGeometryError(num, align);
      const mem = bad ? undefined : this.io.view(da, vringLayout(num, align).size);
      if (!mem) {
        this.diag(`vring${i} at da 0x${da.toString(16)} (num ${num}, align ${align}) is not usable: ${bad ?? "outside the core's memory"}`);
        return false;
      }
      const eventIdx = (gfeatures & (1 << 29)) !== 0;
      rings.push(new VringDevice(mem, num, align, shared, { name: i === 0 ? "tx_vq" : "rx_vq", eventIdx, onDiag: (_c, m) => this.diag(m) }));
      notify.push(f(VRING_OFF.notifyid));
    }
    this.link = { status, gfeatures, tx: rings[0]!, rx: rings[1]!, txNotify: notify[0]!, rxNotify: notify[1]! };
    if (gfeatures & (1 << VIRTIO_RPMSG_F_NS))
      for (const s of this.services) this.pending.push(encodeMessage(s.addr, RPMSG_NS_ADDR, encodeNs(s.svc.name, s.addr, RPMSG_NS_CREATE)));
    return true;
  }

  /** One turn of the firmware loop: receive everything on vring1, answer, flush what waits for host RX buffers. */
  pump(): void {
    if (!this.link && !this.tryLink()) return;
    const l = this.link!;
    let consumed = 0;
    for (let b = l.rx.getAvailable(); b; b = l.rx.getAvailable()) {
      consumed++;
      if (b.len < RPMSG_HDR.SIZE) {
        this.diag(`rx buffer ${b.head} of ${b.len} bytes has no room for a header: dropped`);
        l.rx.addConsumed(b.head, 0);
        continue;
      }
      const hdr = decodeHdr(b.mem.read(b.off, RPMSG_HDR.SIZE));
      if (hdr.len > b.len - RPMSG_HDR.SIZE) {
        this.diag(`message of ${hdr.len} bytes in a ${b.len}-byte buffer: dropped`);
        l.rx.addConsumed(b.head, 0);
        continue;
      }
      const data = b.mem.read(b.off + RPMSG_HDR.SIZE, hdr.len).slice();
      l.rx.addConsumed(b.head, b.len);
      this.stats.received++;
      const s = this.services.find((x) => x.addr === hdr.dst);
      if (!s) {
        this.diag(`message to unknown address 0x${hdr.dst.toString(16)}: dropped`);
        continue;
      }
      for (const reply of s.svc.handler(data, hdr.src)) this.pending.push(encodeMessage(s.addr, hdr.src, reply.subarray(0, RPMSG_MTU)));
    }
    if (consumed && l.rx.mustNotify()) this.io.kickHost(l.rxNotify);
    this.flush();
  }

  /** Send what is queued while the host has RX buffers in vring0; the rest waits for its next kick. */
  private flush(): void {
    const l = this.link!;
    let sent = 0;
    while (this.pending.length) {
      const b = l.tx.getAvailable();
      if (!b) break;
      const msg = this.pending[0]!;
      if (!b.deviceWritable || b.len < msg.length) {
        this.diag(`host RX buffer ${b.head} (${b.len} bytes, ${b.deviceWritable ? "writable" : "read-only"}) cannot hold ${msg.length} bytes: returned unused`);
        l.tx.addConsumed(b.head, 0);
        continue;
      }
      this.pending.shift();
      b.mem.write(b.off, msg);
      l.tx.addConsumed(b.head, msg.length);
      sent++;
    }
    this.stats.sent += sent;
    if (sent && l.tx.mustNotify()) this.io.kickHost(l.txNotify);
  }

  /** Queue raw bytes (header included) to send on vring0 as they are, e.g. a malformed message; sent at the next pump. */
  sendRaw(bytes: Uint8Array): void {
    this.pending.push(bytes.slice());
  }

  /** Messages waiting for host RX buffers. */
  get backlog(): number {
    return this.pending.length;
  }
}

/** The models a platform or an option can choose. */
export const REMOTE_SERVICES: Record<string, () => RemoteService> = {
  /** Echo on rpmsg-tty, as ST's OpenAMP_TTY_echo and NXP's rpmsg_lite_str_echo do. */
  tty: () => ({ name: "rpmsg-tty", handler: (d) => [d] }),
  /** A raw echo channel (rpmsg-raw binds rpmsg_chrdev: /dev/rpmsgN). */
  raw: () => ({ name: "rpmsg-raw", handler: (d) => [d] }),
  /** The remote half of rpmsg_client_sample: echo every message (the sample counts to 100 on the host). */
  sample: () => ({ name: "rpmsg-client-sample", handler: (d) => [d] }),
  /** OpenAMP's echo demo channel, which no mainline driver binds. */
  "openamp-echo": () => ({ name: "rpmsg-openamp-demo-channel", handler: (d) => [d] }),
};
