/**
 * The devcoredump class as user space sees it (drivers/base/devcoredump.c):
 * /sys/class/devcoredump/devcdK/{data,failing_device} and the global
 * write-once `disabled`. rproc's library keeps its newest dumps per
 * processor (core/coredump-store.ts); this view applies devcoredump's rules
 * on top:
 * - one dump per failing device: while an unread devcd exists for a
 *   processor, a new dump is discarded at once (free() runs, which also
 *   releases an inline dump's waiting recovery);
 * - `devcd%d` names from a global counter starting at 1;
 * - a read streams the data at the requested offset (an inline dump reads
 *   device memory, short reads inside the header); any write frees the dump;
 * - DEVCD_TIMEOUT (5 minutes) frees an unread dump;
 * - writing 1 to `disabled` frees every dump and drops later ones; nothing
 *   else is accepted (EINVAL) and it cannot be undone.
 * Time comes from an injected clock and expiry is checked whenever the view
 * is looked at, so tests control it and no timer holds the process.
 */
import { RprocError } from "../errors.js";
import type { Rproc } from "../core/rproc.js";
import { DEVCD_TIMEOUT_MS, type RprocDump } from "../core/coredump-store.js";
import { cString, simpleStrtol } from "./parse.js";

export interface Devcd {
  name: string;
  rproc: Rproc;
  dump: RprocDump;
  createdMs: number;
}

export interface DevcdOptions {
  now?: () => number;
  timeoutMs?: number;
}

export class DevcdView {
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly live = new Map<string, Devcd>();
  private readonly seen = new Map<Rproc, number>();
  private readonly unsubscribe: (() => void)[] = [];
  private counter = 1;
  disabled = false;
  /** Names of dumps created/freed, for the mount's log. */
  onChange?: (what: "add" | "free" | "discard", name: string, rproc: Rproc) => void;

  constructor(rprocs: readonly Rproc[], opts: DevcdOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.timeoutMs ?? DEVCD_TIMEOUT_MS;
    for (const r of rprocs) {
      this.seen.set(r, r.lastDump?.id ?? 0);
      // The core emits the dump id when it stores a dump; an inline dump is stored before recovery waits on it.
      this.unsubscribe.push(r.events.on((e) => e.rproc === r.name && e.args?.dump !== undefined && this.sync(r)));
    }
  }

  close(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** dev_coredumpm for every dump the processor stored since the last look. */
  sync(rproc: Rproc): void {
    const last = this.seen.get(rproc) ?? 0;
    const fresh = rproc.dumps.filter((d) => d.id > last).reverse();
    if (fresh.length === 0) return;
    this.seen.set(rproc, fresh[fresh.length - 1]!.id);
    this.expire();
    for (const dump of fresh) {
      if (this.disabled || this.entryOf(rproc)) {
        dump.reader?.finish(); // free(data) at once: an inline waiter is completed
        this.onChange?.("discard", `dump ${dump.id}`, rproc);
        continue;
      }
      const name = `devcd${this.counter++}`;
      this.live.set(name, { name, rproc, dump, createdMs: this.now() });
      this.onChange?.("add", name, rproc);
    }
  }

  /** devcd_del after DEVCD_TIMEOUT. */
  expire(): void {
    const t = this.now();
    for (const d of [...this.live.values()]) if (t - d.createdMs >= this.timeoutMs) this.free(d.name);
  }

  list(): Devcd[] {
    this.expire();
    return [...this.live.values()];
  }

  get(name: string): Devcd | undefined {
    this.expire();
    return this.live.get(name);
  }

  entryOf(rproc: Rproc): Devcd | undefined {
    for (const d of this.live.values()) if (d.rproc === rproc) return d;
    return undefined;
  }

  /** devcd_data_read: bytes at `offset`; an empty array at the end. */
  read(name: string, offset: number, count: number): Uint8Array {
    const d = this.get(name);
    if (!d) throw new RprocError("ENODEV", `${name} was freed`, { step: "devcd_data_read" });
    if (d.dump.bytes) return d.dump.bytes.subarray(Math.min(offset, d.dump.bytes.length), Math.min(offset + count, d.dump.bytes.length));
    if (d.dump.reader) return d.dump.reader.read(offset, count);
    return new Uint8Array(0);
  }

  /** devcd_data_write: any write frees the dump. */
  free(name: string): void {
    const d = this.live.get(name);
    if (!d) return;
    this.live.delete(name);
    d.dump.reader?.finish();
    this.onChange?.("free", name, d.rproc);
  }

  disabledShow(): string {
    return `${this.disabled ? 1 : 0}\n`;
  }

  /** disabled_store: simple_strtol(buf) must be 1; then every dump is freed. */
  disabledStore(buf: Uint8Array): void {
    const v = simpleStrtol(cString(buf));
    if (v !== 1) throw new RprocError("EINVAL", "devcoredump disabled: only 1 is accepted (it cannot be re-enabled)", { field: "disabled", value: v });
    this.disabled = true;
    for (const name of [...this.live.keys()]) this.free(name);
  }
}
