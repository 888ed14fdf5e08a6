// Processors for the interface tests: the bundled STM32MP157 M4 booting the
// fixture firmware on the sim driver, optionally started by an "earlier boot
// stage" (initiallyRunning) so the attach/detach rows can be exercised.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Platform } from "../../src/platform/platform.js";
import { createRproc } from "../../src/drivers/registry.js";
import type { Rproc } from "../../src/core/rproc.js";
import { rprocCrashFlush } from "../../src/core/crash.js";

export const FW_DIR = fileURLToPath(new URL("../../fixtures/firmware/", import.meta.url));
export const FW = "stm32mp15-m4.elf";
const PLATFORM_JSON = fileURLToPath(new URL("../../platforms/stm32mp157.json", import.meta.url));

export function makeProc(opts: { attached?: boolean } = {}): Rproc {
  let platform = Platform.load("stm32mp157");
  if (opts.attached) {
    const desc = JSON.parse(readFileSync(PLATFORM_JSON, "utf8"));
    desc.processors[0].initiallyRunning = true;
    delete desc.processors[0].tee;
    const file = join(mkdtempSync(join(tmpdir(), "rproc-ifaces-")), "stm32mp157-attached.json");
    writeFileSync(file, JSON.stringify(desc));
    platform = Platform.load(file);
  }
  return createRproc(platform, "m4", { firmware: FW, searchPath: [FW_DIR] });
}

/** Brings a processor to `state` the way user space would. */
export async function bringTo(r: Rproc, state: "offline" | "running" | "crashed" | "attached" | "detached"): Promise<void> {
  if (state === "offline") return;
  if (state === "detached") return; // makeProc({ attached: true }) starts there
  if (state === "attached") {
    await r.boot(); // DETACHED with power 0 → attach
    return;
  }
  await r.boot();
  if (state === "crashed") {
    r.recoveryDisabled = true;
    r.reportCrash(1);
    await rprocCrashFlush(r);
  }
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
