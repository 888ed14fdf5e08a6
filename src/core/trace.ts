/**
 * debugfs traceN reads (rproc_trace_read): the address is resolved at read
 * time, so a trace may live in firmware-loaded memory.
 */
import { RprocError } from "../errors.js";
import type { Rproc } from "./rproc.js";
import { rprocDaToVa } from "./memory.js";

export function traceRead(rproc: Rproc, index: number): string {
  const t = rproc.traces[index];
  if (!t) throw new RprocError("ENOENT", `${rproc.name} has no trace${index}`, { field: "trace", value: index, limit: rproc.traces.length });
  const va = rprocDaToVa(rproc, t.da, t.len);
  // Quirk kept: the kernel prints the (empty) name of its trace_mem entry here.
  if (!va) return "Trace  not available\n";
  let bytes: Uint8Array;
  try {
    bytes = va.read(0, t.len);
  } catch {
    return "Trace  not available\n";
  }
  const nul = bytes.indexOf(0);
  const n = nul < 0 ? bytes.length : nul;
  return Buffer.from(bytes.buffer, bytes.byteOffset, n).toString("latin1");
}
