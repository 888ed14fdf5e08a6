import type { RprocEvent } from "../core/events.js";

/** One line of `--trace`: sequence number, phase, step, errno, arguments, message. */
export function formatEvent(e: RprocEvent): string {
  const args = e.args && Object.keys(e.args).length ? " " + JSON.stringify(e.args) : "";
  const err = e.errno ? ` ${e.errno}` : "";
  const msg = e.message ? `: ${e.message}` : "";
  return `${String(e.seq).padStart(4)} ${e.phase.padEnd(5)} ${e.step}${err}${args}${msg}`;
}
