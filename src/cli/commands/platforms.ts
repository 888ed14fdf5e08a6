/**
 * `rproc platforms [--json]` lists the bundled platforms;
 * `rproc platforms NAME|FILE [--json]` shows one platform in detail
 * (regions, pools, processors with their translations). A bad platform file
 * is a user error: exit 1 with the field that is wrong, never a stack trace.
 */
import { RprocError, hex } from "../../errors.js";
import { Platform } from "../../platform/platform.js";
import { platformArg } from "../platform-arg.js";
import { lintPlatform } from "../../platform/lint.js";
import type { PlatformDesc, ProcessorDesc } from "../../platform/types.js";
import type { CliIO } from "../io.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../io.js";

export const summary = "list the bundled platforms, or show one platform (name or JSON file)";

const USAGE = `usage: rproc platforms [--json]            list the bundled platforms
       rproc platforms NAME|FILE [--json]  show one platform: regions, pools, processors
`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  let json = false;
  const positional: string[] = [];
  for (const a of argv) {
    if (a === "--json") json = true;
    else if (a === "--help" || a === "-h") {
      io.stdout(USAGE);
      return EXIT_OK;
    } else if (a.startsWith("-")) {
      io.stderr(`rproc platforms: unknown option '${a}'\n${USAGE}`);
      return EXIT_USAGE;
    } else positional.push(a);
  }
  if (positional.length > 1) {
    io.stderr(`rproc platforms: expected at most one platform, got ${positional.length}\n${USAGE}`);
    return EXIT_USAGE;
  }
  try {
    if (positional.length === 0) return list(io, json);
    return show(positional[0]!, io, json);
  } catch (e) {
    if (!(e instanceof RprocError)) throw e;
    if (json) io.stdout(JSON.stringify({ error: e.toJSON() }, null, 2) + "\n");
    else io.stderr(`rproc platforms: ${e.message}\n`);
    return EXIT_FAILURE;
  }
}

function list(io: CliIO, json: boolean): number {
  const rows = Platform.bundled().map((b) => {
    const p = Platform.load(b.path);
    return {
      name: p.desc.name,
      description: p.desc.description,
      processors: p.desc.processors.map((x) => ({ name: x.name, driver: x.driver, core: x.core ?? null, firmware: x.firmware })),
    };
  });
  if (json) {
    io.stdout(JSON.stringify({ platforms: rows }, null, 2) + "\n");
    return EXIT_OK;
  }
  for (const r of rows) {
    io.stdout(`${r.name}\n  ${r.description}\n`);
    for (const p of r.processors) {
      io.stdout(`  ${p.name.padEnd(8)} driver ${p.driver.padEnd(8)} core ${(p.core ?? "-").padEnd(11)} firmware ${p.firmware}\n`);
    }
  }
  return EXIT_OK;
}

function show(arg: string, io: CliIO, json: boolean): number {
  // A path is resolved against the caller's directory, not the process's.
  const p = Platform.load(platformArg(arg, io.cwd));
  // Findings are advice about a valid file (what the kernel accepts but boards trip on): exit status stays 0.
  const diagnostics = lintPlatform(p);
  if (json) {
    io.stdout(JSON.stringify({ platform: p.desc, diagnostics }, null, 2) + "\n");
    return EXIT_OK;
  }
  io.stdout(render(p.desc));
  if (diagnostics.length) {
    io.stdout("\nfindings:\n");
    for (const d of diagnostics) io.stdout(`  ${d.severity} ${d.code} at ${d.path}: ${d.message}\n`);
  }
  return EXIT_OK;
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
