/**
 * The TEE driver: Linux's remoteproc_tee (Pouliquen series v22, proposed
 * upstream, unmerged) as RprocOps over the remoteproc TA model, wired like
 * the STM32 TEE variant: the simulated STM32 driver keeps prepare (memory
 * regions → carveouts), kick and da_to_va; firmware handling goes to the TA.
 *
 *   parseFw            LOAD_FW, GET_RSC_TABLE, copy of the table → cachedTable (the core owns and frees it)
 *   load               LOAD_FW (a no-op in the TA while LOADED; a full re-authentication on recovery)
 *   findLoadedRscTable GET_RSC_TABLE, then rproc.paToVa inside the registered carveouts
 *   start / stop       START_FW / STOP_FW (plus the simulated core's behaviour)
 *   releaseFw          RELEASE_FW
 *
 * Release rule (stricter than upstream, which releases in parse_fw's failure
 * path *and* lets the core release again): the driver keeps `dirty` = "a
 * LOAD_FW was sent since the last successful RELEASE_FW" (a failed LOAD_FW
 * may have written segments before failing, so it counts). releaseFw sends
 * RELEASE_FW only when dirty, so from a parseFw until offline again it goes
 * out exactly once, and never when nothing was loaded. parseFw never
 * releases itself: the core calls releaseFw after any rproc_fw_boot failure
 * (spec linux §10.3), which covers parseFw's own failures.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { RprocError, hex } from "../../errors.js";
import type { Firmware } from "../../core/firmware.js";
import type { DriverContext, DriverOps } from "../../core/ops.js";
import type { Rproc } from "../../core/rproc.js";
import { RprocState } from "../../core/state.js";
import { parseElf } from "../../formats/elf.js";
import { TEE_RESULT } from "../../formats/signed-image-errors.js";
import { parseSignedImage } from "../../formats/signed-image.js";
import { MemView } from "../../platform/mem-view.js";
import type { Platform } from "../../platform/platform.js";
import type { ProcessorDesc } from "../../platform/types.js";
import { createSimDriver, type SimDriverOptions, type SimState } from "../sim/driver.js";
import { loadVerifyKey } from "../../tee/crypto.js";
import { PlatformPta } from "../../tee/platform-pta.js";
import {
  RemoteprocTa,
  TA_COMMAND_NAMES,
  TA_RPROC_CMD_GET_RSC_TABLE,
  TA_RPROC_CMD_LOAD_FW,
  TA_RPROC_CMD_RELEASE_FW,
  TA_RPROC_CMD_START_FW,
  TA_RPROC_CMD_STOP_FW,
  TEE_PARAM_TYPE_MEMREF_INPUT,
  TEE_PARAM_TYPE_VALUE_INPUT,
  TEE_PARAM_TYPE_VALUE_OUTPUT,
  teeParamTypes,
  type TeeParam,
} from "../../tee/ta.js";

export interface TeeDriverOptions extends SimDriverOptions {
  /** A TA to talk to (tests share one); default: a TA over a PlatformPta for this processor. */
  ta?: RemoteprocTa;
  /** PEM public key the PTA trusts; default: the processor's tee.publicKey (relative to the platform file). */
  publicKeyPem?: Uint8Array | string;
  /** AES-256 key the PTA decrypts encrypted images with. */
  encryptionKey?: Uint8Array;
}

export interface TeeDriverOps extends DriverOps {
  sim: SimState;
  ta: RemoteprocTa;
  rprocId: number;
}

/** The PTA's trusted key for a processor: an explicit PEM, else tee.publicKey next to the platform file. */
export function platformTrustedKey(platform: Platform, proc: ProcessorDesc, pem?: Uint8Array | string): Uint8Array | string {
  if (pem !== undefined) return pem;
  const rel = proc.tee?.publicKey;
  if (rel === undefined) throw new RprocError("ENOENT", `processor ${proc.name} of ${platform.desc.name} names no tee.publicKey; give one (--tee-key)`, { field: "tee.publicKey" });
  const path = resolve(platform.dir ?? process.cwd(), rel);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new RprocError("ENOENT", `cannot read the TEE public key ${path}: ${(e as Error).message}`, { field: "tee.publicKey", cause: e });
  }
}

/** A TA over this platform's PTA, trusting the processor's key. */
export function createPlatformTa(platform: Platform, proc: ProcessorDesc, opts: { publicKeyPem?: Uint8Array | string; encryptionKey?: Uint8Array } = {}): RemoteprocTa {
  const key = loadVerifyKey(platformTrustedKey(platform, proc, opts.publicKeyPem), "TEE public key");
  const pta = new PlatformPta(platform, [{ rprocId: proc.tee?.rprocId ?? 0, processor: proc, publicKey: key.key, encryptionKey: opts.encryptionKey, acceptEcdsa: proc.tee?.acceptEcdsa === true }]);
  return new RemoteprocTa(pta);
}

const PT_ID = teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT);

export function createTeeDriver(ctx: DriverContext): TeeDriverOps {
  const opts = (ctx.options ?? {}) as TeeDriverOptions;
  const simOps = createSimDriver(opts);
  const sim = simOps.sim;
  const rprocId = ctx.processor.tee?.rprocId ?? 0;
  const ta = opts.ta ?? createPlatformTa(ctx.platform, ctx.processor, opts);
  const session = ta.openSession(PT_ID, [{ a: rprocId }]);
  let dirty = false;

  /** One TA command; a TEE failure is -EIO as in Linux, keeping the TA's reason and TEE error. */
  const invoke = (rproc: Rproc, cmd: number, pt: number, params: TeeParam[]): TeeParam[] => {
    const name = TA_COMMAND_NAMES[cmd]!;
    if (cmd === TA_RPROC_CMD_LOAD_FW) dirty = true;
    const r = ta.invoke(session, cmd, pt, params);
    if (r.result !== 0) {
      const e = r.error!;
      rproc.emit(`tee_${name.toLowerCase()}`, "fail", { rprocId, result: hex(r.result), teeError: e.teeError }, e);
      throw new RprocError("EIO", `TA ${name} failed: ${e.message} (${e.teeError} ${hex(TEE_RESULT[e.teeError!])})`, { step: `tee_${name.toLowerCase()}`, teeError: e.teeError, cause: e });
    }
    if (cmd === TA_RPROC_CMD_RELEASE_FW) dirty = false;
    rproc.emit(`tee_${name.toLowerCase()}`, "info", { rprocId });
    return params;
  };

  const loadFw = (rproc: Rproc, fw: Firmware): void => {
    invoke(rproc, TA_RPROC_CMD_LOAD_FW, teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT, TEE_PARAM_TYPE_MEMREF_INPUT), [{ a: rprocId }, { buffer: teeBuffer(fw.data) }]);
  };

  const getRscTable = (rproc: Rproc): { pa: number; size: number } => {
    const p = invoke(rproc, TA_RPROC_CMD_GET_RSC_TABLE, teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT, TEE_PARAM_TYPE_VALUE_OUTPUT, TEE_PARAM_TYPE_VALUE_OUTPUT), [{ a: rprocId }, {}, {}]);
    const size = (p[2]!.a ?? 0) + (p[2]!.b ?? 0) * 2 ** 32;
    return { pa: size === 0 ? 0 : (p[1]!.a ?? 0) + (p[1]!.b ?? 0) * 2 ** 32, size };
  };

  // The platform half (memory-regions, da_to_va, kick, attach) is the simulated STM32 driver's, taken op by op;
  // firmware handling goes to the TA, so the ELF sanity check, boot address and loaded-table ops stay unset.
  return {
    sim,
    ta,
    rprocId,
    probe: simOps.probe,
    prepare: simOps.prepare,
    unprepare: simOps.unprepare,
    daToVa: simOps.daToVa,
    kick: simOps.kick,
    attach: simOps.attach,
    detach: simOps.detach,
    earlyBoot: simOps.earlyBoot,
    earlyBootAddr: simOps.earlyBootAddr,

    parseFw(rproc, fw) {
      loadFw(rproc, fw);
      simulatedElf(sim, fw);
      const t = getRscTable(rproc);
      if (t.size === 0) {
        rproc.tablePtr = null;
        rproc.tableSz = 0;
        return;
      }
      // memremap(pa, size, MEMREMAP_WC): the host maps the table where the TEE put it.
      let bytes: Uint8Array;
      try {
        bytes = new MemView(rproc.platform, t.pa, t.size).read(0, t.size);
      } catch (e) {
        throw new RprocError("ENOMEM", `cannot map the resource table at ${hex(t.pa)} (${t.size} bytes): ${(e as Error).message}`, { step: "parse_fw", cause: e });
      }
      rproc.cachedTable = Uint8Array.from(bytes);
      rproc.tablePtr = rproc.cachedTable;
      rproc.tableSz = t.size;
    },

    load: loadFw,

    findLoadedRscTable(rproc) {
      const t = getRscTable(rproc);
      rproc.tableSz = t.size;
      if (t.size === 0) return undefined;
      return rproc.paToVa(t.pa, t.size);
    },

    async start(rproc) {
      invoke(rproc, TA_RPROC_CMD_START_FW, PT_ID, [{ a: rprocId }]);
      try {
        await simOps.start?.(rproc);
      } catch (e) {
        // The op fails as a whole: the core will not call stop, so the TA must not stay STARTED.
        ta.invoke(session, TA_RPROC_CMD_STOP_FW, PT_ID, [{ a: rprocId }]);
        throw e;
      }
    },

    async stop(rproc) {
      await simOps.stop?.(rproc);
      invoke(rproc, TA_RPROC_CMD_STOP_FW, PT_ID, [{ a: rprocId }]);
    },

    releaseFw(rproc) {
      // rproc_tee_release_fw: ignored for an attached processor, refused unless offline.
      if (rproc.state === RprocState.DETACHED) return;
      if (rproc.state !== RprocState.OFFLINE) {
        rproc.emit("tee_release_fw", "info", { skipped: `state ${rproc.state}` });
        return;
      }
      if (!dirty) return;
      invoke(rproc, TA_RPROC_CMD_RELEASE_FW, PT_ID, [{ a: rprocId }]);
    },
  };
}

/** The TA wants a 4-byte aligned buffer (shared memory is page aligned); a Node Buffer may sit anywhere in its pool. */
function teeBuffer(data: Uint8Array): Uint8Array {
  return data.byteOffset % 4 === 0 ? data : Uint8Array.from(data);
}

/** The simulated core's behaviour reads the first image's ELF (trace buffers, symbols); best effort, the TA decides validity. */
function simulatedElf(sim: SimState, fw: Firmware): void {
  try {
    const img = parseSignedImage(fw.data).images[0];
    sim.elf = img === undefined ? undefined : parseElf(Uint8Array.from(img.bytes));
  } catch {
    sim.elf = undefined;
  }
  sim.firmwareName = fw.name;
}

