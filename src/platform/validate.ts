/**
 * Validation of a platform file. The file is hostile input like any firmware:
 * every key, type, address and cross reference is checked, and the first
 * problem is reported as RprocError EINVAL whose `field` is the JSON path
 * ("processors[0].translations[1].size") and whose message gives the value
 * and the limit. Addresses may be JSON numbers or "0x…" strings (device trees
 * are read in hex); the result holds plain numbers and the documented defaults.
 */
import { RprocError, hex } from "../errors.js";
import type {
  DriverModel,
  CoreKind,
  MemoryRegion,
  Owner,
  PlatformDesc,
  ProcessorDesc,
  RegionKind,
  ReservedPool,
  Translation,
} from "./types.js";
import { PAGE_SIZE } from "./sparse-memory.js";

/** Physical addresses are exact JS numbers: pa + size may reach 2^53 at most. */
export const PA_LIMIT = 2 ** 53;
/** The remote cores of the schema are 32-bit (A53 aside): a device address range must end by 2^32. */
export const DA_LIMIT_32 = 2 ** 32;

const REGION_KINDS: readonly RegionKind[] = ["sram", "ddr", "tcm", "mmio", "rom"];
const OWNERS: readonly Owner[] = ["host", "tee", "shared"];
const CORES: readonly CoreKind[] = ["cortex-m4", "cortex-m7", "cortex-m33", "cortex-r5", "cortex-a53"];
const MAILBOX_KINDS = ["stm32-ipcc", "ti-mailbox", "imx-mu"] as const;

type Json = Record<string, unknown>;

function fail(field: string, message: string, value?: number | string, limit?: number | string): never {
  throw new RprocError("EINVAL", `platform: ${field}: ${message}`, { field, value, limit });
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  if (typeof v === "object") return "an object";
  return String(v);
}

function object(v: unknown, path: string, required: string[], optional: string[]): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(path || "(root)", `expected an object, got ${describe(v)}`);
  const o = v as Json;
  const known = new Set([...required, ...optional]);
  for (const k of Object.keys(o)) {
    if (!known.has(k)) fail(join(path, k), `unknown key (allowed: ${[...known].join(", ")})`, k);
  }
  for (const k of required) if (!(k in o)) fail(join(path, k), "missing required key");
  return o;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function string(v: unknown, path: string): string {
  if (typeof v !== "string" || v.length === 0) fail(path, `expected a non-empty string, got ${describe(v)}`);
  if (/[\0\n]/.test(v)) fail(path, "must not contain NUL or newline", v);
  return v;
}

function bool(v: unknown, path: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== "boolean") fail(path, `expected true or false, got ${describe(v)}`);
  return v;
}

function oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T {
  if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
    fail(path, `expected one of ${allowed.join(", ")}, got ${describe(v)}`);
  }
  return v as T;
}

function array(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, `expected an array, got ${describe(v)}`);
  return v;
}

/** A non-negative integer below `limit`, from a JSON number or a "0x…"/decimal string. */
function address(v: unknown, path: string, limit = PA_LIMIT): number {
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "string" && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) {
    const b = BigInt(v);
    if (b >= BigInt(limit)) fail(path, `${v} exceeds the limit ${hex(limit - 1)}`, v, hex(limit - 1));
    n = Number(b);
  } else fail(path, `expected a non-negative integer or "0x…" string, got ${describe(v)}`);
  if (!Number.isInteger(n) || n < 0) fail(path, `expected a non-negative integer, got ${describe(v)}`, String(v));
  if (n >= limit) fail(path, `${hex(n)} exceeds the limit ${hex(limit - 1)}`, n, limit - 1);
  return n;
}

/** A range that is non-empty and does not run past `limit` (no wrap). */
function range(o: Json, path: string, base: "pa" | "da", limit: number): { start: number; size: number } {
  const start = address(o[base], join(path, base), limit);
  const size = address(o.size, join(path, "size"), limit + 1);
  if (size === 0) fail(join(path, "size"), "must not be 0", 0);
  if (start + size > limit) {
    fail(join(path, "size"), `${base} ${hex(start)} + size ${hex(size)} runs past ${hex(limit)}`, start + size, limit);
  }
  return { start, size };
}

function unique(names: string[], path: string, what: string): void {
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    const prev = seen.get(n);
    if (prev !== undefined) fail(`${path}[${i}].name`, `duplicate ${what} name ${JSON.stringify(n)} (also ${path}[${prev}])`, n);
    seen.set(n, i);
  });
}

/**
 * The first address of [pa, pa+len) that no region holds, or undefined when
 * the regions hold all of it. Union coverage: adjacent regions (e.g. OCRAM
 * banks) may together hold one range. Shared by validation, the platform's
 * access checks and MemView.
 */
export function unmappedAt(regions: readonly MemoryRegion[], pa: number, len: number): number | undefined {
  let cur = pa;
  const end = pa + len;
  while (cur < end) {
    const r = regions.find((x) => cur >= x.pa && cur < x.pa + x.size);
    if (!r) return cur;
    cur = r.pa + r.size;
  }
  return undefined;
}

function parseRegion(v: unknown, path: string): MemoryRegion {
  const o = object(v, path, ["name", "pa", "size", "kind", "owner"], ["aliasOf"]);
  const { start, size } = range(o, path, "pa", PA_LIMIT);
  const r: MemoryRegion = {
    name: string(o.name, join(path, "name")),
    pa: start,
    size,
    kind: oneOf(o.kind, join(path, "kind"), REGION_KINDS),
    owner: oneOf(o.owner, join(path, "owner"), OWNERS),
  };
  if (o.aliasOf !== undefined) r.aliasOf = string(o.aliasOf, join(path, "aliasOf"));
  return r;
}

function parsePool(v: unknown, path: string): ReservedPool {
  const o = object(v, path, ["name", "pa", "size"], ["noMap"]);
  const { start, size } = range(o, path, "pa", PA_LIMIT);
  const p: ReservedPool = { name: string(o.name, join(path, "name")), pa: start, size };
  if (o.noMap !== undefined) p.noMap = bool(o.noMap, join(path, "noMap"), false);
  return p;
}

function parseTranslation(v: unknown, path: string, daLimit: number): Translation {
  const o = object(v, path, ["da", "pa", "size"], ["name"]);
  const da = address(o.da, join(path, "da"), daLimit);
  const { start, size } = range(o, path, "pa", PA_LIMIT);
  if (da + size > daLimit) fail(join(path, "size"), `da ${hex(da)} + size ${hex(size)} runs past ${hex(daLimit)}`, da + size, daLimit);
  const t: Translation = { da, pa: start, size };
  if (o.name !== undefined) t.name = string(o.name, join(path, "name"));
  return t;
}

function checkRegions(regions: MemoryRegion[]): void {
  unique(regions.map((r) => r.name), "regions", "region");
  const sorted = regions.map((r, i) => ({ r, i })).sort((a, b) => a.r.pa - b.r.pa);
  for (let k = 1; k < sorted.length; k++) {
    const a = sorted[k - 1]!;
    const b = sorted[k]!;
    if (b.r.pa < a.r.pa + a.r.size) {
      fail(`regions[${b.i}].pa`, `${b.r.name} at ${hex(b.r.pa)} overlaps regions[${a.i}] ${a.r.name} ending at ${hex(a.r.pa + a.r.size)}`, b.r.pa, a.r.pa + a.r.size);
    }
  }
  regions.forEach((r, i) => {
    if (r.aliasOf === undefined) return;
    const path = `regions[${i}].aliasOf`;
    const t = regions.find((x) => x.name === r.aliasOf);
    if (!t) fail(path, `no region named ${JSON.stringify(r.aliasOf)}`, r.aliasOf);
    if (t === r) fail(path, "a region cannot be an alias of itself", r.aliasOf);
    if (t.aliasOf !== undefined) fail(path, `${t.name} is itself an alias; name the original region`, r.aliasOf);
    if (t.size !== r.size) fail(`regions[${i}].size`, `alias size ${hex(r.size)} differs from ${t.name}'s ${hex(t.size)}`, r.size, t.size);
    if (r.pa % PAGE_SIZE || t.pa % PAGE_SIZE || r.size % PAGE_SIZE) {
      fail(path, `an alias and its region must be ${hex(PAGE_SIZE)}-aligned in address and size`, r.pa, PAGE_SIZE);
    }
  });
}

function parseProcessor(v: unknown, path: string, desc: { regions: MemoryRegion[]; pools: ReservedPool[] }): ProcessorDesc {
  const o = object(v, path, ["name", "firmware", "translations"], [
    "driver", "core", "elfMachine", "memoryRegions", "registerCarveouts", "dmaPool", "hasIommu",
    "initiallyRunning", "coredumpSegments", "firewall", "tee", "mailbox", "watchdog", "peripherals", "unmodelledMmio", "driverModel",
  ]);
  const p: ProcessorDesc = {
    name: string(o.name, join(path, "name")),
    driver: o.driver === undefined ? "sim" : string(o.driver, join(path, "driver")),
    firmware: string(o.firmware, join(path, "firmware")),
    translations: [],
    memoryRegions: [],
    registerCarveouts: bool(o.registerCarveouts, join(path, "registerCarveouts"), false),
    hasIommu: bool(o.hasIommu, join(path, "hasIommu"), false),
    initiallyRunning: bool(o.initiallyRunning, join(path, "initiallyRunning"), false),
    coredumpSegments:
      o.coredumpSegments === undefined ? "none" : oneOf(o.coredumpSegments, join(path, "coredumpSegments"), ["memory-regions", "none"] as const),
  };
  if (o.core !== undefined) p.core = oneOf(o.core, join(path, "core"), CORES);
  if (o.elfMachine !== undefined) p.elfMachine = address(o.elfMachine, join(path, "elfMachine"), 0x10000);
  const daLimit = p.core === "cortex-a53" ? PA_LIMIT : DA_LIMIT_32;

  const tpath = join(path, "translations");
  const ts = array(o.translations, tpath);
  if (ts.length === 0) fail(tpath, "needs at least one da <-> pa range");
  p.translations = ts.map((t, i) => parseTranslation(t, `${tpath}[${i}]`, daLimit));
  p.translations.forEach((t, i) => {
    if (unmappedAt(desc.regions, t.pa, t.size) !== undefined) {
      fail(`${tpath}[${i}].pa`, `pa ${hex(t.pa)} + size ${hex(t.size)} is not inside the platform's regions`, t.pa);
    }
  });
  unique(p.translations.filter((t) => t.name !== undefined).map((t) => t.name!), tpath, "translation");

  const poolNames = new Set(desc.pools.map((x) => x.name));
  if (o.memoryRegions !== undefined) {
    const mpath = join(path, "memoryRegions");
    p.memoryRegions = array(o.memoryRegions, mpath).map((n, i) => {
      const name = string(n, `${mpath}[${i}]`);
      if (!poolNames.has(name)) fail(`${mpath}[${i}]`, `no pool named ${JSON.stringify(name)}`, name);
      return name;
    });
    p.memoryRegions.forEach((n, i) => {
      const j = p.memoryRegions.indexOf(n);
      if (j !== i) fail(`${mpath}[${i}]`, `pool ${JSON.stringify(n)} listed twice (also ${mpath}[${j}])`, n);
    });
  }
  if (o.dmaPool !== undefined) {
    p.dmaPool = string(o.dmaPool, join(path, "dmaPool"));
    if (!poolNames.has(p.dmaPool)) fail(join(path, "dmaPool"), `no pool named ${JSON.stringify(p.dmaPool)}`, p.dmaPool);
  }
  if (o.driverModel !== undefined) p.driverModel = parseDriverModel(o.driverModel, join(path, "driverModel"), p, desc.pools);
  if (o.firewall !== undefined) p.firewall = bool(o.firewall, join(path, "firewall"), false);
  if (o.tee !== undefined) {
    const tp = join(path, "tee");
    const t = object(o.tee, tp, ["rprocId"], ["publicKey", "acceptEcdsa"]);
    p.tee = { rprocId: address(t.rprocId, join(tp, "rprocId"), DA_LIMIT_32) };
    if (t.publicKey !== undefined) p.tee.publicKey = string(t.publicKey, join(tp, "publicKey"));
    if (t.acceptEcdsa !== undefined) p.tee.acceptEcdsa = bool(t.acceptEcdsa, join(tp, "acceptEcdsa"), false);
  }
  if (o.mailbox !== undefined) {
    const mp = join(path, "mailbox");
    const m = object(o.mailbox, mp, ["kind", "pa", "size"], ["channels"]);
    const { start, size } = range(m, mp, "pa", PA_LIMIT);
    p.mailbox = { kind: oneOf(m.kind, join(mp, "kind"), MAILBOX_KINDS), pa: start, size };
    mustBeMapped(desc.regions, start, size, join(mp, "pa"));
    if (m.channels !== undefined) {
      const cp = join(mp, "channels");
      p.mailbox.channels = array(m.channels, cp).map((c, i) => string(c, `${cp}[${i}]`));
      p.mailbox.channels.forEach((c, i) => {
        if (p.mailbox!.channels!.indexOf(c) !== i) fail(`${cp}[${i}]`, `duplicate channel ${JSON.stringify(c)}`, c);
      });
    }
  }
  if (o.watchdog !== undefined) {
    const wp = join(path, "watchdog");
    const w = object(o.watchdog, wp, ["kind", "timeoutMs"], ["pa", "size"]);
    p.watchdog = { kind: string(w.kind, join(wp, "kind")), timeoutMs: address(w.timeoutMs, join(wp, "timeoutMs"), DA_LIMIT_32) };
    if (p.watchdog.timeoutMs === 0) fail(join(wp, "timeoutMs"), "must not be 0", 0);
    if ((w.pa === undefined) !== (w.size === undefined)) fail(join(wp, w.pa === undefined ? "pa" : "size"), "pa and size go together");
    if (w.pa !== undefined) {
      const { start, size } = range(w, wp, "pa", PA_LIMIT);
      mustBeMapped(desc.regions, start, size, join(wp, "pa"));
      p.watchdog.pa = start;
      p.watchdog.size = size;
    }
  }
  if (o.peripherals !== undefined) {
    const pp = join(path, "peripherals");
    p.peripherals = array(o.peripherals, pp).map((x, i) => {
      const ip = `${pp}[${i}]`;
      const q = object(x, ip, ["name", "pa", "size"], ["da"]);
      const { start, size } = range(q, ip, "pa", PA_LIMIT);
      mustBeMapped(desc.regions, start, size, join(ip, "pa"));
      const per: { name: string; pa: number; size: number; da?: number } = { name: string(q.name, join(ip, "name")), pa: start, size };
      if (q.da !== undefined) {
        per.da = address(q.da, join(ip, "da"), daLimit);
        if (per.da + size > daLimit) fail(join(ip, "size"), `da ${hex(per.da)} + size ${hex(size)} runs past ${hex(daLimit)}`, per.da + size, daLimit);
      }
      return per;
    });
    unique(p.peripherals.map((x) => x.name), pp, "peripheral");
  }
  if (o.unmodelledMmio !== undefined) p.unmodelledMmio = oneOf(o.unmodelledMmio, join(path, "unmodelledMmio"), ["log", "fault"] as const);
  return p;
}

function mustBeMapped(regions: MemoryRegion[], pa: number, size: number, field: string): void {
  if (unmappedAt(regions, pa, size) !== undefined) fail(field, `${hex(pa)} + ${hex(size)} is not inside the platform's regions`, pa);
}

/** Validate a parsed JSON value as a platform description; throws RprocError EINVAL naming the field. */
export function validatePlatform(json: unknown): PlatformDesc {
  const o = object(json, "", ["name", "description", "sources", "regions", "pools", "processors"], []);
  const name = string(o.name, "name");
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) fail("name", "use letters, digits, '.', '_' and '-' only", name);
  const description = string(o.description, "description");
  const sources = array(o.sources, "sources").map((s, i) => string(s, `sources[${i}]`));
  if (sources.length === 0) fail("sources", "name at least one public source file for the numbers");

  const regions = array(o.regions, "regions").map((r, i) => parseRegion(r, `regions[${i}]`));
  if (regions.length === 0) fail("regions", "needs at least one memory region");
  checkRegions(regions);

  const pools = array(o.pools, "pools").map((p, i) => parsePool(p, `pools[${i}]`));
  unique(pools.map((p) => p.name), "pools", "pool");
  pools.forEach((p, i) => {
    if (!regions.some((r) => p.pa >= r.pa && p.pa + p.size <= r.pa + r.size)) {
      fail(`pools[${i}].pa`, `pool ${p.name} ${hex(p.pa)} + ${hex(p.size)} is not inside any region`, p.pa);
    }
  });

  const procs = array(o.processors, "processors");
  if (procs.length === 0) fail("processors", "needs at least one remote processor");
  const processors = procs.map((p, i) => parseProcessor(p, `processors[${i}]`, { regions, pools }));
  unique(processors.map((p) => p.name), "processors", "processor");
  const ids = new Map<number, number>();
  processors.forEach((p, i) => {
    if (!p.tee) return;
    const prev = ids.get(p.tee.rprocId);
    if (prev !== undefined) fail(`processors[${i}].tee.rprocId`, `rprocId ${p.tee.rprocId} already used by processors[${prev}]`, p.tee.rprocId);
    ids.set(p.tee.rprocId, i);
  });
  return { name, description, sources, regions, pools, processors };
}

/** processors[].driverModel: every name it gives must exist (a translation, a memory-region of this processor). */
function parseDriverModel(v: unknown, path: string, p: ProcessorDesc, pools: ReservedPool[]): DriverModel {
  const o = object(v, path, ["kernelDriver"], ["daToVa", "missingResourceTable", "loadedTableRegion", "carveoutSkip", "recovery", "setsElfInfo"]);
  const dpath = join(path, "daToVa");
  const d = o.daToVa === undefined ? {} : object(o.daToVa, dpath, [], ["translations", "memoryRegions", "strictEnd"]);
  const tNames = new Set(p.translations.map((t) => t.name).filter((n) => n !== undefined));
  let translations: DriverModel["daToVa"]["translations"] = "all";
  if (d.translations === "all" || d.translations === "none") translations = d.translations;
  else if (d.translations !== undefined) {
    const tp = join(dpath, "translations");
    translations = array(d.translations, tp).map((n, i) => {
      const name = string(n, `${tp}[${i}]`);
      if (!tNames.has(name)) fail(`${tp}[${i}]`, `no translation named ${JSON.stringify(name)} in processor ${p.name}`, name);
      return name;
    });
  }
  let memoryRegions: DriverModel["daToVa"]["memoryRegions"] = "none";
  if (d.memoryRegions !== undefined && d.memoryRegions !== "none") {
    const mp = join(dpath, "memoryRegions");
    const m = object(d.memoryRegions, mp, [], ["from", "skip"]);
    const from = m.from === undefined ? 0 : address(m.from, join(mp, "from"), 0x10000);
    const skip = m.skip === undefined ? [] : array(m.skip, join(mp, "skip")).map((x, i) => string(x, `${join(mp, "skip")}[${i}]`));
    memoryRegions = { from, skip };
  }
  const model: DriverModel = {
    kernelDriver: string(o.kernelDriver, join(path, "kernelDriver")),
    daToVa: { translations, memoryRegions, strictEnd: bool(d.strictEnd, join(dpath, "strictEnd"), false) },
    missingResourceTable:
      o.missingResourceTable === undefined ? "refuse" : oneOf(o.missingResourceTable, join(path, "missingResourceTable"), ["refuse", "warn"] as const),
    carveoutSkip: o.carveoutSkip === undefined ? [] : array(o.carveoutSkip, join(path, "carveoutSkip")).map((x, i) => string(x, `${join(path, "carveoutSkip")}[${i}]`)),
    recovery: o.recovery === undefined ? "enabled" : oneOf(o.recovery, join(path, "recovery"), ["enabled", "disabled"] as const),
    setsElfInfo: bool(o.setsElfInfo, join(path, "setsElfInfo"), true),
  };
  if (o.loadedTableRegion !== undefined) {
    const lp = join(path, "loadedTableRegion");
    const name = string(o.loadedTableRegion, lp);
    if (!p.memoryRegions.includes(name) || !pools.some((x) => x.name === name)) fail(lp, `${JSON.stringify(name)} is not a memory-region of processor ${p.name}`, name);
    model.loadedTableRegion = name;
  }
  return model;
}
