/**
 * Runs emulated cores in instruction-budget slices from the event loop
 * (setImmediate), round robin, so a running firmware never blocks the process
 * and several processors run side by side. One slice of each runnable core
 * per turn; between turns timers, I/O and promise continuations run (a host
 * kick, a test writing a command word, a shutdown).
 *
 * While a core is runnable the pending setImmediate keeps Node alive, as a
 * running remote processor keeps a real system busy; stop the processor (or
 * call `unref`) to let the process exit.
 */
export interface SliceTask {
  /** Runs one slice; returns false when the task is finished (it is then dropped). */
  runSlice(): boolean;
  /** A slice threw: the task is dropped and told here (there is no caller to throw to). Default: a process warning. */
  onError?(error: unknown): void;
}

export class SliceScheduler {
  private readonly tasks = new Set<SliceTask>();
  private pending: NodeJS.Immediate | undefined;
  private referenced = true;
  /** Turns run so far (for benchmarks and tests). */
  turns = 0;

  add(task: SliceTask): void {
    this.tasks.add(task);
    this.arm();
  }

  remove(task: SliceTask): void {
    this.tasks.delete(task);
    if (this.tasks.size === 0 && this.pending) {
      clearImmediate(this.pending);
      this.pending = undefined;
    }
  }

  has(task: SliceTask): boolean {
    return this.tasks.has(task);
  }

  get size(): number {
    return this.tasks.size;
  }

  /** Let the process exit even while cores run (CLI commands that only boot and report). */
  unref(): void {
    this.referenced = false;
    this.pending?.unref();
  }

  ref(): void {
    this.referenced = true;
    this.pending?.ref();
  }

  private arm(): void {
    if (this.pending || this.tasks.size === 0) return;
    this.pending = setImmediate(() => this.turn());
    if (!this.referenced) this.pending.unref();
  }

  private turn(): void {
    this.pending = undefined;
    this.turns++;
    for (const t of [...this.tasks]) {
      if (!this.tasks.has(t)) continue; // removed by an earlier task's slice (e.g. a crash report)
      let more = false;
      try {
        more = t.runSlice();
      } catch (e) {
        // One broken task must not stall the others: drop it and tell its owner.
        this.tasks.delete(t);
        if (t.onError) t.onError(e);
        else process.emitWarning(`emulated core slice failed: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      if (!more) this.tasks.delete(t);
    }
    this.arm();
  }
}

/** The scheduler shared by every emulated processor of the process. */
export const defaultScheduler = new SliceScheduler();
