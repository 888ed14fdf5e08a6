// Library entry point: `import { ... } from "rproc"`. Each layer adds its public API here.
export { RprocError, ERRNO, isRprocError, hex } from "./errors.js";
export type { Errno, TeeErrorName } from "./errors.js";
export type { Diagnostic, Severity } from "./diagnostics.js";
export { Platform } from "./platform/platform.js";
export { SparseMemory, PAGE_SIZE } from "./platform/sparse-memory.js";
export { PoolAllocator } from "./platform/allocator.js";
export { MemView } from "./platform/mem-view.js";
export { validatePlatform } from "./platform/validate.js";
export type { RegionKind, Owner, MemoryRegion, ReservedPool, Translation, CoreKind, ProcessorDesc, PlatformDesc } from "./platform/types.js";
export {
  parseElf,
  elfSanityCheck,
  segmentData,
  sectionData,
  findSection,
  findSymbol,
  asSafeNumber,
} from "./formats/elf.js";
export type { U64, ElfHeader, ProgramHeader, SectionHeader, ElfSymbol, ElfFile } from "./formats/elf.js";
export {
  parseResourceTable,
  encodeResourceTable,
  lintResourceTable,
  findResourceTable,
  FW_RSC_ADDR_ANY,
} from "./formats/resource-table.js";
export type {
  ResourceTable,
  RscEntry,
  CarveoutRsc,
  DevmemRsc,
  TraceRsc,
  VdevRsc,
  VringRsc,
  VendorRsc,
  UnknownRsc,
} from "./formats/resource-table.js";
export { inspect, isRejection } from "./inspect.js";
export type { InspectReport, InspectRejection, InspectResult } from "./inspect.js";
export { lintPlatform } from "./platform/lint.js";
