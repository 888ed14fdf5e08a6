/**
 * i.MX8M Plus as its Cortex-M7 sees it (IMX8MPRM 2.1 "Memory maps", the
 * Cortex-M7 view): CCM and GPT1 as register tables that read back what was
 * written (clock gates, dividers; the GPT counter does not run yet), the
 * AIPS peripheral windows as unmodelled peripherals. The MU is the
 * platform's mailbox model (peripherals.ts).
 */
import { RegBlock } from "./regfile.js";
import { registerSoc, type SocDevice } from "./soc.js";

function devices(): SocDevice[] {
  return [
    new RegBlock({ name: "ccm", base: 0x30380000, size: 0x10000, reference: "IMX8MPRM 5.1.7 CCM memory map" }),
    new RegBlock({ name: "gpt1", base: 0x302d0000, size: 0x1000, reference: "IMX8MPRM 12.1.5 GPT memory map (counter not modelled)" }),
  ];
}

registerSoc("imx8mp", {
  devices,
  // AIPS1-5 (0x30000000-0x30ffffff, 0x32c00000…, 0x30c00000…) as one window.
  windows: [[0x30000000, 0x03000000]],
});
