/**
 * The TS stand-in for a kernel virtual address (what ioremap / memremap /
 * dma_alloc_coherent return): a bounds-checked window [pa, pa+len) on the
 * platform's memory, accessed as the host or as the secure world. Every
 * access goes through the platform, so TEE locks and region ownership apply
 * at the moment of access, as a firewall would.
 */
import { RprocError, hex } from "../errors.js";
import { checkRange } from "../formats/bytes.js";
import type { Platform } from "./platform.js";
import { unmappedAt } from "./validate.js";

export class MemView {
  readonly platform: Platform;
  readonly pa: number;
  readonly len: number;
  readonly world: "host" | "secure";

  constructor(platform: Platform, pa: number, len: number, world: "host" | "secure" = "host") {
    if (!Number.isSafeInteger(pa) || pa < 0 || !Number.isSafeInteger(len) || len < 0 || pa + len > Number.MAX_SAFE_INTEGER) {
      throw new RprocError("EINVAL", `memory view ${String(pa)} + ${String(len)}: not a valid address range`, { field: "pa", value: String(pa) });
    }
    if (unmappedAt(platform.desc.regions, pa, len) !== undefined) {
      throw new RprocError("EFAULT", `memory view ${hex(pa)} + ${hex(len)} is outside the regions of ${platform.desc.name}`, {
        field: "pa",
        value: pa,
      });
    }
    this.platform = platform;
    this.pa = pa;
    this.len = len;
    this.world = world;
  }

  read(off: number, len: number): Uint8Array {
    checkRange(off, len, this.len, `view ${hex(this.pa)} read`);
    return this.world === "host" ? this.platform.hostRead(this.pa + off, len) : this.platform.secureRead(this.pa + off, len);
  }

  write(off: number, data: Uint8Array): void {
    checkRange(off, data.length, this.len, `view ${hex(this.pa)} write`);
    if (this.world === "host") this.platform.hostWrite(this.pa + off, data);
    else this.platform.secureWrite(this.pa + off, data);
  }

  fill(off: number, len: number, v: number): void {
    checkRange(off, len, this.len, `view ${hex(this.pa)} fill`);
    if (this.world === "host") this.platform.hostFill(this.pa + off, len, v);
    else this.platform.secureFill(this.pa + off, len, v);
  }

  /** Little-endian u32, as every remoteproc structure is laid out. */
  u32(off: number): number {
    const b = this.read(off, 4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }

  setU32(off: number, v: number): void {
    const x = v >>> 0;
    this.write(off, Uint8Array.of(x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, x >>> 24));
  }

  /** A narrower window on the same memory, same world. */
  sub(off: number, len: number): MemView {
    checkRange(off, len, this.len, `view ${hex(this.pa)} sub`);
    return new MemView(this.platform, this.pa + off, len, this.world);
  }
}
