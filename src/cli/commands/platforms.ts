/**
 * `rproc platforms` lists the bundled platforms; `rproc platforms NAME|FILE`
 * shows one platform in detail (regions, pools, processors with their
 * translations). A bad platform file is a user error: exit 1 with the field
 * that is wrong, never a stack trace.
 */
import { hex } from "../../errors.js";
import { Platform } from "../../platform/platform.js";
import { platformArg } from "../platform-arg.js";
import { lintPlatform } from "../../platform/lint.js";
import type { PlatformDesc, ProcessorDesc } from "../../platform/types.js";
import { defineCommand, type Outcome } from "../command.js";
import { EXIT_OK } from "../io.js";

export const command = defineCommand({
  name: "platforms",
  synopsis: ["[--json]            list the bundled platforms", "NAME|FILE [--json]  show one platform: regions, pools, processors"],
  positionals: { min: 0, max: 1, missing: "", extra: "expected at most one platform" },
  options: {},
  exitStatus: "0 listed or shown (lint findings are advice), 1 the platform does not load, 2 usage",
  async run({ positionals }, io) {
    return positionals.length === 0 ? list() : show(positionals[0]!, io.cwd);
  },
});

function list(): Outcome {
  const rows = Platform.bundled().map((b) => {
    const p = Platform.load(b.path);
    return {
      name: p.desc.name,
      description: p.desc.description,
      processors: p.desc.processors.map((x) => ({ name: x.name, driver: x.driver, core: x.core ?? null, firmware: x.firmware })),
    };
  });
  let text = "";
  for (const r of rows) {
    text += `${r.name}\n  ${r.description}\n`;
    for (const p of r.processors) text += `  ${p.name.padEnd(8)} driver ${p.driver.padEnd(8)} core ${(p.core ?? "-").padEnd(11)} firmware ${p.firmware}\n`;
  }
  return { exit: EXIT_OK, json: { platforms: rows }, stdout: text };
}

function show(arg: string, cwd: string): Outcome {
  // A path is resolved against the caller's directory, not the process's.
  const p = Platform.load(platformArg(arg, cwd));
  // Findings are advice about a valid file (what the kernel accepts but boards trip on): exit status stays 0.
  const diagnostics = lintPlatform(p);
  let text = render(p.desc);
  if (diagnostics.length) {
    text += "\nfindings:\n";
    for (const d of diagnostics) text += `  ${d.severity} ${d.code} at ${d.path}: ${d.message}\n`;
  }
  return { exit: EXIT_OK, json: { platform: p.desc, diagnostics }, stdout: text };
}

const range = (pa: number, size: number): string => `${hex(pa).padStart(12)}..${hex(pa + size - 1).padEnd(12)} ${hex(size).padStart(11)}`;

function render(d: PlatformDesc): string {
  const out: string[] = [`${d.name}: ${d.description}`, "", "sources:"];
  for (const s of d.sources) out.push(`  ${s}`);
  out.push("", "regions (host view):");
  for (const r of d.regions) {
    const alias = r.aliasOf ? `  alias of ${r.aliasOf}` : "";
    out.push(`  ${r.name.padEnd(20)} ${range(r.pa, r.size)}  ${r.kind.padEnd(4)} ${r.owner}${alias}`);
  }
  out.push("", "reserved-memory pools:");
  for (const p of d.pools) out.push(`  ${p.name.padEnd(26)} ${range(p.pa, p.size)}${p.noMap ? "  no-map" : ""}`);
  for (const proc of d.processors) out.push("", ...renderProcessor(proc));
  return out.join("\n") + "\n";
}

function renderProcessor(p: ProcessorDesc): string[] {
  const out = [
    `processor ${p.name}: driver ${p.driver}, core ${p.core ?? "-"}, firmware ${p.firmware}` +
      (p.elfMachine !== undefined ? `, e_machine ${p.elfMachine}` : ""),
    `  carveouts: ${p.registerCarveouts ? "driver registers memory-region pools by name" : "not pre-registered"}` +
      (p.dmaPool ? `; DMA pool ${p.dmaPool}` : "") +
      `; iommu ${p.hasIommu ? "yes" : "no"}; ${p.initiallyRunning ? "running at start (attach)" : "off at start (boot)"}` +
      `; coredump ${p.coredumpSegments}`,
    `  memory-region: ${p.memoryRegions.length ? p.memoryRegions.join(", ") : "(none)"}`,
    "  translations (da -> pa):",
  ];
  for (const t of p.translations) {
    out.push(`    ${(t.name ?? "").padEnd(16)} da ${range(t.da, t.size)} -> pa ${hex(t.pa)}`);
  }
  if (p.tee) out.push(`  tee: rproc id ${p.tee.rprocId}${p.tee.publicKey ? `, key ${p.tee.publicKey}` : ""}; firewall ${p.firewall ? "on" : "off"}`);
  if (p.mailbox) out.push(`  mailbox: ${p.mailbox.kind} at ${hex(p.mailbox.pa)}${p.mailbox.channels ? ` channels ${p.mailbox.channels.join(", ")}` : ""}`);
  if (p.watchdog) out.push(`  watchdog: ${p.watchdog.kind}, ${p.watchdog.timeoutMs} ms`);
  for (const x of p.peripherals ?? []) out.push(`  peripheral ${x.name} ${range(x.pa, x.size)}${x.da !== undefined ? ` da ${hex(x.da)}` : ""}`);
  return out;
}
