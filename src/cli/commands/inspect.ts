/**
 * `rproc inspect FILE`: identity, segments, sections, resource table and
 * diagnostics of a firmware file (ELF, signed image, core dump).
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Errno } from "../../errors.js";
import { inspect, isRejection, type InspectRejection, type InspectResult } from "../../inspect.js";
import { defineCommand } from "../command.js";
import { EXIT_FAILURE, EXIT_OK } from "../io.js";
import { renderInspect } from "./inspect-render.js";

function readErrno(e: unknown): Errno {
  const code = (e as { code?: unknown }).code;
  return code === "ENOENT" || code === "EACCES" ? code : "EIO";
}

/** 0 accepted (warnings and infos allowed), 1 rejected or a diagnostic of severity "error". */
function exitStatus(r: InspectResult): number {
  if (isRejection(r)) return EXIT_FAILURE;
  return r.diagnostics.some((d) => d.severity === "error") ? EXIT_FAILURE : EXIT_OK;
}

export const command = defineCommand({
  name: "inspect",
  synopsis: "FILE [--json]",
  description:
    "Reads a firmware file (ELF, 32/64-bit, either byte order; an OP-TEE signed image; an ELF core dump)\n" +
    "and reports its segments, sections, resource table and what the kernel would say about it.\n" +
    "JSON schema: docs/inspect-json.md.",
  positionals: { min: 1, max: 1, missing: "missing FILE", extra: "expected one FILE" },
  options: {},
  exitStatus: "0 accepted, 1 rejected or error diagnostic or unreadable file (as request_firmware would say), 2 usage",
  async run({ values, positionals }, io) {
    const file = positionals[0]!;
    let bytes: Uint8Array;
    try {
      bytes = await readFile(resolve(io.cwd, file));
    } catch (e) {
      const r: InspectRejection = { file, error: { code: readErrno(e), message: `cannot read ${file}: ${(e as Error).message}` } };
      return { exit: EXIT_FAILURE, json: r, stderr: values.json ? undefined : `rproc inspect: ${r.error.message}\n` };
    }
    const report = inspect(bytes, { file });
    if (isRejection(report)) {
      const field = report.error.field ? ` [${report.error.field}]` : "";
      return { exit: EXIT_FAILURE, json: report, stderr: values.json ? undefined : `rproc inspect: ${file}: rejected: ${report.error.code}${field}: ${report.error.message}\n` };
    }
    return { exit: exitStatus(report), json: report, stdout: renderInspect(report) };
  },
});
