/**
 * rproc->lock: an async mutex. Public entry points take it like
 * mutex_lock_interruptible(): a waiter whose AbortSignal fires gives up with
 * EINTR and never acquires the lock.
 */
import { RprocError } from "../errors.js";

interface Waiter {
  grant: () => void;
}

export class AsyncMutex {
  private held = false;
  private queue: Waiter[] = [];

  get locked(): boolean {
    return this.held;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Resolve with the unlock function once the lock is ours; reject EINTR on abort. */
  lock(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(interrupted());
    if (!this.held) {
      this.held = true;
      return Promise.resolve(this.unlocker());
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve(this.unlocker());
        },
      };
      const onAbort = (): void => {
        this.queue = this.queue.filter((w) => w !== waiter);
        reject(interrupted());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private unlocker(): () => void {
    let done = false;
    return () => {
      if (done) return; // an unlock is idempotent so error paths can call it safely
      done = true;
      const next = this.queue.shift();
      if (next) next.grant();
      else this.held = false;
    };
  }
}

function interrupted(): RprocError {
  return new RprocError("EINTR", "interrupted while waiting for the rproc lock");
}
