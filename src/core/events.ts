/**
 * One event vocabulary for `--trace`, tests and fault injection: every core
 * step emits begin, then end or fail; "info" carries resource bookkeeping and
 * warnings the kernel only logs. Step names are the kernel's function names.
 */
export interface RprocEvent {
  seq: number;
  rproc: string;
  step: string;
  phase: "begin" | "end" | "fail" | "info";
  args?: Record<string, unknown>;
  errno?: string;
  message?: string;
}

export type RprocEventListener = (e: RprocEvent) => void;

export class EventLog {
  private listeners: RprocEventListener[] = [];
  private seq = 0;

  /** Subscribe; returns the unsubscribe function. */
  on(listener: RprocEventListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  emit(e: Omit<RprocEvent, "seq">): RprocEvent {
    const ev: RprocEvent = { seq: ++this.seq, ...e };
    // Copy so a listener that unsubscribes itself does not skip its neighbour.
    for (const l of [...this.listeners]) l(ev);
    return ev;
  }

  listenerCount(): number {
    return this.listeners.length;
  }
}

/** Collect events into an array until the returned stop() is called (tests, CLI). */
export function recordEvents(log: EventLog): { events: RprocEvent[]; stop: () => void } {
  const events: RprocEvent[] = [];
  const stop = log.on((e) => events.push(e));
  return { events, stop };
}
