/**
 * The rpmsg host for one Rproc: registers virtio_rpmsg_bus as the driver of
 * its rpmsg vdevs (VIRTIO_ID_RPMSG), so every boot probes a fresh bus on
 * the new table and every shutdown removes it. Channels appear as events
 * and in a list; endpoints are created on a channel or on an address.
 *
 *   const host = attachRpmsg(rproc);
 *   await rproc.boot();
 *   const ch = await host.waitForChannel("rpmsg-tty", 1000);
 *   const ept = host.endpointFor(ch);
 *   await ept.send(new TextEncoder().encode("hello"));
 *   for await (const m of ept) ...
 */
import { RprocError } from "../errors.js";
import type { Rproc } from "../core/rproc.js";
import { registerVirtioDriver, type RprocVirtioDevice, type VirtioDriver } from "../core/virtio-device.js";
import { RpmsgEndpoint } from "./endpoint.js";
import { Virtproc, type RpmsgChannel, type RpmsgTraffic } from "./virtproc.js";
import { RPMSG_ADDR_ANY, VIRTIO_RPMSG_F_NS } from "./wire.js";

export const VIRTIO_ID_RPMSG = 7;

type HostEvents = {
  channel: RpmsgChannel;
  "channel-removed": RpmsgChannel;
  traffic: RpmsgTraffic;
};

export class RpmsgHost {
  private readonly buses = new Map<number, Virtproc>();
  private readonly listeners: { [K in keyof HostEvents]: ((v: HostEvents[K]) => void)[] } = { channel: [], "channel-removed": [], traffic: [] };
  private readonly unregister: () => void;

  constructor(readonly rproc: Rproc) {
    const driver: VirtioDriver = {
      name: "virtio_rpmsg_bus",
      featureTable: [VIRTIO_RPMSG_F_NS],
      probe: (vdev) => this.probe(vdev),
      remove: (vdev) => this.remove(vdev),
    };
    this.unregister = registerVirtioDriver(rproc, VIRTIO_ID_RPMSG, driver);
  }

  /** Stop binding new vdevs (a running bus stays until its vdev stops). */
  detach(): void {
    this.unregister();
  }

  on<K extends keyof HostEvents>(event: K, fn: (v: HostEvents[K]) => void): () => void {
    const list = this.listeners[event] as ((v: HostEvents[K]) => void)[];
    list.push(fn);
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /** Every channel on every bus, in announcement order per vdev. */
  channels(): RpmsgChannel[] {
    return [...this.buses.values()].flatMap((b) => b.channels);
  }

  /** The bus of vdev `index` (undefined when that vdev has no running bus). */
  bus(index = 0): Virtproc | undefined {
    return this.buses.get(index);
  }

  /** A channel by name or remote address, now or when it is announced (ETIMEDOUT after timeoutMs). */
  waitForChannel(nameOrAddr: string | number, timeoutMs: number): Promise<RpmsgChannel> {
    const match = (c: RpmsgChannel): boolean => (typeof nameOrAddr === "number" ? c.dst === nameOrAddr : c.name === nameOrAddr);
    const now = this.channels().find(match);
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const off = this.on("channel", (c) => {
        if (!match(c)) return;
        clearTimeout(t);
        off();
        resolve(c);
      });
      const t = setTimeout(() => {
        off();
        reject(new RprocError("ETIMEDOUT", `no channel ${String(nameOrAddr)} announced within ${timeoutMs} ms`, { field: "channel", value: String(nameOrAddr) }));
      }, timeoutMs);
    });
  }

  /**
   * The endpoint to talk on a channel: the bound driver's own endpoint
   * (what /dev/ttyRPMSGn uses), else a new one as RPMSG_CREATE_EPT_IOCTL
   * with src ANY would create.
   */
  endpointFor(ch: RpmsgChannel): RpmsgEndpoint {
    if (ch.endpoint && !ch.endpoint.closed) return ch.endpoint;
    return this.createEndpoint({ name: ch.name, src: RPMSG_ADDR_ANY, dst: ch.dst, vdev: ch.vdev });
  }

  /** rpmsg_create_ept on a bus: `src` ANY for a dynamic address from 1024. */
  createEndpoint(info: { name: string; src: number; dst: number; vdev?: number }): RpmsgEndpoint {
    const bus = this.buses.get(info.vdev ?? 0);
    if (!bus) throw new RprocError("ENODEV", `no rpmsg bus on vdev${info.vdev ?? 0} (is the processor running with an rpmsg vdev?)`, { field: "vdev", value: info.vdev ?? 0 });
    return bus.createEndpoint(info.src >>> 0, info.dst >>> 0, info.name);
  }

  private emit<K extends keyof HostEvents>(event: K, v: HostEvents[K]): void {
    for (const fn of [...(this.listeners[event] as ((v: HostEvents[K]) => void)[])]) fn(v);
  }

  private probe(vdev: RprocVirtioDevice): void {
    const r = this.rproc;
    const path = `vdev${vdev.index}`;
    const bus = new Virtproc(vdev, {
      diag: (severity, code, message) => {
        if (severity === "info") r.emit(code, "info", { vdev: vdev.index, message });
        else r.warn(code, path, message);
      },
      channelAdded: (ch) => {
        r.emit("rpmsg_channel_add", "info", { id: ch.id, driver: ch.driver });
        this.emit("channel", ch);
      },
      channelRemoved: (ch) => {
        r.emit("rpmsg_channel_remove", "info", { id: ch.id });
        this.emit("channel-removed", ch);
      },
      traffic: (t) => this.emit("traffic", t),
    });
    this.buses.set(vdev.index, bus);
  }

  private remove(vdev: RprocVirtioDevice): void {
    const bus = this.buses.get(vdev.index);
    if (!bus) return;
    this.buses.delete(vdev.index);
    bus.remove();
  }
}

/** Attach an rpmsg host to `rproc` before boot; each boot of an rpmsg vdev then runs the bus. */
export function attachRpmsg(rproc: Rproc): RpmsgHost {
  return new RpmsgHost(rproc);
}
