// Library entry point: `import { ... } from "rproc"`. Each layer adds its public API here.
export { RprocError, ERRNO, isRprocError, hex } from "./errors.js";
export type { Errno, TeeErrorName } from "./errors.js";
export type { Diagnostic, Severity } from "./diagnostics.js";
export { Platform } from "./platform/platform.js";
export { SparseMemory, PAGE_SIZE } from "./platform/sparse-memory.js";
export { PoolAllocator } from "./platform/allocator.js";
export { MemView } from "./platform/mem-view.js";
export { validatePlatform } from "./platform/validate.js";
export type { RegionKind, Owner, MemoryRegion, ReservedPool, Translation, CoreKind, ProcessorDesc, PlatformDesc, DriverModel } from "./platform/types.js";
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
// core lifecycle (src/core), ELF loader, simulated driver
export { RprocState, stateString, RprocCrashType, crashTypeString, RprocDumpMechanism } from "./core/state.js";
export { EventLog, recordEvents } from "./core/events.js";
export type { RprocEvent } from "./core/events.js";
export { requestFirmware } from "./core/firmware.js";
export type { Firmware } from "./core/firmware.js";
export { withDefaultOps, RSC_HANDLED, RSC_IGNORED } from "./core/ops.js";
export type { RprocOps, DriverOps, DriverFactory, DriverContext } from "./core/ops.js";
export { Rproc } from "./core/rproc.js";
export type { CarveoutEntry, TraceEntry, RprocVdev, RprocVring, RprocSubdev, DumpSegment, RprocOptions } from "./core/rproc.js";
export { rprocStart, rprocStop, rprocShutdown, rprocBoot, rprocDetach, rprocReleaseFw, rprocAttachInner, rprocDetachInner } from "./core/lifecycle.js";
export { rprocResourceCleanup, handleResources, allocRegisteredCarveouts } from "./core/resources.js";
export { rprocAddCarveout, rprocMemEntryInit, rprocFindCarveoutByName } from "./core/carveout.js";
export { dmaAllocator, dmaInUse } from "./core/dma.js";
export { createRproc, openRproc, loadDriver, registerDriver, registeredDrivers } from "./drivers/registry.js";
export type { CreateRprocOptions } from "./drivers/registry.js";
export { createPlatformGlue } from "./drivers/platform-glue.js";
export type { PlatformGlue, EarlyBootResult } from "./drivers/platform-glue.js";
export { resolveDriverModel, driverWindows } from "./platform/driver-model.js";
export { bootReport } from "./report/boot.js";
export type { BootReport, BootReportOptions } from "./report/boot.js";
export { elfLoaderOps, firmwareElf } from "./loaders/elf-loader.js";
export { createSimDriver } from "./drivers/sim/driver.js";
export type { SimDriverOps, SimDriverOptions, SimState } from "./drivers/sim/driver.js";
export { defaultBehaviour } from "./drivers/sim/behaviour.js";
export type { SimBehaviour, SimBehaviourContext } from "./drivers/sim/behaviour.js";
export { parseSignedImage, isSignedImage, readSignedLayout, findTlv, listTlvs } from "./formats/signed-image.js";
export type { SignedImage, SignedLayout, HashEntry, TlvRecord } from "./formats/signed-image.js";
export { signFirmware, signFirmwareParts, parsePlatformTlvs } from "./tee/sign.js";
export { signFirmwareFiles } from "./tee/sign-file.js";
export { verifySignedImage } from "./tee/verify.js";
export { loadSigningKey, loadVerifyKey } from "./tee/crypto.js";
export { RemoteprocTa } from "./tee/ta.js";
export { PlatformPta, ptaCarveouts } from "./tee/platform-pta.js";
export { createTeeDriver, createPlatformTa } from "./drivers/tee/driver.js";
// Emulated-core driver ("emulated" in drivers/registry.ts; Unicorn is loaded only when an emulated processor starts).
export { emulatedOps, lastCrash, lastCrashRegisters, emulatedMachine, unicornAvailable, SliceScheduler, defaultScheduler } from "./drivers/emulated/index.js";
export type { EmulatedDriverOptions, CoreFault, FaultKind } from "./drivers/emulated/index.js";
// Crash, recovery and coredump (crash engineer)
export { buildCoreHeader, buildSectionCoreHeader, buildCoreFile, readCoreStream } from "./formats/core-file.js";
export type { CoreLayout, CoreHeader, CoreSegment, CoreClass } from "./formats/core-file.js";
export { readCoreFile } from "./formats/core-file-reader.js";
export type { CoreFileSummary, CoreFileSegment } from "./formats/core-file-reader.js";
export { prstatusBytes, decodePrstatus } from "./formats/core-file-prstatus.js";
export type { CoreRegisters } from "./formats/core-file-prstatus.js";
export { inspectCoreFile } from "./formats/core-file-inspect.js";
export type { InspectCoreFile, InspectCoreNote, InspectPrstatus } from "./formats/core-file-inspect.js";
export { rprocReportCrash, rprocCrashFlush, rprocCrashStatus } from "./core/crash.js";
export { rprocTriggerRecovery, recoveryShow, recoveryStore, coredumpShow, coredumpStore, rprocSetFeature, rprocPanicNotify } from "./core/recovery.js";
export {
  rprocCoredump,
  rprocCoredumpUsingSections,
  rprocCoredumpAddSegment,
  rprocCoredumpAddCustomSegment,
  rprocCoredumpSetElfInfo,
  rprocCoredumpSetRegisters,
} from "./core/coredump.js";
export { InlineDumpReader, dumpBytes, writeDumpFile, setCoredumpSettings, coredumpSettings, DEVCD_TIMEOUT_MS } from "./core/coredump-store.js";
export type { RprocDump, CoredumpSettings } from "./core/coredump-store.js";
export { inspectSignedImage } from "./tee/inspect-signed.js";
export type { InspectSignedImage, InspectSignedTlv, InspectHashEntry, InspectSignedElfImage, InspectSignedSegment, InspectSignedOptions } from "./tee/inspect-signed.js";
export { attachRpmsg, RpmsgHost } from "./rpmsg/host.js";
export type { RpmsgChannel, RpmsgTraffic } from "./rpmsg/virtproc.js";
export { RpmsgEndpoint } from "./rpmsg/endpoint.js";
export type { RpmsgMessage } from "./rpmsg/endpoint.js";
export { rpmsgDriverFor } from "./rpmsg/drivers.js";
export { rpmsgSession } from "./rpmsg/session.js";
export type { RpmsgReport, RpmsgSessionOptions } from "./rpmsg/session.js";
export { rpmsgRemoteBehaviour, remoteServices } from "./rpmsg/remote/sim.js";
export { RpmsgRemoteModel } from "./rpmsg/remote/model.js";
export { RPMSG_ADDR_ANY, RPMSG_NS_ADDR, RPMSG_MTU } from "./rpmsg/wire.js";
export { registerVirtioDriver, RprocVirtioDevice } from "./core/virtio-device.js";
export type { VirtioDriver, VirtQueue } from "./core/virtio-device.js";
