/**
 * AM64x as an R5F core sees it (AM64x TRM 2.1 "Memory Map"): the twelve
 * main-domain DMTimers (0x02400000 + 0x10000 n), whose interrupts reach the
 * R5FSS0 cores' VIM at lines 152 + n (TRM 9.4 interrupt map, "TIMERn_INTR_PEND_0";
 * TI's SysConfig output for r5f0_0 names TIMER8 at 0x02480000 with line 160,
 * which the firmware's gClockConfig shows). The VIM is the core's own
 * (r5-model.ts); the mailbox is the platform's (peripherals.ts).
 */
import { RegBlock } from "./regfile.js";
import { registerSoc, type SocContext, type SocDevice } from "./soc.js";
import { TiDmTimer } from "./ti-dmtimer.js";
import { TiSecProxy } from "./ti-secproxy.js";

/** MAIN_SEC_PROXY0 control, real-time status and target data regions (AM64x TRM 2.1 memory map; the firmware's own Sciclient configuration names the same). */
export const AM64X_SECPROXY = { cfg: 0x48250000, rt: 0x4a600000, data: 0x4d000000 } as const;

export const AM64X_TIMER_LINE0 = 152;

function devices(ctx: SocContext): SocDevice[] {
  const timers: SocDevice[] = [];
  for (let n = 0; n < 12; n++) timers.push(new TiDmTimer(`timer${n}`, 0x02400000 + 0x10000 * n, AM64X_TIMER_LINE0 + n, ctx));
  return [
    ...timers,
    ...new TiSecProxy(AM64X_SECPROXY.cfg, AM64X_SECPROXY.rt, AM64X_SECPROXY.data).devices,
    // CTRL_MMR0 (clock muxes, lock kick registers): a table that reads back, TRM 5.1.3.
    new RegBlock({ name: "ctrl-mmr0", base: 0x43000000, size: 0x20000, reference: "AM64x TRM 5.1.3 CTRL_MMR0 registers" }),
  ];
}

registerSoc("am64x", {
  devices,
  // Main-domain peripherals (0x00000000-0x0fffffff minus TCMs), MCU domain (0x04000000…), the R5FSS core-local space (0x2fff0000: VIM).
  windows: [
    [0x00100000, 0x0ff00000],
    [0x20000000, 0x10000000],
    [0x40000000, 0x10000000],
  ],
});
