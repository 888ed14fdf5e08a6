/**
 * The Unicorn 2 C API seen from Node through koffi. Loaded lazily: nothing
 * here runs until an emulated processor starts, so a machine without
 * libunicorn2 (or without koffi's prebuilt binary) still runs the simulated
 * driver; the emulated one then refuses with ENODEV naming the package.
 *
 * Only the calls the emulated driver needs are declared. Callbacks are
 * koffi-registered functions, invoked synchronously on the JS thread while
 * uc_emu_start runs; they must not throw (an exception cannot unwind through
 * the emulator), so each hook catches and records instead.
 */
import { createRequire } from "node:module";
import { RprocError } from "../../errors.js";
import { UC_CTL_WRITE_CPU_MODEL, UC_ERR_OK, UC_HOOK_CODE, UC_HOOK_INSN_INVALID, UC_HOOK_INTR } from "./unicorn-constants.js";

type Koffi = typeof import("koffi");
type KoffiFn = (...args: unknown[]) => unknown;
type Registered = ReturnType<Koffi["register"]>;

/** All ones: odd (never a fetch address) and beyond every 32-bit PC. */
const NEVER_PC = 0xffffffffffffffffn;

/** Debian package that provides the shared library. */
export const UNICORN_PACKAGE = "libunicorn2";
const DEFAULT_LIBRARY = "libunicorn.so.2";

export interface UnicornLib {
  readonly koffi: Koffi;
  readonly version: string;
  readonly fn: {
    uc_open: KoffiFn;
    uc_close: KoffiFn;
    uc_ctl_cpu_model: KoffiFn;
    uc_query: KoffiFn;
    uc_errno: KoffiFn;
    uc_strerror: KoffiFn;
    uc_mem_map_ptr: KoffiFn;
    uc_mem_unmap: KoffiFn;
    uc_mem_read: KoffiFn;
    uc_mem_write: KoffiFn;
    uc_mmio_map: KoffiFn;
    uc_reg_read: KoffiFn;
    uc_reg_write: KoffiFn;
    uc_emu_start: KoffiFn;
    uc_emu_stop: KoffiFn;
    uc_hook_add: KoffiFn;
    uc_hook_del: KoffiFn;
  };
  readonly types: {
    hookCode: unknown;
    hookMemInvalid: unknown;
    hookIntr: unknown;
    hookInsnInvalid: unknown;
    mmioRead: unknown;
    mmioWrite: unknown;
  };
}

/** Loaded libraries by path: RPROC_UNICORN_LIB is honoured even after another path was loaded in this process. */
const cached = new Map<string, UnicornLib>();
let koffiError: RprocError | undefined;

/**
 * Loads koffi and libunicorn once per process (per library path). The path
 * can be overridden with RPROC_UNICORN_LIB (a path, or "none" to simulate
 * its absence). Every failure is an ENODEV RprocError naming the package:
 * a missing file, and a library that is not Unicorn 2 (libunicorn1 has no
 * uc_ctl, another library no uc_open).
 */
export function loadUnicorn(env: NodeJS.ProcessEnv = process.env): UnicornLib {
  const path = env.RPROC_UNICORN_LIB || DEFAULT_LIBRARY;
  if (path === "none") throw missingLibrary(path, "disabled by RPROC_UNICORN_LIB=none");
  const hit = cached.get(path);
  if (hit) return hit;
  if (koffiError) throw koffiError;
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)("koffi") as Koffi;
  } catch (e) {
    koffiError = new RprocError("ENODEV", `emulated driver: the koffi FFI module could not be loaded (${(e as Error).message}); run npm install`, {
      cause: e,
    });
    throw koffiError;
  }
  let lib: ReturnType<Koffi["load"]>;
  try {
    lib = koffi.load(path);
  } catch (e) {
    // Not cached: a test may point RPROC_UNICORN_LIB elsewhere and retry.
    throw missingLibrary(path, (e as Error).message, e);
  }
  let loaded: UnicornLib;
  try {
    loaded = declare(koffi, lib);
  } catch (e) {
    throw missingLibrary(path, `it is not a Unicorn 2 library (${(e as Error).message})`, e);
  }
  cached.set(path, loaded);
  return loaded;
}

/** koffi declarations of the calls the driver makes; throws when a symbol is missing. */
function declare(koffi: Koffi, lib: ReturnType<Koffi["load"]>): UnicornLib {
  // Prototypes are declared once per process (koffi refuses a second type of the same name).
  const types = declaredTypes ?? (declaredTypes = declareTypes(koffi));
  const f = (sig: string) => lib.func(sig) as KoffiFn;
  const fn = {
    uc_open: f("int uc_open(int arch, int mode, _Out_ uc_engine **uc)"),
    uc_close: f("int uc_close(uc_engine *uc)"),
    // uc_ctl is variadic; the CPU model control takes one int.
    uc_ctl_cpu_model: lib.func("uc_ctl", "int", ["uc_engine *", "int", "..."]) as KoffiFn,
    uc_query: f("int uc_query(uc_engine *uc, int type, _Out_ size_t *result)"),
    uc_errno: f("int uc_errno(uc_engine *uc)"),
    uc_strerror: f("const char *uc_strerror(int code)"),
    uc_mem_map_ptr: f("int uc_mem_map_ptr(uc_engine *uc, uint64_t address, size_t size, uint32_t perms, void *ptr)"),
    uc_mem_unmap: f("int uc_mem_unmap(uc_engine *uc, uint64_t address, size_t size)"),
    uc_mem_read: f("int uc_mem_read(uc_engine *uc, uint64_t address, _Out_ uint8_t *bytes, size_t size)"),
    uc_mem_write: f("int uc_mem_write(uc_engine *uc, uint64_t address, const uint8_t *bytes, size_t size)"),
    uc_mmio_map: f(
      "int uc_mmio_map(uc_engine *uc, uint64_t address, size_t size, uc_cb_mmio_read_t *read_cb, void *user_data_read, uc_cb_mmio_write_t *write_cb, void *user_data_write)",
    ),
    uc_reg_read: f("int uc_reg_read(uc_engine *uc, int regid, void *value)"),
    uc_reg_write: f("int uc_reg_write(uc_engine *uc, int regid, void *value)"),
    uc_emu_start: f("int uc_emu_start(uc_engine *uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count)"),
    uc_emu_stop: f("int uc_emu_stop(uc_engine *uc)"),
    uc_hook_add: lib.func("uc_hook_add", "int", ["uc_engine *", "_Out_ size_t *", "int", "void *", "void *", "uint64_t", "uint64_t", "..."]) as KoffiFn,
    uc_hook_del: f("int uc_hook_del(uc_engine *uc, size_t hh)"),
  };
  const major = [0];
  const minor = [0];
  lib.func("unsigned int uc_version(_Out_ unsigned int *major, _Out_ unsigned int *minor)")(major, minor);
  if (major[0] !== 2) throw new Error(`uc_version says ${major[0]}.${minor[0]}`);
  return { koffi, version: `${major[0]}.${minor[0]}`, fn, types };
}

let declaredTypes: UnicornLib["types"] | undefined;

function declareTypes(koffi: Koffi): UnicornLib["types"] {
  koffi.opaque("uc_engine");
  return {
    hookCode: koffi.proto("void uc_cb_hookcode_t(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)"),
    hookMemInvalid: koffi.proto("bool uc_cb_eventmem_t(uc_engine *uc, int type, uint64_t address, int size, int64_t value, void *user_data)"),
    hookIntr: koffi.proto("void uc_cb_hookintr_t(uc_engine *uc, uint32_t intno, void *user_data)"),
    hookInsnInvalid: koffi.proto("bool uc_cb_hookinsn_invalid_t(uc_engine *uc, void *user_data)"),
    mmioRead: koffi.proto("uint64_t uc_cb_mmio_read_t(uc_engine *uc, uint64_t offset, unsigned int size, void *user_data)"),
    mmioWrite: koffi.proto("void uc_cb_mmio_write_t(uc_engine *uc, uint64_t offset, unsigned int size, uint64_t value, void *user_data)"),
  };
}

function missingLibrary(path: string, why: string, cause?: unknown): RprocError {
  return new RprocError(
    "ENODEV",
    `emulated driver needs the Unicorn 2 library (${path}): install the Debian package ${UNICORN_PACKAGE} (apt-get install ${UNICORN_PACKAGE}); ${why}`,
    { cause, value: path },
  );
}

/** Whether Unicorn can be loaded here (for tests that need it and the CLI's help text). */
export function unicornAvailable(): boolean {
  try {
    loadUnicorn();
    return true;
  } catch {
    return false;
  }
}

export type MemInvalidHook = (type: number, address: number, size: number, value: number) => boolean;
export type CodeHook = (address: number, size: number) => void;
export type IntrHook = (intno: number) => void;
export type MmioRead = (offset: number, size: number) => number;
export type MmioWrite = (offset: number, size: number, value: number) => void;

/** One emulated CPU: a uc_engine handle plus the callbacks registered for it (released by close). */
export class UcEngine {
  private handle: unknown;
  private readonly registered: Registered[] = [];
  private readonly regBuf = new BigUint64Array(1);
  private readonly regBytes = new Uint8Array(this.regBuf.buffer);
  /** Host arrays mapped zero-copy; kept referenced so the GC never frees memory the emulator uses. */
  private readonly pinned = new Set<Uint8Array>();

  private constructor(
    readonly uc: UnicornLib,
    handle: unknown,
  ) {
    this.handle = handle;
  }

  static open(uc: UnicornLib, arch: number, mode: number, cpuModel?: number): UcEngine {
    const out: unknown[] = [null];
    check(uc, uc.fn.uc_open(arch, mode, out) as number, "uc_open");
    const e = new UcEngine(uc, out[0]);
    // The CPU model must be chosen before the first mapping instantiates the CPU.
    if (cpuModel !== undefined) e.call("uc_ctl(CPU_MODEL)", uc.fn.uc_ctl_cpu_model(e.h, UC_CTL_WRITE_CPU_MODEL, "int", cpuModel) as number);
    return e;
  }

  private get h(): unknown {
    if (this.handle === null) throw new RprocError("ENODEV", "emulated core: engine already closed");
    return this.handle;
  }

  private call(what: string, err: number): void {
    check(this.uc, err, what);
  }

  /** Map `page` (a host array whose length is a multiple of 4 KiB) at `address`: both sides see one memory. */
  mapPtr(address: number, page: Uint8Array, perms: number): void {
    this.call(`uc_mem_map_ptr(0x${address.toString(16)})`, this.uc.fn.uc_mem_map_ptr(this.h, address, page.length, perms, page) as number);
    this.pinned.add(page);
  }

  unmap(address: number, size: number): void {
    this.call(`uc_mem_unmap(0x${address.toString(16)})`, this.uc.fn.uc_mem_unmap(this.h, address, size) as number);
  }

  /** Reads guest memory (mapped pages only); false when part of the range is not mapped. */
  memRead(address: number, out: Uint8Array): boolean {
    return this.uc.fn.uc_mem_read(this.h, address, out, out.length) === UC_ERR_OK;
  }

  /** Writes guest memory (mapped pages only); false when part of the range is not mapped. */
  memWrite(address: number, data: Uint8Array): boolean {
    return this.uc.fn.uc_mem_write(this.h, address, data, data.length) === UC_ERR_OK;
  }

  mmioMap(address: number, size: number, read: MmioRead, write: MmioWrite): void {
    const k = this.uc.koffi;
    const r = this.keep(k.register((_uc: unknown, off: number | bigint, sz: number) => BigInt(read(Number(off), sz) >>> 0), k.pointer(this.uc.types.mmioRead as never)));
    const w = this.keep(
      k.register((_uc: unknown, off: number | bigint, sz: number, v: number | bigint) => write(Number(off), sz, Number(BigInt.asUintN(32, BigInt(v)))), k.pointer(this.uc.types.mmioWrite as never)),
    );
    this.call(`uc_mmio_map(0x${address.toString(16)})`, this.uc.fn.uc_mmio_map(this.h, address, size, r, null, w, null) as number);
  }

  /** Reads a register as an unsigned 64-bit value (ARM registers are 32-bit; the upper half stays 0). */
  regRead(id: number): bigint {
    this.regBuf[0] = 0n;
    this.call(`uc_reg_read(${id})`, this.uc.fn.uc_reg_read(this.h, id, this.regBytes) as number);
    return this.regBuf[0];
  }

  regRead32(id: number): number {
    return Number(this.regRead(id) & 0xffffffffn);
  }

  regWrite(id: number, value: number | bigint): void {
    this.regBuf[0] = BigInt.asUintN(64, BigInt(value));
    this.call(`uc_reg_write(${id})`, this.uc.fn.uc_reg_write(this.h, id, this.regBytes) as number);
  }

  /**
   * Runs at most `count` instructions from `begin`; returns the uc_err (faults
   * are data, not exceptions). `until` is an address no PC can hold (Unicorn
   * stops as soon as PC == until, so 0 would stop a core that starts at 0).
   */
  emuStart(begin: number, count: number): number {
    return this.uc.fn.uc_emu_start(this.h, begin, NEVER_PC, 0, count) as number;
  }

  emuStop(): void {
    this.call("uc_emu_stop", this.uc.fn.uc_emu_stop(this.h) as number);
  }

  hookMemInvalid(types: number, cb: MemInvalidHook): void {
    const k = this.uc.koffi;
    const p = this.keep(
      k.register(
        (_uc: unknown, type: number, addr: number | bigint, size: number, value: number | bigint) => cb(type, Number(addr), size, Number(value)),
        k.pointer(this.uc.types.hookMemInvalid as never),
      ),
    );
    this.addHook(types, p, 1, 0);
  }

  /** A code hook limited to [begin, end]: only blocks in that range pay for it. */
  hookCode(begin: number, end: number, cb: CodeHook): void {
    const k = this.uc.koffi;
    const p = this.keep(k.register((_uc: unknown, addr: number | bigint, size: number) => cb(Number(addr), size), k.pointer(this.uc.types.hookCode as never)));
    this.addHook(UC_HOOK_CODE, p, begin, end);
  }

  hookIntr(cb: IntrHook): void {
    const k = this.uc.koffi;
    const p = this.keep(k.register((_uc: unknown, intno: number) => cb(intno), k.pointer(this.uc.types.hookIntr as never)));
    this.addHook(UC_HOOK_INTR, p, 1, 0);
  }

  hookInsnInvalid(cb: () => boolean): void {
    const k = this.uc.koffi;
    const p = this.keep(k.register(() => cb(), k.pointer(this.uc.types.hookInsnInvalid as never)));
    this.addHook(UC_HOOK_INSN_INVALID, p, 1, 0);
  }

  errno(): number {
    return this.uc.fn.uc_errno(this.h) as number;
  }

  strerror(err: number): string {
    return strerror(this.uc, err);
  }

  get closed(): boolean {
    return this.handle === null;
  }

  /** Closes the engine and unregisters its callbacks; safe to call twice. */
  close(): void {
    if (this.handle === null) return;
    const h = this.handle;
    this.handle = null;
    this.uc.fn.uc_close(h);
    for (const r of this.registered) this.uc.koffi.unregister(r);
    this.registered.length = 0;
    this.pinned.clear();
  }

  private keep(r: Registered): Registered {
    this.registered.push(r);
    return r;
  }

  private addHook(type: number, cb: Registered, begin: number, end: number): void {
    const hh = [0];
    this.call(`uc_hook_add(${type})`, this.uc.fn.uc_hook_add(this.h, hh, type, cb, null, begin, end) as number);
  }
}

export function strerror(uc: UnicornLib, err: number): string {
  return String(uc.fn.uc_strerror(err));
}

function check(uc: UnicornLib, err: number, what: string): void {
  if (err !== UC_ERR_OK) throw new RprocError("EIO", `unicorn: ${what} failed: ${strerror(uc, err)} (uc_err ${err})`, { value: err });
}
