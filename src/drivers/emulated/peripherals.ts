/**
 * The MMIO a remoteproc firmware touches, modelled just far enough for the
 * host/firmware handshake (docs/emulated-driver.md has the register maps):
 *
 * - mailboxes: a firmware write that sends a message calls `onFirmwareKick`
 *   (the driver turns it into rproc.vqInterrupt), and the host's kick sets
 *   the status the firmware polls. No interrupt controller is modelled: the
 *   fixture and typical bare-metal loops poll.
 * - a key-register watchdog whose timeout is counted in executed
 *   instructions, so a test that starves it crashes at the same point every run.
 *
 * Register offsets are relative to the device base; accesses are 32-bit.
 */
export interface MmioDevice {
  readonly name: string;
  /** Device address (the remote core's view) of the first register. */
  readonly da: number;
  readonly size: number;
  read(offset: number, size: number): number;
  write(offset: number, size: number, value: number): void;
}

export interface Mailbox extends MmioDevice {
  /** ops.kick(vqid): the host signals the firmware. */
  hostKick(vqid: number): void;
}

/** What a firmware-side send means for the host: a vring notify id (or a named channel such as "shutdown"). */
export type FirmwareKick = (vqid: number | undefined, channel: string) => void;

export type MailboxKind = "stm32-ipcc" | "ti-mailbox" | "imx-mu";

/** Interrupt lines of the STM32MP1 IPCC at the M4's NVIC (RM0436 table 117: IPCC_RX1, IPCC_TX1). */
export const IPCC_M4_IRQ = { rx: 103, tx: 104 } as const;

export function createMailbox(
  kind: MailboxKind,
  da: number,
  size: number,
  channels: string[] | undefined,
  onFirmwareKick: FirmwareKick,
  raise: (line: number) => void = () => undefined,
): Mailbox {
  switch (kind) {
    case "stm32-ipcc":
      return new Stm32Ipcc(da, size, channels ?? ["vq0", "vq1", "shutdown", "detach"], onFirmwareKick, raise);
    case "ti-mailbox":
      return new TiMailbox(da, size, fifoOf(channels, "rx", 0), fifoOf(channels, "tx", 1), onFirmwareKick);
    case "imx-mu":
      return new ImxMu(da, size, onFirmwareKick);
  }
}

/** TI channel names "rx-fifo2" / "tx-fifo3" (the platform's ti,mbox-rx/tx, seen from the remote core) → FIFO index. */
function fifoOf(channels: string[] | undefined, dir: "rx" | "tx", fallback: number): number {
  for (const c of channels ?? []) {
    const m = new RegExp(`^${dir}-fifo(\\d+)$`).exec(c);
    if (m && Number(m[1]) < 16) return Number(m[1]);
  }
  return fallback;
}

/** "vq1" → 1; other channel names carry no vring. */
function vqOfChannel(name: string | undefined): number | undefined {
  const m = /^vq(\d+)$/.exec(name ?? "");
  return m ? Number(m[1]) : undefined;
}

/**
 * STM32MP1 IPCC, processor 2 (the M4) side. C1TOC2SR (0x0c) shows the
 * channels the host (processor 1) has occupied; the firmware frees one by
 * writing bit n of C2SCR (0x18) and sends on channel n by writing bit 16+n,
 * which the Linux stm32-ipcc driver handles at once (rx interrupt, then
 * clears the channel), so C2TOC1SR (0x1c) reads back as 0 after a send.
 * Channel i is named by the platform ("vq0", "vq1", "shutdown", "detach").
 */
export class Stm32Ipcc implements Mailbox {
  readonly name = "stm32-ipcc";
  private c1toc2 = 0;
  private c2toc1 = 0;
  private readonly ctrl = new Map<number, number>();

  constructor(
    readonly da: number,
    readonly size: number,
    private readonly channels: string[],
    private readonly onFirmwareKick: FirmwareKick,
    private readonly raise: (line: number) => void = () => undefined,
  ) {}

  /** C2CR.RXOIE (bit 0) and a channel the host occupied that C2MR does not mask (CHnOM): the RX line (RM0436 11.4). */
  private updateRx(): void {
    const cr = this.ctrl.get(0x10) ?? 0;
    const mr = this.ctrl.get(0x14) ?? 0x003f003f;
    if (cr & 1 && this.c1toc2 & ~mr & 0x3f) this.raise(IPCC_M4_IRQ.rx);
  }

  /** C2CR.TXFIE (bit 16) and a free channel that C2MR does not mask (CHnFM): the TX-free line. */
  private updateTx(): void {
    const cr = this.ctrl.get(0x10) ?? 0;
    const mr = this.ctrl.get(0x14) ?? 0x003f003f;
    if (cr & (1 << 16) && ~this.c2toc1 & ~(mr >>> 16) & 0x3f) this.raise(IPCC_M4_IRQ.tx);
  }

  read(offset: number): number {
    switch (offset) {
      case 0x0c:
        return this.c1toc2;
      case 0x1c:
        return this.c2toc1;
      case 0x04:
      case 0x14:
        return this.ctrl.get(offset) ?? 0x003f003f; // CnMR reset: every channel masked
      default:
        return this.ctrl.get(offset) ?? 0;
    }
  }

  write(offset: number, _size: number, value: number): void {
    if (offset !== 0x18) {
      // C1CR/C1MR/C2CR (0x10)/C2MR (0x14): enables and masks read back and gate the interrupt lines.
      this.ctrl.set(offset, value >>> 0);
      this.updateRx();
      this.updateTx();
      return;
    }
    this.c1toc2 &= ~(value & 0x3f);
    for (let ch = 0; ch < 6; ch++) {
      if (!(value & (1 << (16 + ch)))) continue;
      this.c2toc1 |= 1 << ch;
      const name = this.channels[ch] ?? `ch${ch}`;
      this.onFirmwareKick(vqOfChannel(name), name);
      this.c2toc1 &= ~(1 << ch);
    }
  }

  /** stm32_rproc_kick: the mailbox whose channel is named vq<vqid> gets a message. */
  hostKick(vqid: number): void {
    const ch = this.channels.indexOf(`vq${vqid}`);
    if (ch >= 0) this.c1toc2 |= 1 << ch;
    this.updateRx();
  }
}

/**
 * TI OMAP/K3 mailbox cluster: MESSAGE(m) at 0x40+4m (read pops, write
 * pushes), FIFOSTATUS(m) at 0x80+4m (1 when full), MSGSTATUS(m) at 0xc0+4m
 * (messages queued). FIFOs are 4 deep, as on the hardware. Which queue goes
 * which way is board configuration: the platform's channel names "rx-fifoN"
 * (host → firmware) and "tx-fifoN" (firmware → host, messages are vring
 * ids); without them queues 0 and 1.
 */
export class TiMailbox implements Mailbox {
  readonly name = "ti-mailbox";
  static readonly FIFO_DEPTH = 4;
  private readonly fifos: number[][] = Array.from({ length: 16 }, () => []);
  /** Host kicks that found the firmware's FIFO full (the OMAP driver returns -EBUSY and retries; we count). */
  dropped = 0;

  constructor(
    readonly da: number,
    readonly size: number,
    private readonly rxFifo: number,
    private readonly txFifo: number,
    private readonly onFirmwareKick: FirmwareKick,
  ) {}

  read(offset: number): number {
    const m = (offset & 0x3f) >> 2;
    if (offset >= 0x40 && offset < 0x80) return this.fifos[m].shift() ?? 0;
    if (offset >= 0x80 && offset < 0xc0) return this.fifos[m].length >= TiMailbox.FIFO_DEPTH ? 1 : 0;
    if (offset >= 0xc0 && offset < 0x100) return this.fifos[m].length;
    return 0;
  }

  write(offset: number, _size: number, value: number): void {
    if (offset < 0x40 || offset >= 0x80) return;
    const m = (offset - 0x40) >> 2;
    if (m === this.txFifo) {
      this.onFirmwareKick(value >>> 0, `tx-fifo${m}`);
      return;
    }
    if (this.fifos[m].length < TiMailbox.FIFO_DEPTH) this.fifos[m].push(value >>> 0);
  }

  hostKick(vqid: number): void {
    const fifo = this.fifos[this.rxFifo];
    if (fifo.length >= TiMailbox.FIFO_DEPTH) this.dropped++;
    else fifo.push(vqid >>> 0);
  }
}

/**
 * i.MX Messaging Unit, B side (the remote core): TR0-3 at 0x00-0x0c send,
 * RR0-3 at 0x10-0x1c receive, SR at 0x20 (RFn = bit 27-n, TEn = bit 23-n,
 * transmit always empty here), CR at 0x24. imx_rproc kicks with vqid << 16
 * on TR1 of the A side, i.e. RR1 here; a firmware send on TR1 makes
 * imx_rproc interrupt every vring (imx_rproc_notified_idr_cb), signalled
 * here as a kick without a vring id.
 */
export class ImxMu implements Mailbox {
  readonly name = "imx-mu";
  private readonly rr = [0, 0, 0, 0];
  private rf = 0;
  private cr = 0;

  constructor(
    readonly da: number,
    readonly size: number,
    private readonly onFirmwareKick: FirmwareKick,
  ) {}

  read(offset: number): number {
    if (offset >= 0x10 && offset < 0x20) {
      const n = (offset - 0x10) >> 2;
      this.rf &= ~(1 << n);
      return this.rr[n];
    }
    if (offset === 0x20) {
      let sr = 0xf << 20; // TE0-3: transmit registers always empty
      for (let n = 0; n < 4; n++) if (this.rf & (1 << n)) sr |= 1 << (27 - n);
      return sr >>> 0;
    }
    if (offset === 0x24) return this.cr;
    return 0;
  }

  write(offset: number, _size: number, value: number): void {
    if (offset < 0x10) this.onFirmwareKick(undefined, `tr${offset >> 2}`);
    else if (offset === 0x24) this.cr = value >>> 0;
  }

  hostKick(vqid: number): void {
    this.rr[1] = (vqid << 16) >>> 0;
    this.rf |= 1 << 1;
  }
}

/**
 * A key-register watchdog (the STM32 IWDG keys, used for every platform):
 * 0xCCCC written to the key register (offset 0) starts it, 0xAAAA refreshes
 * it. Time is the executed-instruction count, so a test is deterministic.
 *
 * Firmware feeds a watchdog in its main loop, so a JS callback per write
 * would cost more than the loop itself. The key register is therefore plain
 * memory mapped into the core (`page`), and the driver calls `endSlice` after
 * each slice: a key found there counts as written at the slice's end, and the
 * register is cleared. One consequence, documented: within one slice a start
 * followed by refreshes leaves only the refresh key, so either key arms the
 * watchdog. It expires when more than `timeoutInsns` instructions have run
 * since the last slice that refreshed it (seen at a slice boundary).
 */
export class Watchdog {
  readonly name = "watchdog";
  static readonly KEY_START = 0xcccc;
  static readonly KEY_REFRESH = 0xaaaa;
  /** The 4 KiB page holding the registers, mapped zero-copy at `pageDa`. */
  readonly page = new Uint8Array(4096);
  readonly pageDa: number;
  private readonly keyOffset: number;
  private started = false;
  private lastRefresh = 0;

  constructor(
    readonly da: number,
    readonly size: number,
    readonly timeoutInsns: number,
  ) {
    this.keyOffset = da % 4096;
    this.pageDa = da - this.keyOffset;
  }

  get running(): boolean {
    return this.started;
  }

  /** Advances time to `instructions`; true when the watchdog has expired. */
  endSlice(instructions: number): boolean {
    const v = new DataView(this.page.buffer);
    const key = v.getUint32(this.keyOffset, true);
    if (key === Watchdog.KEY_START || key === Watchdog.KEY_REFRESH) {
      this.started = true;
      this.lastRefresh = instructions;
    }
    v.setUint32(this.keyOffset, 0, true);
    return this.started && instructions - this.lastRefresh > this.timeoutInsns;
  }
}
