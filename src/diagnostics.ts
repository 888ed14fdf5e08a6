/** A finding about firmware or configuration that does not stop parsing (lint, warnings the kernel only logs). */
export type Severity = "error" | "warning" | "info";

export interface Diagnostic {
  severity: Severity;
  /** Stable identifier, kebab-case, e.g. "vring-align-not-power-of-two". */
  code: string;
  /** Where, as a JSON-ish path, e.g. "resourceTable.entries[2].vrings[1].align". */
  path: string;
  message: string;
}

export function diag(severity: Severity, code: string, path: string, message: string): Diagnostic {
  return { severity, code, path, message };
}
