/**
 * Little-endian field access on "the table in effect" (rproc->table_ptr):
 * either the core's cached copy (Uint8Array) or the loaded table in device
 * memory (MemView). Resource tables are host-endian in the kernel; rproc
 * fixes them as little-endian (the hosts remoteproc runs on are LE).
 */
import { RprocError, hex } from "../errors.js";
import { MemView } from "../platform/mem-view.js";

export type TableRef = MemView | Uint8Array;

export function tableLength(t: TableRef): number {
  return t instanceof Uint8Array ? t.byteLength : t.len;
}

function check(t: TableRef, off: number, size: number, field: string): void {
  const len = tableLength(t);
  if (!Number.isInteger(off) || off < 0 || off + size > len) {
    throw new RprocError("EINVAL", `${field}: offset ${hex(Math.max(0, off))} + ${size} exceeds the resource table (${hex(len)} bytes)`, {
      field,
      value: off,
      limit: len,
    });
  }
}

export function tableU32(t: TableRef, off: number, field = "resourceTable"): number {
  check(t, off, 4, field);
  if (t instanceof Uint8Array) return new DataView(t.buffer, t.byteOffset, t.byteLength).getUint32(off, true);
  return t.u32(off);
}

export function tableSetU32(t: TableRef, off: number, v: number, field = "resourceTable"): void {
  check(t, off, 4, field);
  if (t instanceof Uint8Array) new DataView(t.buffer, t.byteOffset, t.byteLength).setUint32(off, v >>> 0, true);
  else t.setU32(off, v >>> 0);
}

export function tableU8(t: TableRef, off: number, field = "resourceTable"): number {
  check(t, off, 1, field);
  if (t instanceof Uint8Array) return t[off]!;
  return t.read(off, 1)[0]!;
}

export function tableSetU8(t: TableRef, off: number, v: number, field = "resourceTable"): void {
  check(t, off, 1, field);
  if (t instanceof Uint8Array) t[off] = v & 0xff;
  else t.write(off, Uint8Array.of(v & 0xff));
}

export function tableRead(t: TableRef, off: number, len: number, field = "resourceTable"): Uint8Array {
  check(t, off, len, field);
  if (t instanceof Uint8Array) return t.slice(off, off + len);
  return t.read(off, len);
}

/** memcpy(dst, src, len) between table locations (cached -> loaded, clean -> device). */
export function tableCopy(dst: TableRef, src: TableRef, len: number): void {
  const bytes = tableRead(src, 0, len, "resourceTable (source)");
  check(dst, 0, len, "resourceTable (destination)");
  if (dst instanceof Uint8Array) dst.set(bytes, 0);
  else dst.write(0, bytes);
}
