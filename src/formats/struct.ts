/**
 * Binary layouts declared once, as field tables, in the spirit of the
 * kernel's remoteproc_elf_helpers.h (one accessor per field, derived from the
 * layout instead of written out at each use). A table such as
 *
 *   const Elf32_Phdr = defineStruct("Elf32_Phdr", [["p_type", "u32"], ["p_offset", "u32"], ...], { size: 32 });
 *
 * gives typed `get`/`put` over file bytes (Uint8Array or DataView) and over
 * device memory (anything with read/write of bytes at an address, such as
 * platform/mem-view.ts's MemView), in either byte order (FDT is big-endian,
 * remoteproc structures are in the host's order, little-endian in mainline).
 *
 * Every access is bounds-checked once for the whole struct (or the one field)
 * before any byte is read, and fails with an RprocError EINVAL naming the
 * struct, the field that does not fit, its offset and the limit: no parser
 * built on it throws a bare RangeError.
 *
 * Fields are laid out in order with no implicit padding (all remoteproc,
 * ELF, OP-TEE and FDT structures are packed or naturally aligned); `pad`
 * fields name gaps, and `{ size }` asserts the C sizeof at definition time.
 */
import { RprocError, hex } from "../errors.js";

/** u64 reads as bigint; u64n as a number, EOVERFLOW (naming the field) above 2^53-1. */
export type ScalarKind = "u8" | "u16" | "u32" | "i32" | "u64" | "u64n";
/** bytes: a view (no copy) of N bytes; char: a C string in N bytes (text up to the first NUL); pad: skipped. */
export type ArrayKind = "bytes" | "char" | "pad";

export type FieldSpec = readonly [name: string, kind: ScalarKind] | readonly [name: string, kind: ArrayKind, length: number];

type ValueOf<F> = F extends readonly [string, "u64"]
  ? bigint
  : F extends readonly [string, "bytes", number]
    ? Uint8Array
    : F extends readonly [string, "char", number]
      ? string
      : number;
type InputOf<F> = F extends readonly [string, "u64" | "u64n"]
  ? bigint | number
  : F extends readonly [string, "bytes", number]
    ? Uint8Array
    : F extends readonly [string, "char", number]
      ? string
      : number;
type Named<Fs extends readonly FieldSpec[]> = Exclude<Fs[number], readonly [string, "pad", number]>;

/** The decoded record of a field table (pad fields left out). */
export type StructValue<Fs extends readonly FieldSpec[]> = { [F in Named<Fs> as F[0]]: ValueOf<F> };
/** What `put` accepts; a missing field is written as zero, as a C designated initializer leaves it. */
export type StructInput<Fs extends readonly FieldSpec[]> = { [F in Named<Fs> as F[0]]?: InputOf<F> };

/** Device memory as the structs see it: bytes at an address (MemView, a vring's memory, a sparse memory). */
export interface ByteMemory {
  read(addr: number, len: number): Uint8Array;
  write(addr: number, bytes: Uint8Array): void;
  /** The window's size when known: accesses beyond it fail with the struct's own message before touching memory. */
  readonly len?: number;
}

export type StructSource = Uint8Array | DataView | ByteMemory;

export interface FieldLayout {
  readonly name: string;
  readonly kind: ScalarKind | ArrayKind;
  readonly offset: number;
  readonly size: number;
}

const SCALAR_SIZE: Record<ScalarKind, number> = { u8: 1, u16: 2, u32: 4, i32: 4, u64: 8, u64n: 8 };
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export class Struct<Fs extends readonly FieldSpec[]> {
  readonly name: string;
  readonly size: number;
  readonly fields: readonly FieldLayout[];
  private readonly byName: ReadonlyMap<string, FieldLayout>;

  constructor(name: string, specs: Fs, opts: { size?: number } = {}) {
    const fields: FieldLayout[] = [];
    const byName = new Map<string, FieldLayout>();
    let offset = 0;
    for (const spec of specs) {
      const kind = spec[1];
      const size = spec.length === 3 ? spec[2] : SCALAR_SIZE[kind as ScalarKind];
      if (!Number.isSafeInteger(size) || size < 0) throw new Error(`${name}.${spec[0]}: bad length ${size}`);
      if (byName.has(spec[0])) throw new Error(`${name}.${spec[0]}: declared twice`);
      const f: FieldLayout = { name: spec[0], kind, offset, size };
      fields.push(f);
      if (kind !== "pad") byName.set(f.name, f);
      offset += size;
    }
    // A declared size larger than the fields is trailing padding; smaller is a mistake in the table.
    if (opts.size !== undefined && opts.size < offset) throw new Error(`${name}: fields take ${offset} bytes, declared size ${opts.size}`);
    this.name = name;
    this.size = opts.size ?? offset;
    this.fields = fields;
    this.byName = byName;
  }

  /** Offset of a field from the start of the struct (C's offsetof). */
  offsetOf(field: keyof StructValue<Fs> & string): number {
    return this.field(field).offset;
  }

  /** Size of a field in bytes. */
  sizeOf(field: keyof StructValue<Fs> & string): number {
    return this.field(field).size;
  }

  /**
   * Decodes the struct at `offset`. `label` names this instance in errors
   * (e.g. "programHeaders[3]"; default: the struct's name).
   */
  get(src: StructSource, offset: number, littleEndian = true, label?: string): StructValue<Fs> {
    const { dv, base } = this.window(src, offset, 0, this.size, label);
    const out: Record<string, unknown> = {};
    for (const f of this.fields) {
      if (f.kind === "pad") continue;
      out[f.name] = readField(dv, base + f.offset, f, littleEndian, label ?? this.name);
    }
    return out as StructValue<Fs>;
  }

  /** Decodes one field of the struct at `offset` (bounds-checked for that field only). */
  getField<K extends keyof StructValue<Fs> & string>(src: StructSource, offset: number, field: K, littleEndian = true, label?: string): StructValue<Fs>[K] {
    const f = this.field(field);
    const { dv, base } = this.window(src, offset, f.offset, f.size, label, f);
    return readField(dv, base, f, littleEndian, label ?? this.name) as StructValue<Fs>[K];
  }

  /** Encodes `value` at `offset`; fields not given are written as zero. */
  put(dst: StructSource, offset: number, value: StructInput<Fs>, littleEndian = true, label?: string): void {
    const buf = new Uint8Array(this.size);
    const dv = new DataView(buf.buffer);
    const v = value as Record<string, unknown>;
    for (const f of this.fields) {
      if (f.kind !== "pad" && v[f.name] !== undefined) writeField(dv, f.offset, f, v[f.name], littleEndian, label ?? this.name);
    }
    this.store(dst, offset, 0, buf, label);
  }

  /** Encodes one field of the struct at `offset`, leaving the others untouched. */
  putField<K extends keyof StructInput<Fs> & string>(dst: StructSource, offset: number, field: K, value: NonNullable<StructInput<Fs>[K]>, littleEndian = true, label?: string): void {
    const f = this.field(field);
    const buf = new Uint8Array(f.size);
    writeField(new DataView(buf.buffer), 0, f, value, littleEndian, label ?? this.name);
    this.store(dst, offset, f.offset, buf, label, f);
  }

  /**
   * `count` consecutive structs from `offset` (a header table): one bounds
   * check for the whole array, then linear decoding. `label(i)` names entry i.
   */
  getArray(src: StructSource, offset: number, count: number, littleEndian = true, label: (i: number) => string = (i) => `${this.name}[${i}]`): StructValue<Fs>[] {
    if (!Number.isSafeInteger(count) || count < 0) throw einval(`${label(0)}`, `${this.name} array: bad count ${String(count)}`, String(count), "a non-negative integer");
    if (count === 0) return [];
    // Reject the whole table up front, naming the last entry's first field that does not fit.
    const limit = limitOf(src);
    if (limit !== undefined && count * this.size > limit - offset) {
      const first = Math.max(0, Math.floor((limit - offset) / this.size));
      this.window(src, offset + first * this.size, 0, this.size, label(first));
    }
    const out = new Array<StructValue<Fs>>(count);
    for (let i = 0; i < count; i++) out[i] = this.get(src, offset + i * this.size, littleEndian, label(i));
    return out;
  }

  private field(name: string): FieldLayout {
    const f = this.byName.get(name);
    if (!f) throw new Error(`${this.name} has no field ${name}`);
    return f;
  }

  /** Bounds-checks [offset+rel, offset+rel+len) and returns a DataView whose `base` is that start. */
  private window(src: StructSource, offset: number, rel: number, len: number, label?: string, only?: FieldLayout): { dv: DataView; base: number } {
    const limit = limitOf(src);
    this.check(offset, rel, len, limit, label, only);
    if (src instanceof Uint8Array) return { dv: new DataView(src.buffer, src.byteOffset, src.byteLength), base: offset + rel };
    if (src instanceof DataView) return { dv: src, base: offset + rel };
    const bytes = src.read(offset + rel, len);
    return { dv: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), base: 0 };
  }

  private store(dst: StructSource, offset: number, rel: number, bytes: Uint8Array, label?: string, only?: FieldLayout): void {
    this.check(offset, rel, bytes.length, limitOf(dst), label, only);
    const at = offset + rel;
    if (dst instanceof Uint8Array) dst.set(bytes, at);
    else if (dst instanceof DataView) new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength).set(bytes, at);
    else dst.write(at, bytes);
  }

  private check(offset: number, rel: number, len: number, limit: number | undefined, label?: string, only?: FieldLayout): void {
    const at = label ?? this.name;
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw einval(`${at}.${(only ?? this.fields[0])?.name ?? ""}`, `${label === undefined ? "" : label + ": "}${this.name} at offset ${String(offset)}: not a valid offset`, String(offset), limit ?? "a non-negative integer");
    }
    if (limit === undefined || offset + rel + len <= limit) return;
    // Name the first field that does not fit (or the field asked for).
    const f = only ?? this.fields.find((x) => offset + x.offset + x.size > limit) ?? this.fields[this.fields.length - 1];
    const fname = f?.name ?? "";
    const fo = offset + (f?.offset ?? 0);
    throw new RprocError(
      "EINVAL",
      `${label === undefined ? "" : label + ": "}${this.name}.${fname} at offset ${hex(fo)} + ${hex(f?.size ?? len)} exceeds the limit ${hex(limit)} (${this.name} is ${hex(this.size)} bytes at ${hex(offset)})`,
      { field: `${at}.${fname}`, value: fo + (f?.size ?? len), limit },
    );
  }
}

/** Declares a binary layout once; see the module comment. `const` keeps the field names as literal types. */
export function defineStruct<const Fs extends readonly FieldSpec[]>(name: string, fields: Fs, opts: { size?: number } = {}): Struct<Fs> {
  return new Struct(name, fields, opts);
}

function limitOf(src: StructSource): number | undefined {
  if (src instanceof Uint8Array || src instanceof DataView) return src.byteLength;
  return src.len;
}

function einval(field: string, message: string, value: number | string, limit: number | string): RprocError {
  return new RprocError("EINVAL", message, { field, value, limit });
}

function readField(dv: DataView, at: number, f: FieldLayout, le: boolean, label: string): unknown {
  switch (f.kind) {
    case "u8":
      return dv.getUint8(at);
    case "u16":
      return dv.getUint16(at, le);
    case "u32":
      return dv.getUint32(at, le);
    case "i32":
      return dv.getInt32(at, le);
    case "u64":
      return dv.getBigUint64(at, le);
    case "u64n": {
      const v = dv.getBigUint64(at, le);
      if (v > MAX_SAFE) {
        throw new RprocError("EOVERFLOW", `${label}.${f.name} ${hex(v)} does not fit in 53 bits`, { field: `${label}.${f.name}`, value: hex(v), limit: Number.MAX_SAFE_INTEGER });
      }
      return Number(v);
    }
    case "bytes":
      return new Uint8Array(dv.buffer, dv.byteOffset + at, f.size);
    case "char": {
      let text = "";
      for (let i = 0; i < f.size; i++) {
        const c = dv.getUint8(at + i);
        if (c === 0) break;
        text += String.fromCharCode(c);
      }
      return text;
    }
    default:
      return undefined;
  }
}

function writeField(dv: DataView, at: number, f: FieldLayout, v: unknown, le: boolean, label: string): void {
  const bad = (why: string): RprocError => new RprocError("EINVAL", `${label}.${f.name}: ${why}`, { field: `${label}.${f.name}`, value: String(v).slice(0, 64) });
  switch (f.kind) {
    case "u8":
    case "u16":
    case "u32":
    case "i32": {
      const n = Number(v);
      const [lo, hi] = f.kind === "i32" ? [-0x80000000, 0x7fffffff] : [0, 2 ** (8 * f.size) - 1];
      if (!Number.isInteger(n) || n < lo || n > hi) throw bad(`${String(v)} does not fit in ${f.kind}`);
      if (f.kind === "u8") dv.setUint8(at, n);
      else if (f.kind === "u16") dv.setUint16(at, n, le);
      else if (f.kind === "u32") dv.setUint32(at, n, le);
      else dv.setInt32(at, n, le);
      return;
    }
    case "u64":
    case "u64n": {
      if (typeof v === "number" && !Number.isSafeInteger(v)) throw bad(`${v} is not an exact integer`);
      const b = BigInt(v as bigint | number);
      if (b < 0n || b > 0xffffffffffffffffn) throw bad(`${hex(b)} does not fit in u64`);
      dv.setBigUint64(at, b, le);
      return;
    }
    case "bytes": {
      const b = v as Uint8Array;
      if (b.length > f.size) throw bad(`${b.length} bytes do not fit in ${f.size}`);
      new Uint8Array(dv.buffer, dv.byteOffset + at, f.size).set(b);
      return;
    }
    case "char": {
      const s = String(v);
      if (s.length > f.size) throw bad(`${s.length} characters do not fit in char[${f.size}]`);
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c > 0xff) throw bad(`character ${i} is not a byte`);
        dv.setUint8(at + i, c);
      }
      return;
    }
  }
}
