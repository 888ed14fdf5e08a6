/**
 * A live processor behind `rproc serve`: the Rproc, its recent events, and
 * the few commands the page may send (the sysfs words a user would write:
 * state start/stop, crash, recovery, coredump), each validated against a
 * fixed list before it reaches the library.
 */
import type { Rproc } from "../core/rproc.js";
import type { RprocEvent } from "../core/events.js";
import { liveReport } from "../report/boot.js";
import { RprocCrashType, RprocState, crashTypeString, stateString } from "../core/state.js";
import { coredumpShow, coredumpStore, recoveryShow, recoveryStore } from "../core/recovery.js";
import { dumpBytes } from "../core/coredump-store.js";
import { rprocCrashFlush, rprocCrashStatus } from "../core/crash.js";
import { RprocError, isRprocError } from "../errors.js";
import type { PlatformDesc } from "../platform/types.js";
import type { LiveStatus, PageData } from "./data.js";

export const CRASH_TYPES: Record<string, RprocCrashType> = { mmufault: RprocCrashType.MMUFAULT, watchdog: RprocCrashType.WATCHDOG, "fatal-error": RprocCrashType.FATAL_ERROR };
const RECOVERY_WORDS = ["enabled", "disabled", "recover"];
const COREDUMP_WORDS = ["disabled", "enabled", "inline"];
/** Events kept for the page's timeline (the newest; older ones are dropped, counted). */
export const EVENT_LIMIT = 4000;

export type Command = { cmd: "start" } | { cmd: "stop" } | { cmd: "crash"; arg: string } | { cmd: "recovery"; arg: string } | { cmd: "coredump"; arg: string };

export interface CommandResult {
  ok: boolean;
  state: string;
  error?: { code: string; message: string };
}

/** Parse an untrusted request body into a Command, or say why not. */
export function parseCommand(body: unknown): Command | RprocError {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return new RprocError("EINVAL", "command: expected a JSON object", { field: "cmd" });
  const o = body as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => k !== "cmd" && k !== "arg");
  if (extra.length) return new RprocError("EINVAL", `command: unknown field ${JSON.stringify(extra[0]!.slice(0, 40))}`, { field: extra[0]! });
  const arg = o.arg;
  const word = (allowed: string[]): string | RprocError =>
    typeof arg === "string" && allowed.includes(arg) ? arg : new RprocError("EINVAL", `${String(o.cmd)}: argument must be one of ${allowed.join(", ")}`, { field: "arg" });
  switch (o.cmd) {
    case "start":
    case "stop":
      return arg === undefined ? { cmd: o.cmd } : new RprocError("EINVAL", `${o.cmd} takes no argument`, { field: "arg" });
    case "crash":
    case "recovery":
    case "coredump": {
      const w = word(o.cmd === "crash" ? Object.keys(CRASH_TYPES) : o.cmd === "recovery" ? RECOVERY_WORDS : COREDUMP_WORDS);
      return typeof w === "string" ? { cmd: o.cmd, arg: w } : w;
    }
    default:
      return new RprocError("EINVAL", "command: cmd must be one of start, stop, crash, recovery, coredump", { field: "cmd" });
  }
}

export class LiveSession {
  readonly events: RprocEvent[] = [];
  dropped = 0;
  private readonly listeners = new Set<(e: RprocEvent) => void>();
  private readonly unsubscribe: () => void;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly rproc: Rproc,
    readonly platform: PlatformDesc,
    readonly driver: string,
  ) {
    this.unsubscribe = rproc.events.on((e) => {
      this.events.push(e);
      if (this.events.length > EVENT_LIMIT) {
        this.events.splice(0, this.events.length - EVENT_LIMIT);
        this.dropped++;
      }
      for (const l of this.listeners) l(e);
    });
  }

  onEvent(l: (e: RprocEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  status(): LiveStatus {
    const r = this.rproc;
    return {
      state: stateString(r.state),
      power: r.power,
      crashCnt: r.crashCnt,
      recovery: recoveryShow(r).trim(),
      coredump: coredumpShow(r).trim(),
      dumps: r.dumps.map((d) => ({ id: d.id, size: d.size, mode: d.mode })),
      driver: this.driver,
    };
  }

  /** The page data now: the same boot-report shape `rproc boot --json` prints, for the processor as it is. */
  data(): PageData {
    const r = this.rproc;
    const d = r.lastDump;
    const status = this.status();
    const crashed = r.crashCnt > 0;
    return {
      platform: this.platform,
      boot: liveReport(r, [...this.events]),
      live: status,
      // After a crash: the same fields `rproc crash --json` has, so the crash section and the coredump lane show it.
      ...(crashed
        ? {
            crash: {
              crash: { type: crashTypeString(rprocCrashStatus(r).lastType ?? -1), crashCnt: r.crashCnt, injected: true },
              recovery: status.recovery,
              coredump: status.coredump,
              state: status.state,
              dump: d ? { mode: d.mode, variant: d.variant, size: d.size, segments: d.segments } : null,
              error: null,
            },
          }
        : {}),
    };
  }

  /** Run one command; commands run one after another, as sysfs writes take the rproc lock. */
  run(c: Command): Promise<CommandResult> {
    const next = this.queue.then(() => this.exec(c));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async exec(c: Command): Promise<CommandResult> {
    const r = this.rproc;
    try {
      switch (c.cmd) {
        case "start":
          await r.boot();
          break;
        case "stop":
          await r.shutdown();
          break;
        case "crash":
          if (r.state !== RprocState.RUNNING && r.state !== RprocState.ATTACHED) throw new RprocError("EINVAL", `crash: ${r.name} is ${stateString(r.state)}, not running`, { field: "cmd" });
          // The driver's IRQ handler would call rproc_report_crash; the crash work runs on its own.
          r.reportCrash(CRASH_TYPES[c.arg]!);
          break;
        case "recovery":
          await recoveryStore(r, c.arg);
          break;
        case "coredump":
          coredumpStore(r, c.arg);
          break;
      }
      return { ok: true, state: stateString(r.state) };
    } catch (e) {
      if (!isRprocError(e)) throw e;
      return { ok: false, state: stateString(r.state), error: { code: e.code, message: e.message } };
    }
  }

  /** The newest coredump's bytes; reading an inline dump lets the waiting recovery go on (devcoredump read). */
  latestDump(): { name: string; bytes: Uint8Array } | undefined {
    const d = this.rproc.lastDump;
    if (!d) return undefined;
    if (!d.bytes && d.reader && !d.reader.freedBy) d.bytes = d.reader.readAll();
    if (!d.bytes && d.reader?.freedBy) return undefined;
    return { name: `${this.rproc.name}-core-${d.id}.elf`, bytes: dumpBytes(d) };
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.listeners.clear();
    // Release inline dumps first: a recovery waiting on one would hold the queue.
    for (const d of this.rproc.dumps) if (d.reader && !d.reader.freedBy) d.reader.finish();
    await this.queue;
    await rprocCrashFlush(this.rproc);
    if (this.rproc.state === RprocState.RUNNING || this.rproc.state === RprocState.ATTACHED) await this.rproc.shutdown().catch(() => undefined);
  }
}
