/**
 * `rproc boot FIRMWARE --platform NAME|FILE [--processor NAME] [--json]
 * [--trace] [--search-path DIR]...`: a dry run — boot on the simulated
 * platform, report where everything landed, shut down.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { hex, isRprocError } from "../../errors.js";
import { bootReport, type BootReport } from "../../report/boot.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIO } from "../io.js";
import { teeBootOptions } from "../../drivers/tee/boot-options.js";
import { formatEvent } from "../render-event.js";
import { platformArg } from "../platform-arg.js";
import { writeHtmlReport } from "../../web/report-file.js";
import { Platform } from "../../platform/platform.js";

export const summary = "boot firmware on a simulated platform (dry run), report, shut down";

const USAGE = `usage: rproc boot FIRMWARE --platform NAME|FILE [--processor NAME] [--json] [--trace] [--search-path DIR]...

  FIRMWARE           a path (used as is) or a firmware name looked up on the search path
  --platform         bundled platform name (see \`rproc platforms\`) or a platform JSON file
  --processor        remote processor (default: the platform's first)
  --search-path DIR  firmware directory, repeatable (default: the platform's folder, /lib/firmware)
  --trace            print every lifecycle event
  --tee-key FILE     public key the TEE trusts for a signed image (default: the platform's tee.publicKey)
  --tee-enc-key FILE AES-256 key (64 hex digits) the TEE decrypts an encrypted signed image with
  --driver NAME      override the processor's driver (sim, emulated: run the firmware on an emulated core)
  --run-ms N         let the processor run N ms before the report (default 200 for the emulated driver, else 0)
  --json             machine-readable report
  --html FILE        also write the report as one self-contained HTML page (memory map, lifecycle, timeline)
Exit status: 0 the processor reached running, 1 boot failed, 2 usage error.
`;

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
  for (const d of r.diagnostics) out.push(`${d.severity}: ${d.code}: ${d.message}`);
  if (trace) {
    out.push("events:");
    for (const e of r.events) out.push(formatEvent(e));
  }
  if (r.error) out.push(`boot failed at ${r.error.step ?? "?"}: ${r.error.code}: ${r.error.message}`);
  else out.push(`state: ${r.state} (shut down after the dry run: ${r.finalState})`);
  return out.join("\n") + "\n";
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  let values: { platform?: string; processor?: string; json?: boolean; trace?: boolean; "search-path"?: string[]; "tee-key"?: string; "tee-enc-key"?: string; driver?: string; "run-ms"?: string; html?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        platform: { type: "string" },
        processor: { type: "string" },
        json: { type: "boolean" },
        trace: { type: "boolean" },
        "search-path": { type: "string", multiple: true },
        "tee-key": { type: "string" },
        "tee-enc-key": { type: "string" },
        driver: { type: "string" },
        "run-ms": { type: "string" },
        html: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    io.stderr(`rproc boot: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  if (positionals.length !== 1 || !values.platform) {
    io.stderr(`rproc boot: ${positionals.length === 0 ? "missing FIRMWARE" : positionals.length > 1 ? "one FIRMWARE only" : "missing --platform"}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const runMs = values["run-ms"] === undefined ? undefined : Number(values["run-ms"]);
  if (runMs !== undefined && (!Number.isSafeInteger(runMs) || runMs < 0)) {
    io.stderr(`rproc boot: --run-ms ${values["run-ms"]}: not a non-negative integer\n${USAGE}`);
    return EXIT_USAGE;
  }
  let firmware = positionals[0]!;
  // A file that exists relative to the working directory is meant as a path, not a search-path name.
  if (!firmware.startsWith("/") && existsSync(resolve(io.cwd, firmware))) firmware = resolve(io.cwd, firmware);
  const searchPath = values["search-path"]?.map((d) => resolve(io.cwd, d));
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
    if (isRprocError(e)) {
      if (values.json) io.stdout(JSON.stringify({ error: { code: e.code, step: null, message: e.message, ...(e.field !== undefined ? { field: e.field } : {}) } }, null, 2) + "\n");
      io.stderr(`rproc boot: ${e.code}: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
  if (values.json) io.stdout(JSON.stringify(report, null, 2) + "\n");
  else io.stdout(human(report, values.trace === true));
  if (values.html !== undefined) {
    const path = resolve(io.cwd, values.html);
    try {
      const size = writeHtmlReport(path, Platform.load(platform), { boot: report });
      if (!values.json) io.stdout(`HTML report: ${path} (${size} bytes)\n`);
    } catch (e) {
      if (!isRprocError(e)) throw e;
      io.stderr(`rproc boot: ${e.code}: ${e.message}\n`);
      return EXIT_FAILURE;
    }
  }
  if (report.error && !values.json) io.stderr(`rproc boot: ${report.error.code} at ${report.error.step ?? "?"}: ${report.error.message}\n`);
  return report.error ? EXIT_FAILURE : EXIT_OK;
}
