/**
 * `rproc inspect FILE [--json]`: identity, segments, sections, resource
 * table and diagnostics of a firmware file.
 *
 * Exit status: 0 = accepted (warnings and infos allowed); 1 = rejected by the
 * parsers, a diagnostic of severity "error", or the file cannot be read
 * (ENOENT/EACCES/EIO: the firmware is missing, as the kernel's
 * request_firmware would say); 2 = usage (no file, extra arguments, unknown option).
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { type CliIO, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../io.js";
import { inspect, isRejection, type InspectRejection, type InspectResult } from "../../inspect.js";
import { renderInspect } from "./inspect-render.js";
import type { Errno } from "../../errors.js";

const USAGE = `usage: rproc inspect FILE [--json]

Reads a firmware file (ELF, 32/64-bit, either byte order) and reports its
segments, sections, resource table and what the kernel would say about it.

options:
  --json     print the report as JSON (schema: docs/inspect-json.md)
  -h, --help show this help

exit status: 0 accepted, 1 rejected or error diagnostic or unreadable file, 2 usage
`;

export const summary = "read a firmware file and check it";

function readErrno(e: unknown): Errno {
  const code = (e as { code?: unknown }).code;
  return code === "ENOENT" || code === "EACCES" ? code : "EIO";
}

export function exitStatus(r: InspectResult): number {
  if (isRejection(r)) return EXIT_FAILURE;
  return r.diagnostics.some((d) => d.severity === "error") ? EXIT_FAILURE : EXIT_OK;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    io.stderr(`rproc inspect: ${(e as Error).message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (parsed.values.help) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  if (parsed.positionals.length !== 1) {
    io.stderr(`rproc inspect: ${parsed.positionals.length === 0 ? "missing FILE" : "expected one FILE"}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const file = parsed.positionals[0]!;
  const json = parsed.values.json === true;

  let bytes: Uint8Array;
  try {
    bytes = await readFile(resolve(io.cwd, file));
  } catch (e) {
    const r: InspectRejection = { file, error: { code: readErrno(e), message: `cannot read ${file}: ${(e as Error).message}` } };
    if (json) io.stdout(JSON.stringify(r, null, 2) + "\n");
    else io.stderr(`rproc inspect: ${r.error.message}\n`);
    return EXIT_FAILURE;
  }

  const report = inspect(bytes, { file });
  if (json) {
    io.stdout(JSON.stringify(report, null, 2) + "\n");
  } else if (isRejection(report)) {
    const field = report.error.field ? ` [${report.error.field}]` : "";
    io.stderr(`rproc inspect: ${file}: rejected: ${report.error.code}${field}: ${report.error.message}\n`);
  } else {
    io.stdout(renderInspect(report));
  }
  return exitStatus(report);
}
