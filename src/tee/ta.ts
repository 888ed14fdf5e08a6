/**
 * A model of OP-TEE's remoteproc Trusted Application (ta/remoteproc,
 * UUID 80a4c275-0a47-4905-8285-1486a9771a08): sessions bound to an rproc id,
 * the command table, and the OFF / LOADED / STARTED state per rproc id
 * (kept across sessions, as the TA's context list). Each command checks its
 * parameter types first, then the context and state, then acts: the TA's
 * own dispatcher shape. Results are TEE_Result codes; the failure's
 * RprocError (with message) is returned beside them.
 */
import { RprocError } from "../errors.js";
import { TEE_RESULT, TEE_SUCCESS, teeError } from "../formats/signed-image-errors.js";
import { taLoadFirmware } from "./load-fw.js";
import type { RprocPta } from "./pta.js";

export const TA_REMOTEPROC_UUID = "80a4c275-0a47-4905-8285-1486a9771a08";

export const TA_RPROC_CMD_LOAD_FW = 1;
export const TA_RPROC_CMD_START_FW = 2;
export const TA_RPROC_CMD_STOP_FW = 3;
export const TA_RPROC_CMD_GET_RSC_TABLE = 4;
export const TA_RPROC_CMD_GET_COREDUMP = 5;
export const TA_RPROC_CMD_RELEASE_FW = 6;

export const TA_COMMAND_NAMES: Record<number, string> = {
  [TA_RPROC_CMD_LOAD_FW]: "LOAD_FW",
  [TA_RPROC_CMD_START_FW]: "START_FW",
  [TA_RPROC_CMD_STOP_FW]: "STOP_FW",
  [TA_RPROC_CMD_GET_RSC_TABLE]: "GET_RSC_TABLE",
  [TA_RPROC_CMD_GET_COREDUMP]: "GET_COREDUMP",
  [TA_RPROC_CMD_RELEASE_FW]: "RELEASE_FW",
};

export const TEE_PARAM_TYPE_NONE = 0;
export const TEE_PARAM_TYPE_VALUE_INPUT = 1;
export const TEE_PARAM_TYPE_VALUE_OUTPUT = 2;
export const TEE_PARAM_TYPE_VALUE_INOUT = 3;
export const TEE_PARAM_TYPE_MEMREF_INPUT = 5;
export const TEE_PARAM_TYPE_MEMREF_OUTPUT = 6;
export const TEE_PARAM_TYPE_MEMREF_INOUT = 7;

/** TEE_PARAM_TYPES(t0, t1, t2, t3) */
export function teeParamTypes(t0: number, t1 = 0, t2 = 0, t3 = 0): number {
  return (t0 | (t1 << 4) | (t2 << 8) | (t3 << 12)) >>> 0;
}

/** One TEE_Param: value a/b or a memref buffer. */
export interface TeeParam {
  a?: number;
  b?: number;
  buffer?: Uint8Array;
}

export type TaFirmwareState = "OFF" | "LOADED" | "STARTED";

interface Context {
  rprocId: number;
  state: TaFirmwareState;
  rscPa: number;
  rscSize: number;
}

export interface TaInvokeResult {
  /** TEE_SUCCESS (0) or a TEE_ERROR_* code. */
  result: number;
  error?: RprocError;
}

export interface TaInvocation {
  seq: number;
  cmd: number;
  name: string;
  rprocId: number;
  result: number;
  error?: RprocError;
}

const PT_ID_ONLY = teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT);

/** Every command's first parameter: VALUE_INPUT a = rproc id. */
function rprocIdOf(params: TeeParam[]): number {
  return (params[0]?.a ?? 0) >>> 0;
}

function badParams(message: string): RprocError {
  return teeError("TEE_ERROR_BAD_PARAMETERS", message, { field: "params" });
}
function badState(message: string): RprocError {
  return teeError("TEE_ERROR_BAD_STATE", message, { field: "state" });
}

export class RemoteprocTa {
  readonly pta: RprocPta;
  private readonly contexts: Context[] = [];
  private readonly sessions = new Map<number, number>();
  private nextSession = 1;
  private refcount = 0;
  private seq = 0;
  private readonly listeners = new Set<(i: TaInvocation) => void>();

  constructor(pta: RprocPta) {
    this.pta = pta;
  }

  /** Exactly one VALUE_INPUT param (a = rproc id); the first session opens the PTA session. Returns the session id. */
  openSession(paramTypes: number, params: TeeParam[]): number {
    if (paramTypes !== PT_ID_ONLY) throw badParams("open session: expected one VALUE_INPUT parameter (rproc id)");
    const rprocId = rprocIdOf(params);
    if (this.refcount === 0) this.pta.openSession(rprocId);
    this.refcount++;
    const id = this.nextSession++;
    this.sessions.set(id, rprocId);
    return id;
  }

  closeSession(session: number): void {
    if (this.sessions.delete(session)) this.refcount--;
  }

  /** Observe every command (for --trace and call counting). */
  onInvoke(listener: (i: TaInvocation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  state(rprocId: number): TaFirmwareState | undefined {
    return this.find(rprocId)?.state;
  }

  invoke(session: number, cmd: number, paramTypes: number, params: TeeParam[]): TaInvokeResult {
    let error: RprocError | undefined;
    try {
      if (!this.sessions.has(session)) throw badParams(`no open session ${session}`);
      this.dispatch(cmd, paramTypes, params);
    } catch (e) {
      if (!(e instanceof RprocError) || e.teeError === undefined) {
        error = teeError("TEE_ERROR_GENERIC", (e as Error).message, { cause: e });
      } else {
        error = e;
      }
    }
    const result = error === undefined ? TEE_SUCCESS : TEE_RESULT[error.teeError!];
    const inv: TaInvocation = { seq: ++this.seq, cmd, name: TA_COMMAND_NAMES[cmd] ?? `CMD_${cmd}`, rprocId: rprocIdOf(params), result, error };
    for (const l of this.listeners) l(inv);
    return error === undefined ? { result } : { result, error };
  }

  private find(rprocId: number): Context | undefined {
    return this.contexts.find((c) => c.rprocId === rprocId >>> 0);
  }

  private dispatch(cmd: number, pt: number, params: TeeParam[]): void {
    switch (cmd) {
      case TA_RPROC_CMD_LOAD_FW:
        return this.loadFw(pt, params);
      case TA_RPROC_CMD_START_FW:
        return this.startFw(pt, params);
      case TA_RPROC_CMD_STOP_FW:
        return this.stopFw(pt, params);
      case TA_RPROC_CMD_GET_RSC_TABLE:
        return this.getRscTable(pt, params);
      case TA_RPROC_CMD_GET_COREDUMP:
        throw teeError("TEE_ERROR_NOT_IMPLEMENTED", "GET_COREDUMP is not implemented by the remoteproc TA", { field: "cmd" });
      case TA_RPROC_CMD_RELEASE_FW:
        return this.releaseFw(pt, params);
      default:
        throw badParams(`unknown command ${cmd}`);
    }
  }

  private known(params: TeeParam[]): Context {
    const rprocId = rprocIdOf(params);
    const ctx = this.find(rprocId);
    if (ctx === undefined) throw badParams(`rproc id ${rprocId} has never been loaded`);
    return ctx;
  }

  private loadFw(pt: number, params: TeeParam[]): void {
    if (pt !== teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT, TEE_PARAM_TYPE_MEMREF_INPUT)) throw badParams("LOAD_FW: expected VALUE_INPUT, MEMREF_INPUT");
    const rprocId = rprocIdOf(params);
    let ctx = this.find(rprocId);
    if (ctx === undefined) {
      ctx = { rprocId, state: "OFF", rscPa: 0, rscSize: 0 };
      this.contexts.push(ctx);
    }
    // Linux sends LOAD_FW twice per boot (parse_fw, then load); the second is a no-op.
    if (ctx.state === "LOADED") return;
    if (ctx.state !== "OFF") throw badState(`LOAD_FW: firmware of rproc ${rprocId} is ${ctx.state}`);
    const buf = params[1]?.buffer;
    if (buf === undefined || buf.length === 0) throw badParams("LOAD_FW: no firmware buffer");
    const loaded = taLoadFirmware(this.pta, rprocId, buf);
    ctx.rscPa = loaded.rscPa;
    ctx.rscSize = loaded.rscSize;
    this.pta.protect(rprocId, loaded.rscSize > 0 ? { pa: loaded.rscPa, size: loaded.rscSize } : undefined);
    ctx.state = "LOADED";
  }

  private startFw(pt: number, params: TeeParam[]): void {
    if (pt !== PT_ID_ONLY) throw badParams("START_FW: expected one VALUE_INPUT parameter");
    const ctx = this.known(params);
    if (ctx.state === "OFF") throw badState(`START_FW: no firmware loaded for rproc ${ctx.rprocId}`);
    if (ctx.state === "STARTED") return;
    this.pta.start(ctx.rprocId);
    ctx.state = "STARTED";
  }

  private stopFw(pt: number, params: TeeParam[]): void {
    if (pt !== PT_ID_ONLY) throw badParams("STOP_FW: expected one VALUE_INPUT parameter");
    const ctx = this.known(params);
    if (ctx.state === "LOADED") throw badState(`STOP_FW: firmware of rproc ${ctx.rprocId} is loaded but not started`);
    if (ctx.state === "OFF") return;
    this.pta.stop(ctx.rprocId);
    ctx.state = "OFF";
  }

  private getRscTable(pt: number, params: TeeParam[]): void {
    if (pt !== teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT, TEE_PARAM_TYPE_VALUE_OUTPUT, TEE_PARAM_TYPE_VALUE_OUTPUT)) {
      throw badParams("GET_RSC_TABLE: expected VALUE_INPUT, VALUE_OUTPUT, VALUE_OUTPUT");
    }
    const ctx = this.known(params);
    if (ctx.state === "OFF") throw badState(`GET_RSC_TABLE: no firmware loaded for rproc ${ctx.rprocId}`);
    params[1] = { a: ctx.rscPa % 2 ** 32, b: Math.floor(ctx.rscPa / 2 ** 32) };
    params[2] = { a: ctx.rscSize % 2 ** 32, b: Math.floor(ctx.rscSize / 2 ** 32) };
  }

  private releaseFw(pt: number, params: TeeParam[]): void {
    if (pt !== PT_ID_ONLY) throw badParams("RELEASE_FW: expected one VALUE_INPUT parameter");
    const ctx = this.known(params);
    if (ctx.state === "STARTED") throw badState(`RELEASE_FW: firmware of rproc ${ctx.rprocId} is running`);
    this.pta.release(ctx.rprocId);
    ctx.state = "OFF";
  }
}
