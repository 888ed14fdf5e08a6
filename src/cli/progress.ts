import type { CliIO } from "./io.js";

/**
 * A one-line progress indicator for long waits, shown on a terminal only
 * (never in --json output or when piped): `label… 1.2 s`, redrawn in place
 * on stderr and erased when the work ends.
 */
export async function withProgress<T>(io: CliIO, show: boolean, label: string, work: Promise<T>): Promise<T> {
  if (!show || !io.isTTY) return work;
  const t0 = Date.now();
  const draw = (): void => io.stderr(`\r${label}… ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  draw();
  const timer = setInterval(draw, 200);
  try {
    return await work;
  } finally {
    clearInterval(timer);
    io.stderr("\r\x1b[K");
  }
}
