/**
 * What a page is made of: the very JSON objects the CLI prints (`rproc
 * platforms NAME --json`'s platform, `rproc boot --json`, `rproc crash
 * --json`), so the CLI, the library and the page cannot disagree.
 */
import type { BootReport } from "../report/boot.js";
import type { RprocEvent } from "../core/events.js";
import type { PlatformDesc } from "../platform/types.js";

/** The fields of `rproc crash --json` the page reads (the report carries more; it is embedded whole). */
export interface CrashReportView {
  crash: { type: string; crashCnt: number; injected: boolean };
  recovery: string;
  coredump: string;
  state: string;
  expectedState?: string;
  dump: null | { mode: string; variant: string; size: number; segments: { da: number; size: number; name?: string }[]; prstatus?: Record<string, string> | null };
  noDump?: string | null;
  fault?: null | { kind: string; pc: string; address: string | null; message: string };
  error: null | { code: string; message: string; step?: string };
  ok?: boolean;
}

export interface PageData {
  platform: PlatformDesc;
  /** What `rproc boot --json` prints, or the live snapshot of the same shape. */
  boot?: BootReport;
  crash?: CrashReportView & Record<string, unknown>;
  /** Events of a crash run (a boot report carries its own). */
  events?: RprocEvent[];
  /** Live view: power count, crash count and the sysfs words. */
  live?: LiveStatus;
}

export interface LiveStatus {
  state: string;
  power: number;
  crashCnt: number;
  recovery: string;
  coredump: string;
  dumps: { id: number; size: number; mode: string }[];
  driver: string;
}

export function processorOf(data: PageData): PlatformDesc["processors"][number] | undefined {
  const name = data.boot?.processor ?? (data.crash as { processor?: string } | undefined)?.processor;
  return data.platform.processors.find((p) => p.name === name) ?? data.platform.processors[0];
}

export function eventsOf(data: PageData): RprocEvent[] {
  return data.events ?? data.boot?.events ?? [];
}
