/**
 * An rpmsg endpoint (struct rpmsg_endpoint) as the library hands it out:
 * a local address, a default destination, send/trySend, and received
 * messages through a listener or an async iterator. close() destroys it
 * (rpmsg_destroy_ept); a closed endpoint refuses sends with EPIPE.
 */
import { RprocError } from "../errors.js";

export interface RpmsgMessage {
  src: number;
  dst: number;
  data: Uint8Array;
}

export interface EndpointBackend {
  send(ept: RpmsgEndpoint, dst: number, data: Uint8Array, wait: boolean, timeoutMs: number): Promise<void> | void;
  destroy(ept: RpmsgEndpoint): void;
}

/** Bound of the receive queue kept for the iterator when nobody reads (rpmsg_char keeps an unbounded skb queue). */
export const RPMSG_EPT_QUEUE_LIMIT = 4096;

export class RpmsgEndpoint {
  closed = false;
  /** Messages dropped because the queue was full and nobody read them. */
  dropped = 0;
  private readonly listeners: ((m: RpmsgMessage) => void)[] = [];
  private readonly queue: RpmsgMessage[] = [];
  private readonly waiters: ((r: IteratorResult<RpmsgMessage>) => void)[] = [];
  private readonly closeListeners: (() => void)[] = [];

  constructor(
    readonly addr: number,
    /** The default destination (the channel's remote address), RPMSG_ADDR_ANY when none. */
    readonly dst: number,
    readonly name: string,
    private readonly backend: EndpointBackend,
    /** Keep received messages for the iterator (false for endpoints only used with listeners). */
    private readonly queueing = true,
  ) {}

  /** rpmsg_send / rpmsg_sendto: waits up to timeoutMs (default the kernel's 15 s) for a TX buffer. */
  async send(data: Uint8Array, opts: { dst?: number; timeoutMs?: number } = {}): Promise<void> {
    this.checkOpen();
    await this.backend.send(this, opts.dst ?? this.dst, data, true, opts.timeoutMs ?? 15000);
  }

  /** rpmsg_trysend: ENOMEM at once when no TX buffer is free. */
  trySend(data: Uint8Array, opts: { dst?: number } = {}): void {
    this.checkOpen();
    void this.backend.send(this, opts.dst ?? this.dst, data, false, 0);
  }

  /** Called for each received message; returns an unsubscribe function. */
  onMessage(fn: (m: RpmsgMessage) => void): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closeListeners.push(fn);
  }

  /** Next queued message, or undefined after close. */
  async receive(): Promise<RpmsgMessage | undefined> {
    const r = await this.next();
    return r.done ? undefined : r.value;
  }

  /** Queued message without waiting (rpmsg_char read with O_NONBLOCK). */
  poll(): RpmsgMessage | undefined {
    return this.queue.shift();
  }

  get queued(): number {
    return this.queue.length;
  }

  [Symbol.asyncIterator](): AsyncIterator<RpmsgMessage> {
    return { next: () => this.next() };
  }

  close(): void {
    if (this.closed) return;
    this.backend.destroy(this);
  }

  /** The bus delivers a message (ept->cb). */
  deliver(m: RpmsgMessage): void {
    for (const fn of [...this.listeners]) fn(m);
    const w = this.waiters.shift();
    if (w) w({ value: m, done: false });
    else if (this.queueing) {
      if (this.queue.length >= RPMSG_EPT_QUEUE_LIMIT) {
        this.queue.shift();
        this.dropped++;
      }
      this.queue.push(m);
    }
  }

  /** The bus destroyed the endpoint (close, channel removed, device gone). */
  markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
    for (const fn of this.closeListeners.splice(0)) fn();
  }

  private next(): Promise<IteratorResult<RpmsgMessage>> {
    const m = this.queue.shift();
    if (m) return Promise.resolve({ value: m, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private checkOpen(): void {
    if (this.closed) throw new RprocError("EPIPE", `endpoint 0x${this.addr.toString(16)} is destroyed`, { field: "endpoint", value: this.addr });
  }
}
