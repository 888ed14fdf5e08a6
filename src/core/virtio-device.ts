/**
 * The vdev as a virtio device (drivers/remoteproc/remoteproc_virtio.c):
 * status, features and config space live in the resource table in effect
 * (the loaded one in device memory, where the firmware reads them),
 * find_vqs wraps the vrings rproc already allocated in split virtqueues,
 * notify goes through ops.kick, and rproc_vq_interrupt reaches the
 * driver's callbacks. A virtio driver (the rpmsg bus) binds per Rproc
 * through registerVirtioDriver, as a driver registers on the virtio bus.
 */
import { RprocError, hex } from "../errors.js";
import { VDEV_OFF, VDEV_SIZE, VRING_OFF, VRING_SIZE } from "../formats/resource-table.js";
import { MemView } from "../platform/mem-view.js";
import { vringGeometryError, vringLayout } from "../virtio/layout.js";
import { VringDriver } from "../virtio/vring-driver.js";
import type { Rproc, RprocVdev, RprocVring } from "./rproc.js";
import { carveoutPa, rprocFindCarveoutByName } from "./carveout.js";
import { dmaAllocator } from "./dma.js";
import { tableRead, tableSetU32, tableSetU8, tableU32, tableU8, type TableRef } from "./table.js";

export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
export const VIRTIO_CONFIG_S_DRIVER = 2;
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
export const VIRTIO_CONFIG_S_FAILED = 0x80;

/** A virtio driver as the virtio bus sees it (struct virtio_driver). */
export interface VirtioDriver {
  name: string;
  /** Device feature bits the driver knows (feature_table). */
  featureTable: number[];
  probe(vdev: RprocVirtioDevice): void | Promise<void>;
  remove(vdev: RprocVirtioDevice): void;
}

const drivers = new WeakMap<Rproc, Map<number, VirtioDriver>>();

/** register_virtio_driver, scoped to one Rproc: the driver binds its vdevs of `deviceId` at their next registration. */
export function registerVirtioDriver(rproc: Rproc, deviceId: number, driver: VirtioDriver): () => void {
  let m = drivers.get(rproc);
  if (!m) drivers.set(rproc, (m = new Map()));
  m.set(deviceId, driver);
  return () => {
    if (m.get(deviceId) === driver) m.delete(deviceId);
  };
}

export function virtioDriverFor(rproc: Rproc, deviceId: number): VirtioDriver | undefined {
  return drivers.get(rproc)?.get(deviceId);
}

export function vringOff(rvdev: { rscOffset: number }, i: number, field: number): number {
  return rvdev.rscOffset + VDEV_OFF.vrings + VRING_SIZE * i + field;
}

/** A created virtqueue: the vring, its identity, and notify (ops.kick with its notify id). */
export interface VirtQueue {
  index: number;
  name: string;
  notifyid: number;
  num: number;
  align: number;
  da: number;
  pa: number | undefined;
  ring: VringDriver<number>;
  /** virtqueue_notify: kick the remote on this queue's notify id. */
  notify(): void;
  /** virtqueue_kick: kick_prepare, then notify when the remote wants it. */
  kick(): boolean;
}

/** Coherent memory from dma_alloc_coherent on the vdev: host view, DMA (bus) address, and free. */
export interface CoherentBuffer {
  pa: number;
  dma: number;
  len: number;
  va: MemView;
  pool: string;
  free(): void;
}

export class RprocVirtioDevice {
  driver: VirtioDriver | undefined;
  private vqs: VirtQueue[] = [];

  constructor(
    readonly rproc: Rproc,
    readonly rvdev: RprocVdev,
    private readonly table: () => TableRef,
  ) {}

  get index(): number {
    return this.rvdev.index;
  }
  get id(): number {
    return this.rvdev.id;
  }
  get queues(): readonly VirtQueue[] {
    return this.vqs;
  }

  private off(field: number): number {
    return this.rvdev.rscOffset + field;
  }

  /** rproc_virtio_get_status / set_status / reset: the byte in the loaded table the firmware polls. */
  getStatus(): number {
    return tableU8(this.table(), this.off(VDEV_OFF.status));
  }
  setStatus(status: number): void {
    tableSetU8(this.table(), this.off(VDEV_OFF.status), status);
    this.rproc.emit("rproc_virtio_set_status", "info", { vdev: this.index, status: hex(status & 0xff) });
  }
  addStatus(bits: number): void {
    this.setStatus(this.getStatus() | bits);
  }
  reset(): void {
    this.setStatus(0);
  }
  /** virtio_device_ready: DRIVER_OK; from here the device may notify and the driver may kick. */
  ready(): void {
    this.addStatus(VIRTIO_CONFIG_S_DRIVER_OK);
  }

  /** rproc_virtio_get_features: the firmware's dfeatures. */
  getFeatures(): number {
    return tableU32(this.table(), this.off(VDEV_OFF.dfeatures));
  }
  /** rproc_virtio_finalize_features: what was negotiated goes back to the firmware as gfeatures. */
  finalizeFeatures(features: number): void {
    tableSetU32(this.table(), this.off(VDEV_OFF.gfeatures), features >>> 0);
    this.rproc.emit("rproc_virtio_finalize_features", "info", { vdev: this.index, gfeatures: hex(features >>> 0) });
  }
  hasFeature(bit: number): boolean {
    return bit < 32 && (tableU32(this.table(), this.off(VDEV_OFF.gfeatures)) & (1 << bit)) !== 0;
  }

  private configLen(): number {
    return tableU32(this.table(), this.off(VDEV_OFF.configLen));
  }
  private configOff(): number {
    return this.off(VDEV_SIZE + VRING_SIZE * tableU8(this.table(), this.off(VDEV_OFF.numOfVrings)));
  }
  /** rproc_virtio_get: bytes of the config space; out of bounds is refused with the kernel's text. */
  configGet(offset: number, len: number): Uint8Array {
    this.configBounds("rproc_virtio_get", offset, len);
    return tableRead(this.table(), this.configOff() + offset, len);
  }
  configSet(offset: number, data: Uint8Array): void {
    this.configBounds("rproc_virtio_set", offset, data.length);
    const t = this.table();
    const base = this.configOff() + offset;
    for (let i = 0; i < data.length; i++) tableSetU8(t, base + i, data[i]!);
  }
  private configBounds(fn: string, offset: number, len: number): void {
    const cfg = this.configLen();
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(len) || offset < 0 || len < 0 || offset + len > cfg)
      throw new RprocError("EINVAL", `${fn}: access out of bounds`, { field: `vdev${this.index}.config`, value: offset + len, limit: cfg });
  }

  /**
   * rproc_virtio_find_vqs: for each name, the vring rproc allocated, cleared,
   * wrapped in a split virtqueue; its da goes to the table; `callbacks[i]`
   * runs on rproc_vq_interrupt when the queue has used buffers.
   */
  findVqs(names: string[], callbacks: ((vq: VirtQueue) => void)[]): VirtQueue[] {
    const t = this.table();
    const created: VirtQueue[] = [];
    const eventIdx = this.hasFeature(29);
    try {
      names.forEach((name, id) => {
        const rvring: RprocVring | undefined = this.rvdev.vrings[id];
        const mem = rprocFindCarveoutByName(this.rproc, `vdev${this.index}vring${id}`);
        if (!rvring || !mem || !mem.va) throw new RprocError("ENOMEM", `vq ${id} (${name}): no allocated vring vdev${this.index}vring${id}`, { field: `vdev${this.index}.vrings[${id}]` });
        const bad = vringGeometryError(rvring.num, rvring.align);
        if (bad) throw new RprocError("ENOMEM", `vring_new_virtqueue ${name} failed: ${bad}`, { field: `vdev${this.index}.vrings[${id}].num`, value: rvring.num });
        const size = vringLayout(rvring.num, rvring.align).size;
        if (size > mem.len) throw new RprocError("ENOMEM", `vring_new_virtqueue ${name} failed: vring needs ${size} bytes, carveout has ${mem.len}`);
        mem.va.fill(0, size, 0);
        const ring = new VringDriver<number>(mem.va.sub(0, size), rvring.num, rvring.align, {
          name,
          eventIdx,
          onDiag: (code, message) => this.rproc.warn(code, `vdev${this.index}.vring${id}`, message),
        });
        const vq: VirtQueue = {
          index: id,
          name,
          notifyid: rvring.notifyid,
          num: rvring.num,
          align: rvring.align,
          da: mem.da,
          pa: carveoutPa(mem),
          ring,
          notify: () => this.rproc.ops.kick?.(this.rproc, rvring.notifyid),
          kick: () => {
            const want = ring.kickPrepare();
            if (want) vq.notify();
            return want;
          },
        };
        const cb = callbacks[id];
        rvring.vq = { da: mem.da, pa: vq.pa, mem: mem.va, callback: () => (ring.moreUsed() && cb ? (cb(vq), true) : false) };
        created.push(vq);
        tableSetU32(t, vringOff(this.rvdev, id, VRING_OFF.da), mem.da >>> 0);
        this.rproc.emit("rp_find_vq", "info", { vdev: this.index, id, name, da: hex(mem.da), notifyid: rvring.notifyid });
      });
    } catch (e) {
      for (const v of created) this.rvdev.vrings[v.index]!.vq = undefined;
      throw e;
    }
    this.vqs = created;
    return created;
  }

  /** rproc_virtio_del_vqs. */
  delVqs(): void {
    for (const v of this.vqs) {
      const r = this.rvdev.vrings[v.index];
      if (r) r.vq = undefined;
    }
    this.vqs = [];
  }

  /**
   * dma_alloc_coherent on the vdev's device: the vdev<i>buffer reserved
   * memory when the driver registered it (of_reserved_mem_device_init_by_idx),
   * else the processor's DMA pool the rproc-virtio device inherits.
   */
  allocCoherent(len: number): CoherentBuffer {
    const proc = this.rproc.processor;
    const mem = rprocFindCarveoutByName(this.rproc, `vdev${this.index}buffer`);
    const poolName = mem && mem.ofResmIdx >= 0 ? proc.memoryRegions[mem.ofResmIdx] : proc.dmaPool;
    if (!poolName) throw new RprocError("ENOMEM", `virtio${this.index}: no vdev${this.index}buffer memory and no DMA pool for ${len} bytes`, { field: "dmaPool" });
    const alloc = dmaAllocator(this.rproc.platform, poolName);
    const pa = alloc.allocCoherent(len);
    this.rproc.account("acquire", "dma", pa);
    let freed = false;
    const free = (): void => {
      if (freed) return;
      freed = true;
      alloc.free(pa);
      this.rproc.account("release", "dma", pa);
    };
    try {
      const va = new MemView(this.rproc.platform, pa, len);
      va.fill(0, len, 0);
      const dma = this.rproc.platform.paToDa(proc, pa, len) ?? pa;
      return { pa, dma, len, va, pool: poolName, free };
    } catch (e) {
      free();
      throw e;
    }
  }
}
