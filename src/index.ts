// Library entry point: `import { ... } from "rproc"`. Each layer adds its public API here.
export { RprocError, ERRNO, isRprocError, hex } from "./errors.js";
export type { Errno, TeeErrorName } from "./errors.js";
export type { Diagnostic, Severity } from "./diagnostics.js";
