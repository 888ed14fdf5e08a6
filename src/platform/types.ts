/**
 * The platform JSON schema as TypeScript types (documented in
 * docs/platform-schema.md; validated by validate.ts). A platform is data: the
 * SoC's memory as the host sees it, its device-tree reserved-memory pools and
 * its remote processors.
 */
export type RegionKind = "sram" | "ddr" | "tcm" | "mmio" | "rom";
/** Which world may touch the region: the non-secure host, only the TEE, or both. */
export type Owner = "host" | "tee" | "shared";

export interface MemoryRegion {
  name: string;
  pa: number;
  size: number;
  kind: RegionKind;
  owner: Owner;
  /** Name of another region this one is a second bus address of (same RAM, e.g. STM32MP1 MCU SRAM at 0x10000000 and 0x30000000). */
  aliasOf?: string;
}

/** A device-tree reserved-memory node. `name` is the node name without its unit address, as the drivers register it. */
export interface ReservedPool {
  name: string;
  pa: number;
  size: number;
  noMap?: boolean;
}

export interface Translation {
  da: number;
  pa: number;
  size: number;
  name?: string;
}

export type CoreKind = "cortex-m4" | "cortex-m7" | "cortex-m33" | "cortex-r5" | "cortex-a53";

export interface ProcessorDesc {
  name: string;
  /** "sim" (default) | "emulated" | "tee" ... */
  driver: string;
  core?: CoreKind;
  /** Default firmware file name (the request_firmware name). */
  firmware: string;
  /** e_machine of the core (40 ARM, 183 AArch64); the core warns on mismatch. */
  elfMachine?: number;
  /** da <-> pa ranges (the STM32 dma-ranges / i.MX att table / TI local views). */
  translations: Translation[];
  /** Pool names in DT memory-region order. */
  memoryRegions: string[];
  /** STM32/i.MX/TI style: the driver registers each memory region as a named carveout (vrings found as vdev%dvring%d). */
  registerCarveouts: boolean;
  /** Pool for carveouts/vrings the driver did not pre-register (ADDR_ANY or fixed). */
  dmaPool?: string;
  /** devmem resources need an IOMMU. */
  hasIommu: boolean;
  /** Attach, not boot (state DETACHED at start). */
  initiallyRunning: boolean;
  /** What the driver registers for coredump. */
  coredumpSegments: "memory-regions" | "none";
  /** TEE: lock the firmware memory from the host between LOAD_FW and RELEASE_FW. */
  firewall?: boolean;
  /** publicKey is a path relative to the platform file. */
  /** OP-TEE remoteproc TA id; the trusted key (path relative to the platform file); whether the platform PTA also verifies ECDSA P-256 (upstream STM32MP1's does not). */
  tee?: { rprocId: number; publicKey?: string; acceptEcdsa?: boolean };
  mailbox?: { kind: "stm32-ipcc" | "ti-mailbox" | "imx-mu"; pa: number; size: number; channels?: string[] };
  watchdog?: { kind: string; timeoutMs: number; pa?: number; size?: number };
  peripherals?: { name: string; pa: number; size: number; da?: number }[];
  /** Emulated driver: an access to a peripheral nothing models is logged once per address and reads as 0 ("log", the default), or is an MMU fault ("fault"). */
  unmodelledMmio?: "log" | "fault";
}

export interface PlatformDesc {
  name: string;
  description: string;
  /** The public device-tree and driver files the numbers come from. */
  sources: string[];
  regions: MemoryRegion[];
  pools: ReservedPool[];
  processors: ProcessorDesc[];
}
