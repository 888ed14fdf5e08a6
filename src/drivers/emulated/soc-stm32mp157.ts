/**
 * STM32MP157 as its Cortex-M4 sees it (RM0436, 2.5.2 "Memory map and
 * register boundary addresses"), in the state Linux leaves it in when it
 * starts the M4: oscillators and PLL3/PLL4 on and ready (TF-A and Linux set
 * the clock tree; the M4's firmware only reads it and gates its own
 * peripherals). The IPCC is the platform's mailbox model (peripherals.ts);
 * its RX/TX interrupt lines are 103/104 of the M4's NVIC (RM0436 table 117,
 * "IPCC_RX1/IPCC_TX1"), which the firmware's own interrupt table confirms.
 */
import { RegBlock, type RegSpec } from "./regfile.js";
import { registerSoc, type SocContext, type SocDevice } from "./soc.js";
import { Stm32Hsem, Stm32Usart } from "./stm32-devices.js";

export const STM32MP157_IRQ = { IPCC_RX1: 103, IPCC_TX1: 104, USART3: 39, UART7: 82 } as const;

/** MCU-side enable SET/CLR pairs (RCC_MC_*ENSETR at 0xA00-0xAFF, the CLR register 4 bytes above). */
function setClrPairs(from: number, to: number): RegSpec[] {
  const regs: RegSpec[] = [];
  for (let off = from; off < to; off += 8) regs.push({ off, setOf: off }, { off: off + 4, clrOf: off });
  return regs;
}

/** RCC (RM0436 10.7 "RCC registers"): ready flags follow their enables; dividers always report ready (…DIVRDY, bit 31). */
function rcc(): RegBlock {
  const divRdy = (off: number): RegSpec => ({ off, reset: 0x80000000 });
  return new RegBlock({
    name: "rcc",
    base: 0x50000000,
    size: 0x1000,
    reference: "RM0436 10.7 RCC registers",
    regs: [
      { off: 0x0c, reset: 0x00000101, setOf: 0x0c }, // OCENSETR: HSION, HSEON (set by TF-A)
      { off: 0x10, clrOf: 0x0c },
      { off: 0x140, reset: 0x00000005 }, // BDCR: LSEON, LSERDY
      { off: 0x144, reset: 0x00000003 }, // CSR: LSION, LSIRDY
      { off: 0x880, reset: 0x00000073 }, // PLL3CR: PLLON, PLL3RDY, DIVPEN/DIVQEN/DIVREN
      { off: 0x894, reset: 0x00000073 }, // PLL4CR
      divRdy(0x830), // MCUDIVR
      divRdy(0x834), // APB1DIVR
      divRdy(0x838), // APB2DIVR
      divRdy(0x83c), // APB3DIVR
      ...setClrPairs(0xa00, 0xb00),
      ...setClrPairs(0x200, 0x300),
    ],
    ready: [
      { enable: 0x0c, mask: 1 << 0, ready: 0x808, readyMask: 1 << 0 }, // HSION -> HSIRDY
      { enable: 0x0c, mask: 1 << 8, ready: 0x808, readyMask: 1 << 8 }, // HSEON -> HSERDY
      { enable: 0x0c, mask: 1 << 4, ready: 0x808, readyMask: 1 << 4 }, // CSION -> CSIRDY
      { enable: 0x880, mask: 1, ready: 0x880, readyMask: 2 }, // PLL3ON -> PLL3RDY
      { enable: 0x894, mask: 1, ready: 0x894, readyMask: 2 }, // PLL4ON -> PLL4RDY
    ],
  });
}

function plain(name: string, base: number, reference: string): RegBlock {
  return new RegBlock({ name, base, size: 0x400, reference });
}

function devices(ctx: SocContext): SocDevice[] {
  const gpios = "ABCDEFGHIJK".split("").map((b, i) => plain(`gpio${b.toLowerCase()}`, 0x50002000 + 0x1000 * i, "RM0436 13.4 GPIO registers"));
  return [
    rcc(),
    new Stm32Hsem(0x4c000000),
    plain("exti", 0x5000d000, "RM0436 24.6 EXTI registers"),
    plain("syscfg", 0x50020000, "RM0436 15.3 SYSCFG registers"),
    plain("pwr", 0x50001000, "RM0436 9.7 PWR registers"),
    new Stm32Usart("usart3", 0x4000f000, STM32MP157_IRQ.USART3, ctx),
    new Stm32Usart("uart7", 0x40018000, STM32MP157_IRQ.UART7, ctx),
    ...gpios,
  ];
}

registerSoc("stm32mp157", {
  devices,
  // APB1/APB2/AHB2 (MCU), APB3/AHB4 (RCC, PWR, GPIO, EXTI, SYSCFG), AHB3 (HSEM, IPCC), APB4/APB5 (RM0436 table 8).
  windows: [
    [0x40000000, 0x10000000],
    [0x50000000, 0x10000000],
  ],
});
