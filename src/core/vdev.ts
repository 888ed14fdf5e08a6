/**
 * Vdev resources (rproc_handle_vdev + the rproc-virtio platform driver,
 * spec §4.5) and the vdev subdevice, which models what the virtio core and
 * the rpmsg virtio driver do when the device is registered (spec §9.1):
 * status bytes, feature negotiation, find_vqs (which is when the vring da
 * reaches the table — after ops.start) and the first kick.
 */
import { RprocError, hex } from "../errors.js";
import { VDEV_OFF, VDEV_SIZE, VRING_OFF, VRING_SIZE } from "../formats/resource-table.js";
import type { Rproc, RprocVdev, RprocVring } from "./rproc.js";
import { carveoutPa, checkCarveoutDa, rprocAddCarveout, rprocAllocCarveout, rprocFindCarveoutByName, rprocMemEntryInit, rprocReleaseCarveout } from "./carveout.js";
import { tableSetU32, tableSetU8, tableU32, tableU8, type TableRef } from "./table.js";
import {
  RprocVirtioDevice,
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_FAILED,
  VIRTIO_CONFIG_S_DRIVER_OK,
  virtioDriverFor,
  vringOff,
  type VirtioDriver,
} from "./virtio-device.js";

export const RVDEV_NUM_VRINGS = 2;
export const VIRTIO_ID_RPMSG = 7;
export const VIRTIO_RPMSG_F_NS = 0;
export { VIRTIO_CONFIG_S_ACKNOWLEDGE, VIRTIO_CONFIG_S_DRIVER, VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_FAILED } from "./virtio-device.js";
/** Transport bits that fit the 32-bit feature field and vring_transport_features() keeps: INDIRECT_DESC, EVENT_IDX. */
const KEPT_TRANSPORT_FEATURES = (1 << 28) | (1 << 29);
const PAGE_SIZE = 4096;

/** ALIGN() with the kernel's mask arithmetic (meaningful for power-of-two alignments). */
function kalign(x: bigint, a: bigint): bigint {
  const m = a - 1n;
  return (x + m) & ~m;
}

/** vring_size(num, align): descriptors and avail ring, aligned, then the used ring. */
export function vringSize(num: number, align: number): number {
  const n = BigInt(num);
  return Number(kalign(16n * n + 2n * (3n + n), BigInt(align)) + 6n + 8n * n);
}

/** vring_size(num, align) rounded up to a page, as rproc_alloc_vring sizes the vring carveout. */
export function vringCarveoutSize(num: number, align: number): number {
  return Number(kalign(BigInt(vringSize(num, align)), BigInt(PAGE_SIZE)));
}

/** Lowest free id >= 0, as idr_alloc(&notifyids, rvring, 0, 0) gives. */
function allocNotifyId(rproc: Rproc, rvring: RprocVring): number {
  let id = 0;
  while (rproc.notifyIds.has(id)) id++;
  rproc.notifyIds.set(id, rvring);
  if (id > rproc.maxNotifyId) rproc.maxNotifyId = id;
  rproc.account("acquire", "notifyid", id);
  return id;
}

/** rproc_free_vring(): drop the id and reset the vring in the table currently in effect. */
function freeVring(rproc: Rproc, rvring: RprocVring): void {
  rproc.notifyIds.delete(rvring.notifyid);
  rproc.account("release", "notifyid", rvring.notifyid);
  const t = rproc.tablePtr;
  if (!t) return;
  try {
    tableSetU32(t, vringOff(rvring.rvdev, rvring.index, VRING_OFF.da), 0);
    tableSetU32(t, vringOff(rvring.rvdev, rvring.index, VRING_OFF.notifyid), 0xffffffff);
  } catch (e) {
    rproc.warn("vring-reset-failed", `vdev${rvring.rvdev.index}.vring${rvring.index}`, e instanceof Error ? e.message : String(e));
  }
}

/** rproc_handle_vdev(): checks, then the rproc-virtio probe, whose errors the kernel does not propagate. */
export async function handleVdev(rproc: Rproc, table: TableRef, index: number, offset: number, avail: number): Promise<void> {
  const field = (f: string): string => `resourceTable.entries[${index}].${f}`;
  // Hardening: the kernel reads num_of_vrings/config_len before knowing 24 bytes are there.
  if (VDEV_SIZE > avail) throw new RprocError("EINVAL", `vdev rsc is truncated (needs ${VDEV_SIZE} bytes, ${avail} left)`, { field: field("numOfVrings") });
  const numOfVrings = tableU8(table, offset + VDEV_OFF.numOfVrings);
  const configLen = tableU32(table, offset + VDEV_OFF.configLen);
  const need = VDEV_SIZE + VRING_SIZE * numOfVrings + configLen;
  if (need > avail)
    throw new RprocError("EINVAL", `vdev rsc is truncated: ${numOfVrings} vrings + config_len ${configLen} need ${need} bytes, ${avail} left`, {
      field: field("configLen"),
      value: need,
      limit: avail,
    });
  const r0 = tableU8(table, offset + VDEV_OFF.reserved);
  const r1 = tableU8(table, offset + VDEV_OFF.reserved + 1);
  if (r0 || r1) throw new RprocError("EINVAL", `vdev rsc has non zero reserved bytes (${r0}, ${r1})`, { field: field("reserved") });
  if (numOfVrings > RVDEV_NUM_VRINGS)
    throw new RprocError("EINVAL", `too many vrings: ${numOfVrings}`, { field: field("numOfVrings"), value: numOfVrings, limit: RVDEV_NUM_VRINGS });
  const id = tableU32(table, offset + VDEV_OFF.id);
  const vdevIndex = rproc.nbVdev++;
  try {
    rprocVirtioProbe(rproc, table, vdevIndex, id, offset, numOfVrings);
  } catch (e) {
    // platform_device_register_data() succeeds even when probe fails: the boot goes on without this vdev.
    rproc.warn(
      "vdev-probe-failed",
      field("vrings"),
      `rproc-virtio probe for vdev${vdevIndex} failed (${e instanceof RprocError ? e.code + ": " : ""}${e instanceof Error ? e.message : String(e)}); the kernel continues the boot without this virtio device`,
    );
  }
}

/** rproc_virtio_probe(): parse vrings, allocate them (carveout + notify id), register the subdevice. */
function rprocVirtioProbe(rproc: Rproc, table: TableRef, index: number, id: number, rscOffset: number, n: number): void {
  const rvdev: RprocVdev = { index, id, rscOffset, vrings: [], registered: false, subdev: { name: `vdev${index}` } };
  for (let i = 0; i < n; i++) {
    const num = tableU32(table, vringOff(rvdev, i, VRING_OFF.num));
    const align = tableU32(table, vringOff(rvdev, i, VRING_OFF.align));
    if (!num || !align) throw new RprocError("EINVAL", `Invalid vring: num ${num}, align ${align}`, { field: `vdev${index}.vring${i}` });
    rvdev.vrings.push({ index: i, num, align, notifyid: -1, vq: undefined, rvdev });
  }
  const done: RprocVring[] = [];
  try {
    for (const rvring of rvdev.vrings) {
      allocVring(rproc, table, rvdev, rvring);
      done.push(rvring);
    }
  } catch (e) {
    for (const v of done.reverse()) freeVring(rproc, v);
    throw e;
  }
  rvdev.subdev = {
    name: `vdev${index}`,
    start: () => vdevStart(rproc, rvdev),
    stop: () => vdevStop(rproc, rvdev),
  };
  rproc.rvdevs.push(rvdev);
  rproc.subdevs.push(rvdev.subdev);
  rproc.account("acquire", "vdev", index);
}

/** rproc_alloc_vring(): find the pre-registered "vdev%dvring%d" carveout or register one, then take a notify id. */
function allocVring(rproc: Rproc, table: TableRef, rvdev: RprocVdev, rvring: RprocVring): void {
  const i = rvring.index;
  const size = vringCarveoutSize(rvring.num, rvring.align);
  const da = tableU32(table, vringOff(rvdev, i, VRING_OFF.da));
  const name = `vdev${rvdev.index}vring${i}`;
  const mem = rprocFindCarveoutByName(rproc, name);
  if (mem) {
    const why = checkCarveoutDa(mem, da, size);
    if (why) throw new RprocError("ENOMEM", `vring ${name} does not fit its registered carveout: ${why}`, { field: `${name}.da`, value: da });
  } else {
    // rsc_offset stays FW_RSC_ADDR_ANY: the carveout write-back must not touch the vring fields.
    rprocAddCarveout(rproc, rprocMemEntryInit({ name, len: size, da, alloc: rprocAllocCarveout, release: rprocReleaseCarveout }));
  }
  rvring.notifyid = allocNotifyId(rproc, rvring);
  tableSetU32(table, vringOff(rvdev, i, VRING_OFF.notifyid), rvring.notifyid);
}

/** rproc_virtio_remove(): free the vrings, drop the subdevice and the vdev. */
export function rprocVirtioRemove(rproc: Rproc, rvdev: RprocVdev): void {
  for (const v of rvdev.vrings) freeVring(rproc, v);
  rproc.subdevs = rproc.subdevs.filter((s) => s !== rvdev.subdev);
  rproc.rvdevs = rproc.rvdevs.filter((r) => r !== rvdev);
  rproc.account("release", "vdev", rvdev.index);
}

function statusOff(rvdev: RprocVdev): number {
  return rvdev.rscOffset + VDEV_OFF.status;
}

/**
 * rproc_vdev_do_start → rproc_add_virtio_dev → register_virtio_device, and
 * for VIRTIO_ID_RPMSG the rpmsg driver's probe. Driver probe errors do not
 * fail registration (the virtio core marks the device FAILED).
 */
async function vdevStart(rproc: Rproc, rvdev: RprocVdev): Promise<void> {
  if (!rproc.ops.kick) throw new RprocError("EINVAL", `.kick method not defined for ${rproc.name}`, { field: "ops.kick" });
  const t = (): TableRef => {
    if (!rproc.tablePtr) throw new RprocError("EINVAL", "no resource table in effect");
    return rproc.tablePtr;
  };
  rvdev.registered = true;
  rproc.account("acquire", "virtio_device", rvdev.index);
  try {
    await registerVirtioDevice(rproc, rvdev, t);
  } catch (e) {
    // rproc_add_virtio_dev undoes its own partial registration before returning the error.
    for (const v of rvdev.vrings) v.vq = undefined;
    rvdev.registered = false;
    rproc.account("release", "virtio_device", rvdev.index);
    throw e;
  }
}

async function registerVirtioDevice(rproc: Rproc, rvdev: RprocVdev, t: () => TableRef): Promise<void> {
  // rproc_start copied the cached table over the loaded one, so a status other than 0 here was left
  // by an earlier run in memory this boot did not rewrite (a stale table): the firmware would take it
  // for a live host before this one is ready.
  const before = tableU8(t(), statusOff(rvdev));
  if (before & VIRTIO_CONFIG_S_DRIVER_OK)
    rproc.warn(
      "vdev-stale-status",
      `vdev${rvdev.index}.status`,
      `vdev${rvdev.index} status is ${hex(before)} (DRIVER_OK) before the virtio device is registered: the resource table in device memory is stale (left by an earlier run); the host resets it`,
    );
  tableSetU8(t(), statusOff(rvdev), 0); // virtio_reset_device
  tableSetU8(t(), statusOff(rvdev), VIRTIO_CONFIG_S_ACKNOWLEDGE);
  const buffer = rprocFindCarveoutByName(rproc, `vdev${rvdev.index}buffer`);
  rproc.emit("rproc_add_virtio_dev", "info", { vdev: rvdev.index, id: rvdev.id, buffer: buffer ? buffer.name : null });
  const driver = virtioDriverFor(rproc, rvdev.id) ?? (rvdev.id === VIRTIO_ID_RPMSG ? TABLE_ONLY_RPMSG : undefined);
  if (driver) await virtioDevProbe(rproc, rvdev, driver, t);
}

/**
 * When no rpmsg bus is attached (rproc boot), rpmsg_probe's effects on the
 * table and the kick, without traffic: vqs found, DRIVER_OK, then the notify
 * on the RX vring, so the firmware sees status 0x7 at the first kick
 * (mainline order; issue 10 item 5).
 */
const TABLE_ONLY_RPMSG: VirtioDriver = {
  name: "virtio_rpmsg_bus",
  featureTable: [VIRTIO_RPMSG_F_NS],
  probe(vdev) {
    const [rvq] = vdev.findVqs(["input", "output"], []);
    vdev.ready();
    rvq!.notify();
  },
  remove(vdev) {
    vdev.reset();
    vdev.delVqs();
  },
};

/** virtio_dev_probe: DRIVER, features (driver's & device's, transport bits kept), driver probe, DRIVER_OK; FAILED on error. */
async function virtioDevProbe(rproc: Rproc, rvdev: RprocVdev, driver: VirtioDriver, t: () => TableRef): Promise<void> {
  const vdev = new RprocVirtioDevice(rproc, rvdev, t);
  vdev.addStatus(VIRTIO_CONFIG_S_DRIVER);
  const dfeatures = vdev.getFeatures();
  let features = 0;
  for (const bit of driver.featureTable) if (bit < 28 && dfeatures & (1 << bit)) features |= 1 << bit;
  // vring_transport_features keeps INDIRECT_DESC and EVENT_IDX when the device offers them.
  features |= dfeatures & KEPT_TRANSPORT_FEATURES;
  vdev.finalizeFeatures(features >>> 0);
  rvdev.virtio = vdev;
  try {
    await driver.probe(vdev);
    if (!(vdev.getStatus() & VIRTIO_CONFIG_S_DRIVER_OK)) vdev.ready();
  } catch (e) {
    vdev.delVqs();
    rvdev.virtio = undefined;
    vdev.addStatus(VIRTIO_CONFIG_S_FAILED);
    rproc.warn("virtio-probe-failed", `vdev${rvdev.index}`, `${driver.name}: probe of virtio${rvdev.index} failed with error ${e instanceof RprocError ? "-" + e.code : ""}: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  vdev.driver = driver;
}

/** rproc_vdev_do_stop: unregister the virtio device (rpmsg remove resets status, deletes the vqs). */
function vdevStop(rproc: Rproc, rvdev: RprocVdev): void {
  if (!rvdev.registered) return;
  rvdev.registered = false;
  const vdev = rvdev.virtio;
  if (vdev?.driver) {
    try {
      vdev.driver.remove(vdev);
    } catch (e) {
      rproc.warn("virtio-remove-failed", `vdev${rvdev.index}`, e instanceof Error ? e.message : String(e));
    }
    vdev.driver = undefined;
  }
  rvdev.virtio = undefined;
  const t = rproc.tablePtr;
  try {
    if (t && rvdev.id === VIRTIO_ID_RPMSG) {
      tableSetU8(t, statusOff(rvdev), 0);
      // virtio_dev_remove acknowledges the device's existence again.
      tableSetU8(t, statusOff(rvdev), VIRTIO_CONFIG_S_ACKNOWLEDGE);
    }
  } catch (e) {
    rproc.warn("vdev-status-reset-failed", `vdev${rvdev.index}`, e instanceof Error ? e.message : String(e));
  }
  for (const v of rvdev.vrings) v.vq = undefined;
  rproc.account("release", "virtio_device", rvdev.index);
}

/** rproc_vq_interrupt(): IRQ_HANDLED (true) only for a known notify id whose virtqueue exists. */
export function vqInterrupt(rproc: Rproc, notifyid: number): boolean {
  const rvring = rproc.notifyIds.get(notifyid);
  if (!rvring || !rvring.vq) return false;
  rproc.emit("rproc_vq_interrupt", "info", { notifyid });
  rvring.vq.callback?.();
  return true;
}

