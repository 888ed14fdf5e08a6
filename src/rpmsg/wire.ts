/**
 * rpmsg's wire structures (include/linux/rpmsg/byteorder.h, rpmsg/ns.h),
 * little-endian as on every remoteproc host: struct rpmsg_hdr before every
 * message and struct rpmsg_ns_msg for name-service announcements.
 */
import type { Field } from "../virtio/layout.js";

export const RPMSG_NAME_SIZE = 32;
export const RPMSG_ADDR_ANY = 0xffffffff;
export const RPMSG_NS_ADDR = 53;
export const RPMSG_RESERVED_ADDRESSES = 1024;
export const RPMSG_NS_CREATE = 0;
export const RPMSG_NS_DESTROY = 1;
export const VIRTIO_RPMSG_F_NS = 0;
export const MAX_RPMSG_NUM_BUFS = 512;
export const MAX_RPMSG_BUF_SIZE = 512;

/** struct rpmsg_hdr (16 bytes, __packed). */
export const RPMSG_HDR = Object.freeze({
  SIZE: 16,
  src: { off: 0, size: 4 } as Field,
  dst: { off: 4, size: 4 } as Field,
  reserved: { off: 8, size: 4 } as Field,
  len: { off: 12, size: 2 } as Field,
  flags: { off: 14, size: 2 } as Field,
});

/** struct rpmsg_ns_msg (40 bytes, __packed). */
export const RPMSG_NS_MSG = Object.freeze({
  SIZE: 40,
  name: { off: 0, size: RPMSG_NAME_SIZE },
  addr: { off: 32, size: 4 } as Field,
  flags: { off: 36, size: 4 } as Field,
});

/** MTU: a buffer less its header (496 with 512-byte buffers). */
export const RPMSG_MTU = MAX_RPMSG_BUF_SIZE - RPMSG_HDR.SIZE;

export interface RpmsgHdr {
  src: number;
  dst: number;
  reserved: number;
  len: number;
  flags: number;
}

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Reads a header from the first 16 bytes of `b` (the caller checked there are 16). */
export function decodeHdr(b: Uint8Array): RpmsgHdr {
  const v = dv(b);
  return {
    src: v.getUint32(RPMSG_HDR.src.off, true),
    dst: v.getUint32(RPMSG_HDR.dst.off, true),
    reserved: v.getUint32(RPMSG_HDR.reserved.off, true),
    len: v.getUint16(RPMSG_HDR.len.off, true),
    flags: v.getUint16(RPMSG_HDR.flags.off, true),
  };
}

/** Header + payload, as rpmsg_send_offchannel_raw fills a TX buffer. */
export function encodeMessage(src: number, dst: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(RPMSG_HDR.SIZE + payload.length);
  const v = dv(out);
  v.setUint32(RPMSG_HDR.src.off, src >>> 0, true);
  v.setUint32(RPMSG_HDR.dst.off, dst >>> 0, true);
  v.setUint16(RPMSG_HDR.len.off, payload.length, true);
  out.set(payload, RPMSG_HDR.SIZE);
  return out;
}

export interface NsMsg {
  name: string;
  addr: number;
  flags: number;
}

/** rpmsg_ns_cb's reading: the name up to its first NUL, byte 31 forced to NUL ("don't trust the remote"). */
export function decodeNs(b: Uint8Array): NsMsg {
  const raw = b.slice(0, RPMSG_NAME_SIZE);
  raw[RPMSG_NAME_SIZE - 1] = 0;
  const end = raw.indexOf(0);
  const v = dv(b);
  return {
    name: Buffer.from(raw.subarray(0, end < 0 ? RPMSG_NAME_SIZE : end)).toString("latin1"),
    addr: v.getUint32(RPMSG_NS_MSG.addr.off, true),
    flags: v.getUint32(RPMSG_NS_MSG.flags.off, true),
  };
}

export function encodeNs(name: string, addr: number, flags: number): Uint8Array {
  const out = new Uint8Array(RPMSG_NS_MSG.SIZE);
  out.set(Buffer.from(name, "latin1").subarray(0, RPMSG_NAME_SIZE - 1));
  const v = dv(out);
  v.setUint32(RPMSG_NS_MSG.addr.off, addr >>> 0, true);
  v.setUint32(RPMSG_NS_MSG.flags.off, flags >>> 0, true);
  return out;
}

/** "%d" of a u32 address, as device names and the eptdev sysfs files print it (-1 for ANY). */
export function addrD(addr: number): number {
  return addr | 0;
}
