/** Shared fixtures for core tests: platforms (incl. an attach variant) and rprocs with event recording. */
import { readFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Platform } from "../../src/platform/platform.js";
import { createRproc, type CreateRprocOptions } from "../../src/drivers/registry.js";
import { recordEvents, type RprocEvent } from "../../src/core/events.js";
import type { Rproc } from "../../src/core/rproc.js";
import { isForwardBegin } from "./fault.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const FIXTURES = join(ROOT, "fixtures/firmware");
export const fixture = (name: string): string => join(FIXTURES, name);

/** A bundled platform with processor fields overridden (e.g. initiallyRunning for attach). */
export function platformVariant(name: string, patch: Record<string, unknown>): Platform {
  const json = JSON.parse(readFileSync(join(ROOT, "platforms", `${name}.json`), "utf8")) as { processors: Record<string, unknown>[] };
  json.processors[0] = { ...json.processors[0], ...patch };
  return Platform.parse(json, join(ROOT, "platforms", `${name}.json`));
}

/** Write bytes to a fresh temp file and return its path (generated firmware). */
export function tempFirmware(bytes: Uint8Array, name = "fw.elf"): string {
  const dir = mkdtempSync(join(tmpdir(), "rproc-test-"));
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

export function makeRproc(platform: Platform, firmware: string, opts: CreateRprocOptions = {}): { rproc: Rproc; events: RprocEvent[] } {
  const rproc = createRproc(platform, undefined, { firmware, ...opts });
  const { events } = recordEvents(rproc.events);
  return { rproc, events };
}

/** Forward steps (begin events that are not unwind actions), in order. */
export function forward(events: RprocEvent[]): string[] {
  return events.filter(isForwardBegin).map((e) => e.step);
}

/** Unwind actions, in order. */
export function unwind(events: RprocEvent[]): string[] {
  return events.filter((e) => e.phase === "begin" && e.args?.undo === true).map((e) => e.step);
}
