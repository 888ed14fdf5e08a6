/**
 * /sys/kernel/debug/remoteproc/remoteprocN/* as remoteproc_debugfs.c
 * defines them: strncmp prefix words with a count limit, `crash` taking a
 * number (kstrtouint base 0), the seq_file texts, and traceK entries that
 * exist from resource handling until rproc_resource_cleanup (so they
 * survive a crash). debugfs has no kernfs open check: root may open any
 * entry for writing and gets EINVAL from a write it has no handler for.
 */
import { RprocError } from "../errors.js";
import type { Rproc } from "../core/rproc.js";
import { RprocDumpMechanism, RprocState } from "../core/state.js";
import { recoveryShow, coredumpShow } from "../core/recovery.js";
import { attributeFile, type Attribute, type FileNode } from "./node.js";
import { debugfsWord, kstrtouintFromUser } from "./parse.js";
import { carveoutMemoriesText, resourceTableText, type PointerFormat } from "./rsc-text.js";

const attr = (a: Omit<Attribute, "kernfs">): FileNode => attributeFile({ ...a, kernfs: false });

/** rproc_recovery_write: buf[10]; enabled/recover trigger recovery (a no-op unless CRASHED); the write waits for it. */
async function recoveryWrite(rproc: Rproc, buf: Uint8Array): Promise<void> {
  const w = debugfsWord(buf, ["enabled", "disabled", "recover"], 10, "recovery");
  if (w === undefined) throw new RprocError("EINVAL", "recovery: unknown word (enabled, disabled, recover)", { field: "recovery" });
  if (w === "disabled") {
    rproc.recoveryDisabled = true;
    return;
  }
  if (w === "enabled") rproc.recoveryDisabled = false;
  // The kernel ignores rproc_trigger_recovery's result here too.
  await rproc.triggerRecovery().catch(() => undefined);
}

const DUMP_CONF: Record<string, RprocDumpMechanism> = {
  disabled: RprocDumpMechanism.DISABLED,
  enabled: RprocDumpMechanism.ENABLED,
  inline: RprocDumpMechanism.INLINE,
};

/** rproc_coredump_write: buf[20]; EBUSY while CRASHED is checked after the length and before the word. */
function coredumpWrite(rproc: Rproc, buf: Uint8Array): void {
  if (buf.length < 1 || buf.length > 20) throw new RprocError("EINVAL", `coredump: write of ${buf.length} bytes (1..20 accepted)`, { field: "coredump", value: buf.length, limit: 20 });
  if (rproc.state === RprocState.CRASHED) throw new RprocError("EBUSY", "can't change coredump configuration", { field: "coredump" });
  const w = debugfsWord(buf, ["disabled", "enabled", "inline"], 20, "coredump");
  if (w === undefined) throw new RprocError("EINVAL", "coredump: unknown word (disabled, enabled, inline)", { field: "coredump" });
  rproc.dumpConf = DUMP_CONF[w]!;
}

/** The entries of one processor's debugfs directory, computed now (traceK come and go). */
export function rprocDebugfsEntries(rproc: Rproc, pointers: PointerFormat = { pointerBytes: 8 }): Map<string, FileNode> {
  const m = new Map<string, FileNode>([
    ["name", attr({ mode: 0o400, show: () => `${rproc.name.slice(0, 98)}\n` })],
    ["recovery", attr({ mode: 0o600, show: () => recoveryShow(rproc), store: (b) => recoveryWrite(rproc, b) })],
    ["crash", attr({ mode: 0o200, store: (b) => rproc.reportCrash(kstrtouintFromUser(b, "crash")) })],
    ["resource_table", attr({ mode: 0o400, show: () => resourceTableText(rproc, pointers) })],
    ["carveout_memories", attr({ mode: 0o400, show: () => carveoutMemoriesText(rproc, pointers) })],
    ["coredump", attr({ mode: 0o600, show: () => coredumpShow(rproc), store: (b) => coredumpWrite(rproc, b) })],
  ]);
  for (let i = 0; i < rproc.traces.length; i++) {
    const index = i;
    // rproc_trace_read: the text up to the first NUL, read at each open (the buffer lives in device memory).
    m.set(`trace${i}`, attr({ mode: 0o400, show: () => rproc.traceText(index) }));
  }
  return m;
}
