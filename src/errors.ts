/**
 * The one error type thrown across module boundaries. `code` keeps the
 * kernel's errno meaning so sysfs-style callers can map it; `teeError` is set
 * when the failure comes from the TEE (OP-TEE's TEE_ERROR_* name).
 */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ENXIO: 6,
  EINTR: 4,
  EIO: 5,
  ENOEXEC: 8,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENOTTY: 25,
  EFBIG: 27,
  ENOSPC: 28,
  ELOOP: 40,
  EPIPE: 32,
  ERANGE: 34,
  ENOSYS: 38,
  ENODATA: 61,
  ETIME: 62,
  EOVERFLOW: 75,
  EBADMSG: 74,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  /** Kernel-internal; rpmsg's blocking send returns it after 15 s and it can reach user space as 512. */
  ERESTARTSYS: 512,
} as const;

export type Errno = keyof typeof ERRNO;

export type TeeErrorName =
  | "TEE_ERROR_GENERIC"
  | "TEE_ERROR_ACCESS_DENIED"
  | "TEE_ERROR_CANCEL"
  | "TEE_ERROR_BAD_FORMAT"
  | "TEE_ERROR_BAD_PARAMETERS"
  | "TEE_ERROR_BAD_STATE"
  | "TEE_ERROR_ITEM_NOT_FOUND"
  | "TEE_ERROR_NOT_IMPLEMENTED"
  | "TEE_ERROR_NOT_SUPPORTED"
  | "TEE_ERROR_NO_DATA"
  | "TEE_ERROR_OUT_OF_MEMORY"
  | "TEE_ERROR_BUSY"
  | "TEE_ERROR_SECURITY"
  | "TEE_ERROR_SHORT_BUFFER"
  | "TEE_ERROR_SIGNATURE_INVALID"
  | "TEE_ERROR_CORRUPT_OBJECT";

export interface RprocErrorDetails {
  /** The field of a binary structure the error is about, e.g. "program header 2: p_offset". */
  field?: string;
  /** The lifecycle step (event vocabulary) the error happened in, e.g. "parse_fw". */
  step?: string;
  teeError?: TeeErrorName;
  value?: number | bigint | string;
  limit?: number | bigint | string;
  cause?: unknown;
}

export class RprocError extends Error {
  override readonly name = "RprocError";
  readonly code: Errno;
  readonly field?: string;
  step?: string;
  readonly teeError?: TeeErrorName;
  readonly value?: number | bigint | string;
  readonly limit?: number | bigint | string;

  constructor(code: Errno, message: string, details: RprocErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.field = details.field;
    this.step = details.step;
    this.teeError = details.teeError;
    this.value = details.value;
    this.limit = details.limit;
  }

  /** Negative errno as the kernel returns it (e.g. -22 for EINVAL). */
  get errno(): number {
    return -ERRNO[this.code];
  }

  toJSON(): { code: Errno; errno: number; message: string; field?: string; step?: string; teeError?: TeeErrorName } {
    const out: { code: Errno; errno: number; message: string; field?: string; step?: string; teeError?: TeeErrorName } = {
      code: this.code,
      errno: this.errno,
      message: this.message,
    };
    if (this.field !== undefined) out.field = this.field;
    if (this.step !== undefined) out.step = this.step;
    if (this.teeError !== undefined) out.teeError = this.teeError;
    return out;
  }
}

export function isRprocError(e: unknown): e is RprocError {
  return e instanceof RprocError;
}

/** Hex as the kernel prints addresses and sizes: 0x%x. */
export function hex(v: number | bigint): string {
  return "0x" + v.toString(16);
}

/** Every value of a register set (or any number record) as hex, for reports and events. */
export function hexValues(values: Record<string, number | bigint>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, hex(v)]));
}
