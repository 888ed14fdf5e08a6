/**
 * Bounds-checked little/big-endian access over a Uint8Array, without copying.
 * Every read checks offset + size against the buffer and fails with a typed
 * EINVAL that names the field, so parsers never throw a bare RangeError.
 */
import { RprocError, hex } from "../errors.js";

export type Endianness = "little" | "big";

/** Throws EINVAL unless [offset, offset+size) lies within [0, limit). Exact for any non-negative integers. */
export function checkRange(offset: number | bigint, size: number | bigint, limit: number, field: string): void {
  // Every bounds-checked read comes here: answer the common in-range case without bigints.
  // Exact: offset, size and limit - offset are safe integers.
  if (typeof offset === "number" && typeof size === "number" && Number.isSafeInteger(offset) && Number.isSafeInteger(size)) {
    if (offset >= 0 && size >= 0 && size <= limit - offset) return;
  }
  const o = BigInt(offset);
  const s = BigInt(size);
  if (o < 0n || s < 0n || o + s > BigInt(limit)) {
    throw new RprocError("EINVAL", `${field}: offset ${hex(o)} + size ${hex(s)} exceeds ${hex(limit)}`, {
      field,
      value: o + s > BigInt(Number.MAX_SAFE_INTEGER) ? "0x" + (o + s).toString(16) : Number(o + s),
      limit,
    });
  }
}

export class ByteView {
  readonly bytes: Uint8Array;
  readonly dv: DataView;
  readonly little: boolean;

  constructor(bytes: Uint8Array, endianness: Endianness = "little") {
    this.bytes = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.little = endianness === "little";
  }

  get length(): number {
    return this.bytes.byteLength;
  }

  u8(off: number, field: string): number {
    checkRange(off, 1, this.length, field);
    return this.dv.getUint8(off);
  }
  u16(off: number, field: string): number {
    checkRange(off, 2, this.length, field);
    return this.dv.getUint16(off, this.little);
  }
  u32(off: number, field: string): number {
    checkRange(off, 4, this.length, field);
    return this.dv.getUint32(off, this.little);
  }
  u64(off: number, field: string): bigint {
    checkRange(off, 8, this.length, field);
    return this.dv.getBigUint64(off, this.little);
  }
  /** A view (no copy) of [off, off+size). */
  sub(off: number, size: number, field: string): Uint8Array {
    checkRange(off, size, this.length, field);
    return this.bytes.subarray(off, off + size);
  }
}

/** Writer counterpart used by encoders; grows nothing, checks every write. */
export class ByteWriter {
  readonly bytes: Uint8Array;
  readonly dv: DataView;
  readonly little: boolean;
  constructor(bytes: Uint8Array, endianness: Endianness = "little") {
    this.bytes = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.little = endianness === "little";
  }
  u8(off: number, v: number): void {
    checkRange(off, 1, this.bytes.byteLength, "write u8");
    this.dv.setUint8(off, v);
  }
  u16(off: number, v: number): void {
    checkRange(off, 2, this.bytes.byteLength, "write u16");
    this.dv.setUint16(off, v, this.little);
  }
  u32(off: number, v: number): void {
    checkRange(off, 4, this.bytes.byteLength, "write u32");
    this.dv.setUint32(off, v >>> 0, this.little);
  }
  u64(off: number, v: bigint | number): void {
    checkRange(off, 8, this.bytes.byteLength, "write u64");
    this.dv.setBigUint64(off, BigInt(v), this.little);
  }
}

/** A 64-bit value in JSON: a number, or a "0x…" string above 2^53-1 (the inspect JSON rule). */
export type JsonU64 = number | string;

/** A 64-bit value as a JSON number, or a "0x…" string above 2^53-1 (the inspect JSON rule). */
export function jsonU64(v: number | bigint): JsonU64 {
  if (typeof v === "number") return v;
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : "0x" + v.toString(16);
}

/** A C string from a fixed-size field: bytes up to the first NUL (or the whole field). */
export function cString(bytes: Uint8Array): { text: string; terminated: boolean } {
  const nul = bytes.indexOf(0);
  const end = nul < 0 ? bytes.length : nul;
  let text = "";
  for (let i = 0; i < end; i++) text += String.fromCharCode(bytes[i]!);
  return { text, terminated: nul >= 0 };
}
