/**
 * A loaded platform: its validated description, its sparse physical memory
 * and the two ways into that memory. The host (non-secure Linux side) is
 * refused TEE-owned regions and ranges the TEE has firewalled; the secure
 * world (TA / PTA) is not. Knows nothing of remoteproc states.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { RprocError, hex } from "../errors.js";
import { SparseMemory } from "./sparse-memory.js";
import type { MemoryRegion, PlatformDesc, ProcessorDesc, ReservedPool } from "./types.js";
import { unmappedAt, validatePlatform } from "./validate.js";

const BUNDLED_DIR = fileURLToPath(new URL("../../platforms/", import.meta.url));

interface HostLock {
  pa: number;
  size: number;
  owner: string;
}

export class Platform {
  readonly desc: PlatformDesc;
  readonly memory: SparseMemory;
  /** Folder of the platform file (relative paths in it, e.g. tee.publicKey, resolve from here). */
  readonly dir: string | undefined;
  private locks: HostLock[] = [];

  private constructor(desc: PlatformDesc, dir: string | undefined) {
    this.desc = desc;
    this.dir = dir;
    this.memory = new SparseMemory();
    for (const r of desc.regions) {
      if (r.aliasOf === undefined) continue;
      const target = desc.regions.find((t) => t.name === r.aliasOf)!;
      this.memory.alias(r.pa, r.size, target.pa);
    }
  }

  /** Validate a parsed JSON value; `source` is the file it came from (sets `dir`). */
  static parse(json: unknown, source?: string): Platform {
    return new Platform(validatePlatform(json), source === undefined ? undefined : dirname(resolve(source)));
  }

  /** A bundled platform by name ("stm32mp157", "am64x", ...) or a path to a platform JSON file. */
  static load(nameOrPath: string): Platform {
    let file: string;
    if (isPlatformPath(nameOrPath)) {
      file = resolve(nameOrPath);
      if (!existsSync(file)) throw new RprocError("ENOENT", `platform file ${nameOrPath} not found`, { field: "platform", value: nameOrPath });
    } else {
      const bundled = bundledFiles();
      const hit = bundled.find((b) => b.name === nameOrPath);
      if (!hit) {
        const names = bundled.map((b) => b.name).join(", ");
        throw new RprocError("ENOENT", `no bundled platform named ${JSON.stringify(nameOrPath)} (bundled: ${names})`, {
          field: "platform",
          value: nameOrPath,
        });
      }
      file = hit.path;
    }
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new RprocError("EIO", `cannot read platform file ${file}: ${(e as Error).message}`, { field: "platform", cause: e });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new RprocError("EINVAL", `platform file ${file} is not valid JSON: ${(e as Error).message}`, { field: "(json)", cause: e });
    }
    try {
      return Platform.parse(json, file);
    } catch (e) {
      if (e instanceof RprocError) {
        throw new RprocError(e.code, `${file}: ${e.message}`, { field: e.field, value: e.value, limit: e.limit, cause: e });
      }
      throw e;
    }
  }

  /** The platform files shipped in platforms/, by name (file name without .json). */
  static bundled(): { name: string; description: string; path: string }[] {
    return bundledFiles().map(({ name, path }) => {
      let description = "";
      try {
        const j = JSON.parse(readFileSync(path, "utf8")) as { description?: unknown };
        if (typeof j.description === "string") description = j.description;
      } catch {
        // A broken bundled file still lists; load() reports what is wrong with it.
      }
      return { name, description, path };
    });
  }

  get name(): string {
    return this.desc.name;
  }

  /** A remote processor by name; the first one when no name is given. */
  processor(name?: string): ProcessorDesc {
    const p = name === undefined ? this.desc.processors[0] : this.desc.processors.find((x) => x.name === name);
    if (!p) {
      const names = this.desc.processors.map((x) => x.name).join(", ");
      throw new RprocError("ENODEV", `platform ${this.desc.name} has no processor ${JSON.stringify(name)} (has: ${names})`, {
        field: "processor",
        value: name ?? "",
      });
    }
    return p;
  }

  pool(name: string): ReservedPool | undefined {
    return this.desc.pools.find((p) => p.name === name);
  }

  /** The region holding all of [pa, pa+len) (len 0 counts as 1 byte). */
  regionAt(pa: number, len: number): MemoryRegion | undefined {
    const n = Math.max(len, 1);
    return this.desc.regions.find((r) => pa >= r.pa && pa + n <= r.pa + r.size);
  }

  /** Device address to physical: the whole range must fit one translation (first match in table order). */
  daToPa(proc: ProcessorDesc, da: number, len: number): number | undefined {
    if (!validRange(da, len)) return undefined;
    const t = proc.translations.find((x) => da >= x.da && da + len <= x.da + x.size);
    return t === undefined ? undefined : t.pa + (da - t.da);
  }

  /** Physical to device address: the whole range must fit one translation (first match in table order). */
  paToDa(proc: ProcessorDesc, pa: number, len: number): number | undefined {
    if (!validRange(pa, len)) return undefined;
    const t = proc.translations.find((x) => pa >= x.pa && pa + len <= x.pa + x.size);
    return t === undefined ? undefined : t.da + (pa - t.pa);
  }

  hostRead(pa: number, len: number): Uint8Array {
    this.checkHost(pa, len, "read");
    return this.memory.read(pa, len);
  }
  hostWrite(pa: number, data: Uint8Array): void {
    this.checkHost(pa, data.length, "write");
    this.memory.write(pa, data);
  }
  hostFill(pa: number, len: number, v: number): void {
    this.checkHost(pa, len, "fill");
    this.memory.fill(pa, len, v);
  }

  secureRead(pa: number, len: number): Uint8Array {
    this.checkMapped(pa, len, "secure read");
    return this.memory.read(pa, len);
  }
  secureWrite(pa: number, data: Uint8Array): void {
    this.checkMapped(pa, data.length, "secure write");
    this.memory.write(pa, data);
  }
  secureFill(pa: number, len: number, v: number): void {
    this.checkMapped(pa, len, "secure fill");
    this.memory.fill(pa, len, v);
  }

  /**
   * Firewall [pa, pa+size) from the host on behalf of `owner` (e.g. the TA
   * session for one rproc id). Alias-aware: the same RAM seen at another bus
   * address is locked too.
   */
  lockForHost(pa: number, size: number, owner: string): void {
    this.checkMapped(pa, size, "lock");
    if (size === 0) throw new RprocError("EINVAL", `lock of ${hex(pa)}: size 0`, { field: "size", value: 0 });
    for (const c of this.memory.canonicalRanges(pa, size)) this.locks.push({ pa: c.pa, size: c.size, owner });
  }

  /** Drop every lock taken by `owner`. */
  unlockForHost(owner: string): void {
    this.locks = this.locks.filter((l) => l.owner !== owner);
  }

  isHostLocked(pa: number, len: number): boolean {
    if (this.locks.length === 0 || !validRange(pa, len)) return false;
    return this.memory
      .canonicalRanges(pa, Math.max(len, 1))
      .some((c) => this.locks.some((l) => c.pa < l.pa + l.size && l.pa < c.pa + c.size));
  }

  /** EFAULT unless every byte of the range lies in a declared region (a bus error on hardware). */
  private checkMapped(pa: number, len: number, what: string): void {
    if (!validRange(pa, len)) {
      throw new RprocError("EINVAL", `${what} ${String(pa)} + ${String(len)}: not a valid address range`, { field: "pa", value: String(pa) });
    }
    const hole = unmappedAt(this.desc.regions, pa, Math.max(len, 1));
    if (hole !== undefined) {
      throw new RprocError("EFAULT", `${what} ${hex(pa)} + ${hex(len)}: ${hex(hole)} is outside every region of ${this.desc.name}`, {
        field: "pa",
        value: hole,
      });
    }
  }

  private checkHost(pa: number, len: number, what: string): void {
    this.checkMapped(pa, len, `host ${what}`);
    const end = pa + Math.max(len, 1);
    const tee = this.desc.regions.find((r) => r.owner === "tee" && pa < r.pa + r.size && r.pa < end);
    if (tee) {
      throw new RprocError("EACCES", `host ${what} ${hex(pa)} + ${hex(len)}: region ${tee.name} belongs to the TEE`, {
        field: "pa",
        value: pa,
      });
    }
    if (this.isHostLocked(pa, len)) {
      const owners = [...new Set(this.locks.map((l) => l.owner))].join(", ");
      throw new RprocError("EACCES", `host ${what} ${hex(pa)} + ${hex(len)}: memory is firewalled from the host (locked by ${owners})`, {
        field: "pa",
        value: pa,
      });
    }
  }
}

/** Whether a platform argument names a JSON file (resolved as a path) rather than a bundled platform. */
export function isPlatformPath(arg: string): boolean {
  return arg.includes("/") || arg.includes("\\") || arg.endsWith(".json");
}

/** The bundled platform files by name, sorted; only the folder is read (load() by name needs no file contents). */
function bundledFiles(): { name: string; path: string }[] {
  let names: string[];
  try {
    names = readdirSync(BUNDLED_DIR).filter((n) => n.endsWith(".json"));
  } catch {
    return [];
  }
  return names
    .map((n) => ({ name: n.slice(0, -".json".length), path: resolve(BUNDLED_DIR, n) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function validRange(a: number, len: number): boolean {
  return Number.isSafeInteger(a) && a >= 0 && Number.isSafeInteger(len) && len >= 0 && a + len <= Number.MAX_SAFE_INTEGER;
}
