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

/**
 * What the processor's Linux driver does that differs between drivers
 * (docs/platform-schema.md, "driverModel"). Everything here is a fact of one
 * kernel driver; a platform states it so the sim, emulated and TEE drivers
 * behave like that driver (src/drivers/platform-glue.ts implements it once).
 */
export interface DriverModel {
  /** The kernel driver modelled, for messages: "stm32_rproc", "ti_k3_r5", "imx_rproc", "zynqmp_r5", ... */
  kernelDriver: string;
  /** What the driver's own da_to_va maps (the core then tries the carveout list, as rproc_da_to_va does). */
  daToVa: {
    /** Translations whose memory the driver maps itself ("all", "none" or their names): K3 TCMs, i.MX ATT_OWN entries. */
    translations: "all" | "none" | string[];
    /** Memory-regions the driver maps: from index `from` (K3: 1, region 0 is the DMA pool), skipping names starting with a `skip` prefix (i.MX: "vdev"). */
    memoryRegions: { from: number; skip: string[] } | "none";
    /** imx_rproc_da_to_sys compares `da + len < end` (a range ending exactly at a window's end is refused). */
    strictEnd: boolean;
  };
  /** parse_fw when the firmware has no usable resource table: "refuse" (rproc_elf_load_rsc_table's EINVAL) or "warn" and boot (stm32/imx/zynqmp). */
  missingResourceTable: "refuse" | "warn";
  /** Memory-region whose mapping receives the loaded table (imx_rproc_elf_find_loaded_rsc_table: "rsc-table"); default: the section's address. */
  loadedTableRegion?: string;
  /** Memory-region name prefixes the driver neither registers as carveouts nor as dump segments (imx_rproc_prepare: "vdev0buffer", "rsc-table"). */
  carveoutSkip: string[];
  /** recovery_disabled as the driver's probe sets it (ti_k3_r5: disabled). */
  recovery: "enabled" | "disabled";
  /** Whether the driver sets the coredump ELF class (rproc_coredump_set_elf_info); imx_rproc never does. */
  setsElfInfo: boolean;
}

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
  /** The kernel driver's own rules; absent: derived from registerCarveouts (see resolveDriverModel). */
  driverModel?: DriverModel;
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
