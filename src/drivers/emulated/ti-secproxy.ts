/**
 * The TI K3 secure proxy as TI's MCU+ SDK Sciclient uses it to talk to the
 * system firmware (TIFS/DM), with a stand-in for that firmware: every TISCI
 * request is acknowledged at once. Layout (AM64x TRM 10.2.2 "Secure Proxy";
 * Linux drivers/mailbox/ti-msgmgr.c, k3 secure proxy): per thread t, the
 * real-time status word at RT + 0x1000 t (CUR_CNT in bits 7:0, ERROR bit 31)
 * and the message data at TARGET_DATA + 0x1000 t, words 0x04-0x3C, the write
 * (or read) of 0x3C completing the message.
 *
 * The response is TISCI's generic one (include/linux/soc/ti/ti_sci_protocol.h,
 * struct ti_sci_msg_hdr: type u16, host u8, seq u8, flags u32 with
 * TI_SCI_FLAG_RESP_GENERIC_ACK = BIT(1)): the request's header with ACK and a
 * zero payload. So clock/power requests succeed, and queries answer 0 — what
 * is not modelled is every value the system firmware would report.
 *
 * Thread directions are learnt: a thread written to is a request thread
 * (always has a credit); a thread whose data is read is a response thread
 * (its count is the queue of responses).
 */
import type { SocDevice } from "./soc.js";

const MSG_WORDS = 15; // 0x04..0x3C
const ACK = 1 << 1;
const THREAD_STRIDE = 0x1000;

export class TiSecProxy {
  private readonly tx = new Map<number, Uint32Array>();
  private readonly rx = new Set<number>();
  private readonly responses: Uint32Array[] = [];
  private reading: Uint32Array | undefined;
  /** Requests answered (for tests and the report). */
  answered = 0;

  constructor(
    readonly cfgBase: number,
    readonly rtBase: number,
    readonly dataBase: number,
    readonly threads = 96,
  ) {}

  get devices(): SocDevice[] {
    const size = this.threads * THREAD_STRIDE;
    const reference = "AM64x TRM 10.2.2 Secure Proxy (TISCI requests acknowledged by a stand-in system firmware)";
    return [
      // The proxy's own registers: CONFIG (0x04) has the message size in bits 31:16 (64 bytes), which Sciclient_init reads.
      { name: "secproxy-cfg", da: this.cfgBase, size: 0x100, reference, read: (o) => (o === 4 ? (4 * (MSG_WORDS + 1)) << 16 : 0), write: () => undefined },
      { name: "secproxy-rt", da: this.rtBase, size, reference, read: (o) => this.status(o), write: () => undefined },
      { name: "secproxy-data", da: this.dataBase, size, reference, read: (o) => this.readData(o), write: (o, _s, v) => this.writeData(o, v) },
    ];
  }

  private status(off: number): number {
    if (off % THREAD_STRIDE !== 0) return 0;
    const t = off / THREAD_STRIDE;
    return this.rx.has(t) ? Math.min(this.responses.length, 0xff) : 1;
  }

  private writeData(off: number, value: number): void {
    const t = Math.floor(off / THREAD_STRIDE);
    const w = (off % THREAD_STRIDE) - 4;
    if (w < 0 || w >= 4 * MSG_WORDS || w % 4) return;
    let msg = this.tx.get(t);
    if (!msg) this.tx.set(t, (msg = new Uint32Array(MSG_WORDS)));
    msg[w / 4] = value >>> 0;
    if (w / 4 === MSG_WORDS - 1) {
      this.respond(msg);
      this.tx.set(t, new Uint32Array(MSG_WORDS));
    }
  }

  private respond(req: Uint32Array): void {
    const resp = new Uint32Array(MSG_WORDS);
    resp[0] = req[0]; // type, host, seq
    resp[1] = ACK;
    this.responses.push(resp);
    this.answered++;
  }

  private readData(off: number): number {
    const t = Math.floor(off / THREAD_STRIDE);
    const w = (off % THREAD_STRIDE) - 4;
    if (w < 0 || w >= 4 * MSG_WORDS || w % 4) return 0;
    this.rx.add(t);
    this.reading ??= this.responses.shift();
    const v = this.reading?.[w / 4] ?? 0;
    if (w / 4 === MSG_WORDS - 1) this.reading = undefined;
    return v;
  }
}
