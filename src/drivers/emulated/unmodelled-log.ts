/**
 * Unmodelled peripheral accesses of one processor, kept across restarts: the
 * first `limit` addresses are reported one line each (event and diagnostic),
 * the rest are counted in a single summary diagnostic whose message is kept
 * current, so a firmware probing hundreds of registers — or crash-looping
 * through the same ones after every recovery — yields a bounded report.
 */
import { hex } from "../../errors.js";
import { diag, type Diagnostic } from "../../diagnostics.js";

export const UNMODELLED_REPORT_LIMIT = 8;

export class UnmodelledLog {
  private readonly seen = new Set<number>();
  private extra = 0;
  private firstExtra: number | undefined;
  private summaryDiag: Diagnostic | undefined;

  constructor(private readonly limit = UNMODELLED_REPORT_LIMIT) {}

  /** "new": report it; "summary": the first one past the limit (add the summary diagnostic); "counted": already reported or summarised. */
  note(da: number, _access: "read" | "write"): "new" | "summary" | "counted" {
    if (this.seen.has(da)) return "counted";
    this.seen.add(da);
    if (this.seen.size <= this.limit) return "new";
    this.extra++;
    this.firstExtra ??= da;
    if (this.summaryDiag) {
      this.summaryDiag.message = this.message();
      return "counted";
    }
    return "summary";
  }

  summary(path: string): Diagnostic {
    this.summaryDiag = diag("warning", "emulated-unmodelled-mmio-summary", path, this.message());
    return this.summaryDiag;
  }

  get addresses(): number {
    return this.seen.size;
  }

  private message(): string {
    return `${this.extra} more unmodelled peripheral address${this.extra === 1 ? "" : "es"} (first ${hex(this.firstExtra ?? 0)}), each read as 0 / write ignored; not listed one by one`;
  }
}
