/**
 * Where dumps go once built: the stand-in for devcoredump. The kernel hands a
 * dump to devcoredump and forgets it; here each rproc keeps its newest few
 * (bounded, newest first) so the CLI, tests and the library can read and save
 * them.
 *
 * An inline dump is a live reader over device memory: the header comes from
 * a buffer, segment bytes are read at the requested offset when asked for.
 * The recovery thread waits on `done`, which settles when the reader is
 * finished (the devcoredump "free": the user dismisses the dump) or when the
 * timeout expires (devcoredump frees a dump after 5 minutes).
 */
import { writeFileSync } from "node:fs";
import { RprocError } from "../errors.js";
import type { Rproc } from "./rproc.js";

/** devcoredump's DEVCD_TIMEOUT: 5 minutes. */
export const DEVCD_TIMEOUT_MS = 5 * 60 * 1000;
export const DEFAULT_MAX_DUMPS = 4;

export interface CoredumpSettings {
  /** How many dumps an rproc keeps (oldest dropped first). */
  maxDumps: number;
  /** How long an inline dump blocks recovery before it is freed unread. */
  inlineTimeoutMs: number;
  /**
   * Whether that timeout keeps the process alive (default false). Unref'd, an
   * inline dump nobody reads cannot hold a test run or the CLI open for 5
   * minutes: a process with nothing else to do exits instead of waiting.
   * Set it to wait out the timeout in an otherwise idle process.
   */
  inlineTimeoutKeepsAlive: boolean;
}

export type DumpVariant = "program-headers" | "sections";

/** An inline dump's reader: what userspace reads from /sys/class/devcoredump/devcdN/data. */
export class InlineDumpReader {
  readonly size: number;
  /** Settles when the dump is freed: finished by the reader or timed out. Never rejects. */
  readonly done: Promise<"finished" | "timeout">;
  private readonly readAt: (offset: number, count: number) => Uint8Array;
  private settle!: (how: "finished" | "timeout") => void;
  private timer: NodeJS.Timeout | undefined;
  private freed: "finished" | "timeout" | undefined;
  bytesRead = 0;

  constructor(size: number, readAt: (offset: number, count: number) => Uint8Array, timeoutMs: number, keepAlive = false) {
    this.size = size;
    this.readAt = readAt;
    this.done = new Promise((resolve) => {
      this.settle = resolve;
    });
    this.timer = setTimeout(() => this.free("timeout"), timeoutMs);
    // The timeout frees the dump (and so lets recovery go on) while the process lives, but an
    // unread dump alone must not keep a test run or the CLI alive for 5 minutes: unless asked,
    // it does not hold the event loop open. The CLI always reads or finishes its inline dumps.
    if (!keepAlive) this.timer.unref();
  }

  get freedBy(): "finished" | "timeout" | undefined {
    return this.freed;
  }

  /** One read(2): may return fewer bytes than asked (inside the header), an empty array at the end. */
  read(offset: number, count: number): Uint8Array {
    if (this.freed) {
      throw new RprocError("ENODEV", `the inline dump was already freed (${this.freed}); it can no longer be read`, { step: "rproc_coredump_read" });
    }
    const out = this.readAt(offset, count);
    this.bytesRead += out.length;
    return out;
  }

  /** Reads the whole dump as `cat data > file` would, then frees it (which lets recovery go on). */
  readAll(chunk = 64 * 1024): Uint8Array {
    const out = new Uint8Array(this.size);
    let off = 0;
    for (;;) {
      const part = this.read(off, Math.min(chunk, this.size - off || 1));
      if (part.length === 0) break;
      out.set(part, off);
      off += part.length;
    }
    this.finish();
    return out.subarray(0, off);
  }

  /** The devcoredump free: the user is done with the dump. Idempotent. */
  finish(): void {
    this.free("finished");
  }

  private free(how: "finished" | "timeout"): void {
    if (this.freed) return;
    this.freed = how;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.settle(how);
  }
}

export interface RprocDump {
  /** Per-rproc number, from 1. */
  id: number;
  rproc: string;
  /** rproc.crashCnt when the dump was taken. */
  crashCnt: number;
  mode: "enabled" | "inline";
  variant: DumpVariant;
  size: number;
  segments: { da: number; size: number; name?: string }[];
  /** `enabled`: the whole file. */
  bytes?: Uint8Array;
  /** `inline`: the live reader (recovery waits for it). */
  reader?: InlineDumpReader;
}

interface RprocDumpState {
  settings: CoredumpSettings;
  dumps: RprocDump[];
  next: number;
}

const states = new WeakMap<Rproc, RprocDumpState>();

function stateOf(rproc: Rproc): RprocDumpState {
  let s = states.get(rproc);
  if (!s) {
    s = { settings: { maxDumps: DEFAULT_MAX_DUMPS, inlineTimeoutMs: DEVCD_TIMEOUT_MS, inlineTimeoutKeepsAlive: false }, dumps: [], next: 1 };
    states.set(rproc, s);
  }
  return s;
}

export function coredumpSettings(rproc: Rproc): CoredumpSettings {
  return stateOf(rproc).settings;
}

export function setCoredumpSettings(rproc: Rproc, settings: Partial<CoredumpSettings>): void {
  const s = stateOf(rproc).settings;
  if (settings.maxDumps !== undefined) {
    if (!Number.isInteger(settings.maxDumps) || settings.maxDumps < 1) {
      throw new RprocError("EINVAL", `maxDumps must be a positive integer, not ${settings.maxDumps}`, { field: "maxDumps", value: settings.maxDumps });
    }
    s.maxDumps = settings.maxDumps;
  }
  if (settings.inlineTimeoutMs !== undefined) {
    if (!Number.isFinite(settings.inlineTimeoutMs) || settings.inlineTimeoutMs < 0) {
      throw new RprocError("EINVAL", `inlineTimeoutMs must be >= 0, not ${settings.inlineTimeoutMs}`, { field: "inlineTimeoutMs" });
    }
    s.inlineTimeoutMs = settings.inlineTimeoutMs;
  }
  if (settings.inlineTimeoutKeepsAlive !== undefined) s.inlineTimeoutKeepsAlive = settings.inlineTimeoutKeepsAlive === true;
}

/** Adds a dump, newest first, dropping the oldest beyond the limit (an inline one dropped is freed). */
export function storeDump(rproc: Rproc, dump: Omit<RprocDump, "id">): RprocDump {
  const s = stateOf(rproc);
  const stored: RprocDump = { id: s.next++, ...dump };
  s.dumps.unshift(stored);
  for (const old of s.dumps.splice(s.settings.maxDumps)) old.reader?.finish();
  return stored;
}

/** Dumps kept for this rproc, newest first. */
export function dumpsOf(rproc: Rproc): readonly RprocDump[] {
  return states.get(rproc)?.dumps ?? [];
}

/** Forgets every dump (freeing inline readers). */
export function clearDumps(rproc: Rproc): void {
  const s = states.get(rproc);
  if (!s) return;
  for (const d of s.dumps.splice(0)) d.reader?.finish();
}

/** The dump's bytes (an inline dump is read whole, which frees it). */
export function dumpBytes(dump: RprocDump): Uint8Array {
  if (dump.bytes) return dump.bytes;
  if (dump.reader) return dump.reader.readAll();
  throw new RprocError("ENODATA", `dump ${dump.id} of ${dump.rproc} has no data`, { step: "rproc_coredump" });
}

export function writeDumpFile(dump: RprocDump, path: string): number {
  const bytes = dumpBytes(dump);
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw new RprocError("EIO", `cannot write dump to ${path}: ${(e as Error).message}`, { cause: e, field: "path", value: path });
  }
  return bytes.length;
}
