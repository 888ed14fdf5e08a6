/** Registers every SoC table (one module per SoC, each names its reference manual). */
import "./soc-stm32mp157.js";
import "./soc-am64x.js";
import "./soc-imx8mp.js";
