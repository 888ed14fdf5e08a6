/**
 * `rproc boot FIRMWARE --platform NAME|FILE [--processor NAME] [--json]
 * [--trace] [--search-path DIR]...`: a dry run — boot on the simulated
 * platform, report where everything landed, shut down.
 */
import { resolve } from "node:path";
import { hex, isRprocError } from "../../errors.js";
import { bootReport, type BootReport } from "../../report/boot.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../io.js";
import { defineCommand, UsageError } from "../command.js";
import { firmwareArg } from "../../core/firmware.js";
import { teeBootOptions } from "../../drivers/tee/boot-options.js";
import { formatEvent } from "../render-event.js";
import { platformArg } from "../platform-arg.js";
import { decodeFaultStatus } from "../../drivers/emulated/fault-status.js";

/** Names the set fault-status bits (Cortex-M CFSR/HFSR, R5 DFSR/IFSR), as the fault report does. */
function decodeStatus(status: Record<string, string>): string {
  const names = decodeFaultStatus(Object.fromEntries(Object.entries(status).map(([k, v]) => [k, Number(v)])));
  return names.length ? ` (${names.join(", ")})` : "";
}
import { writeHtmlReport } from "../../web/report-file.js";
import { Platform } from "../../platform/platform.js";

function human(r: BootReport, trace: boolean): string {
  const out: string[] = [];
  out.push(`platform ${r.platform}, processor ${r.processor}, firmware ${r.firmware}`);
  if (r.bootAddress !== null) out.push(`boot address ${hex(r.bootAddress)}`);
  if (r.segments.length) {
    out.push("segments:");
    for (const s of r.segments)
      out.push(`  [${s.index}] da ${hex(s.da)} -> pa ${hex(s.pa)}  filesz ${hex(s.filesz)} memsz ${hex(s.memsz)}  ${s.region ?? "?"}`);
  }
  if (r.carveouts.length) {
    out.push("carveouts:");
    for (const c of r.carveouts)
      out.push(`  ${c.name.padEnd(16)} da ${hex(c.da)} pa ${c.pa === null ? "-" : hex(c.pa)} len ${hex(c.len)}  ${c.allocated ? "allocated from DMA pool" : "registered by driver"}`);
  }
  for (const t of r.traces) {
    out.push(`${t.name}: da ${hex(t.da)} len ${hex(t.len)}`);
    for (const line of t.text.replace(/\n$/, "").split("\n")) out.push(`  | ${line}`);
  }
  for (const [i, v] of r.vdevs.entries()) {
    out.push(`vdev${i}: id ${v.id} notifyid ${v.notifyid} status ${hex(v.status)}`);
    for (const [j, q] of v.vrings.entries())
      out.push(`  vring${j}: da ${hex(q.da)} pa ${q.pa === null ? "-" : hex(q.pa)} num ${q.num} align ${q.align} notifyid ${q.notifyid}`);
  }
  if (r.console) {
    out.push("console:");
    for (const line of r.console.replace(/\n$/, "").split("\n")) out.push(`  | ${line}`);
  }
  for (const d of r.diagnostics) out.push(`${d.severity}: ${d.code}: ${d.message}`);
  if (r.crashes && r.crashes.count > 0) {
    const f = r.crashes.first?.fault;
    out.push(`${r.crashes.loop ? "crash loop" : "crash"}: ${r.crashes.count} crash${r.crashes.count === 1 ? "" : "es"} during the run${r.crashes.loop ? " (the firmware faulted again after each recovery)" : ""}`);
    if (f) {
      out.push(`  first fault: ${String(f.message ?? f.kind)}`);
      if (f.status && typeof f.status === "object") out.push(`  fault status: ${Object.entries(f.status).map(([k, v]) => `${k} ${v}`).join(" ")}${decodeStatus(f.status as Record<string, string>)}`);
      if (f.registers && typeof f.registers === "object") out.push(`  registers: ${Object.entries(f.registers).map(([k, v]) => `${k}=${v}`).join(" ")}`);
    }
  }
  if (trace) {
    out.push("events:");
    for (const e of r.events) out.push(formatEvent(e));
  }
  if (r.error) out.push(`boot failed at ${r.error.step ?? "?"}: ${r.error.code}: ${r.error.message}`);
  else out.push(`state: ${r.state} (shut down after the dry run: ${r.finalState})`);
  return out.join("\n") + "\n";
}

export const command = defineCommand({
  name: "boot",
  synopsis: "FIRMWARE --platform NAME|FILE [--processor NAME] [--json] [--trace] [--search-path DIR]...",
  description: "A dry run: boot on the simulated platform, report where everything landed, shut down (docs/lifecycle.md).",
  positionals: { min: 1, max: 1, missing: "missing FIRMWARE", extra: "one FIRMWARE only" },
  options: {
    platform: { type: "string", value: "NAME|FILE", help: "bundled platform name (see `rproc platforms`) or a platform JSON file" },
    processor: { type: "string", value: "NAME", help: "remote processor (default: the platform's first)" },
    "search-path": { type: "string", multiple: true, value: "DIR", help: "firmware directory, repeatable (default: the platform's folder, /lib/firmware)" },
    trace: { type: "boolean", help: "print every lifecycle event" },
    "tee-key": { type: "string", value: "FILE", help: "public key the TEE trusts for a signed image (default: the platform's tee.publicKey)" },
    "tee-enc-key": { type: "string", value: "FILE", help: "AES-256 key (64 hex digits) the TEE decrypts an encrypted signed image with" },
    driver: { type: "string", value: "NAME", help: "override the processor's driver (sim, emulated: run the firmware on an emulated core)" },
    "run-ms": { type: "string", value: "N", help: "let the processor run N ms before the report (default 200 for the emulated driver, else 0)" },
    html: { type: "string", value: "FILE", help: "also write the report as one self-contained HTML page (memory map, lifecycle, timeline)" },
  },
  exitStatus: "0 the processor reached running, 1 boot failed, 2 usage error.",
  async run({ values, positionals }, io) {
    if (!values.platform) throw new UsageError("missing --platform");
    const runMs = values["run-ms"] === undefined ? undefined : Number(values["run-ms"]);
    if (runMs !== undefined && (!Number.isSafeInteger(runMs) || runMs < 0)) throw new UsageError(`--run-ms ${values["run-ms"]}: not a non-negative integer`);
    const firmware = firmwareArg(positionals[0]!, io.cwd);
    const searchPath = values["search-path"].length ? values["search-path"].map((d) => resolve(io.cwd, d)) : undefined;
    const platform = platformArg(values.platform, io.cwd);
    let report: BootReport;
    try {
      report = await bootReport({
        platform,
        firmware,
        cwd: io.cwd,
        ...(values.processor !== undefined ? { processor: values.processor } : {}),
        ...(searchPath !== undefined ? { searchPath } : {}),
        // A signed image boots through the TEE driver (src/drivers/tee/boot-options.ts).
        ...teeBootOptions(firmware, io.cwd, { teeKey: values["tee-key"], teeEncKey: values["tee-enc-key"], searchPath, platform }),
        ...(values.driver !== undefined ? { driver: values.driver } : {}),
        ...(runMs !== undefined ? { runMs } : {}),
      });
    } catch (e) {
      // Platform or processor the user named does not exist / does not parse: a usage problem.
      if (!isRprocError(e)) throw e;
      return {
        exit: EXIT_USAGE,
        json: { error: { code: e.code, step: null, message: e.message, ...(e.field !== undefined ? { field: e.field } : {}) } },
        stderr: `rproc boot: ${e.code}: ${e.message}\n`,
      };
    }
    let htmlLine = "";
    if (values.html !== undefined) {
      const path = resolve(io.cwd, values.html);
      const size = writeHtmlReport(path, Platform.load(platform), { boot: report });
      htmlLine = `HTML report: ${path} (${size} bytes)\n`;
    }
    return {
      exit: report.error || report.crashes?.loop ? EXIT_FAILURE : EXIT_OK,
      json: report,
      stdout: human(report, values.trace) + htmlLine,
      ...(report.error && !values.json ? { stderr: `rproc boot: ${report.error.code} at ${report.error.step ?? "?"}: ${report.error.message}\n` } : {}),
      ...(!report.error && report.crashes?.loop && !values.json ? { stderr: `rproc boot: crash loop: ${report.crashes.count} crashes during the run\n` } : {}),
    };
  },
});
