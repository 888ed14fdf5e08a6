/**
 * The rpmsg remote model as a sim-driver behaviour: the default behaviour
 * (trace banner, counter) plus an RpmsgRemoteModel fresh at every start,
 * kicked by ops.kick and kicking back through rproc_vq_interrupt, as the
 * mailbox would.
 */
import { findTable } from "../../loaders/elf-loader.js";
import { defaultBehaviour, type SimBehaviour, type SimBehaviourContext } from "../../drivers/sim/behaviour.js";
import { RprocError } from "../../errors.js";
import { REMOTE_SERVICES, RpmsgRemoteModel, type RemoteService } from "./model.js";

export interface RpmsgRemoteBehaviour extends SimBehaviour {
  /** The model of the current run (undefined before the first start and after stop). */
  model(): RpmsgRemoteModel | undefined;
}

/** Services by model name ("tty", "raw", "sample", "openamp-echo"); EINVAL for an unknown one. */
export function remoteServices(names: string[]): RemoteService[] {
  return names.map((n) => {
    const make = REMOTE_SERVICES[n];
    if (!make) throw new RprocError("EINVAL", `unknown remote model '${n}' (known: ${Object.keys(REMOTE_SERVICES).join(", ")})`, { field: "remote", value: n });
    return make();
  });
}

/** The buffer memory the firmware knows: its vdev<i>buffer region, else the DMA pool, at the core's addresses. */
function sharedWindows(ctx: SimBehaviourContext): { da: number; len: number }[] {
  const r = ctx.rproc;
  const proc = r.processor;
  const names = proc.memoryRegions.filter((n) => /^vdev\d+buffer$/.test(n));
  if (!names.length && proc.dmaPool) names.push(proc.dmaPool);
  const out: { da: number; len: number }[] = [];
  for (const n of names) {
    const pool = r.platform.pool(n);
    if (!pool) continue;
    const da = r.platform.paToDa(proc, pool.pa, pool.size) ?? pool.pa;
    out.push({ da, len: pool.size });
  }
  return out;
}

export function rpmsgRemoteBehaviour(services: RemoteService[], base: SimBehaviour = defaultBehaviour()): RpmsgRemoteBehaviour {
  let model: RpmsgRemoteModel | undefined;
  const start = (ctx: SimBehaviourContext): void => {
    const t = ctx.elf ? findTable(ctx.elf) : "no firmware image";
    if (typeof t === "string" || typeof t.section.addr !== "number") {
      model = undefined;
      return;
    }
    const run = new RpmsgRemoteModel(
      {
        view: (da, len) => ctx.view(da, len),
        kickHost: (id) => void ctx.rproc.vqInterrupt(id),
        defer: (fn) =>
          queueMicrotask(() => {
            if (model === run) fn();
          }),
        tableDa: t.section.addr,
        tableLen: t.section.size,
        shared: sharedWindows(ctx),
      },
      services,
    );
    model = run;
  };
  return {
    name: `rpmsg-remote(${services.map((s) => s.name).join(",")})`,
    model: () => model,
    onStart(ctx) {
      base.onStart?.(ctx);
      start(ctx);
    },
    onAttach(ctx) {
      base.onAttach?.(ctx);
      start(ctx);
    },
    onKick(ctx, vqid) {
      base.onKick?.(ctx, vqid);
      model?.onKick(vqid);
    },
    onStop(ctx) {
      base.onStop?.(ctx);
      model = undefined;
    },
  };
}
