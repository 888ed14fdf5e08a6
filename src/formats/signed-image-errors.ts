/**
 * TEE result codes (GlobalPlatform TEE Internal Core API values, as OP-TEE
 * returns them) and the errno each becomes on our side. The remoteproc TA
 * reports failures as TEE_Result; Linux turns every one into -EIO, which
 * loses the reason, so we keep both: `code` is the errno that describes the
 * failure best, `teeError` the TA's own word.
 */
import { RprocError, type Errno, type TeeErrorName, type RprocErrorDetails } from "../errors.js";

export const TEE_SUCCESS = 0x00000000;

export const TEE_RESULT: Record<TeeErrorName, number> = {
  TEE_ERROR_GENERIC: 0xffff0000,
  TEE_ERROR_ACCESS_DENIED: 0xffff0001,
  TEE_ERROR_CANCEL: 0xffff0002,
  TEE_ERROR_BAD_FORMAT: 0xffff0005,
  TEE_ERROR_BAD_PARAMETERS: 0xffff0006,
  TEE_ERROR_BAD_STATE: 0xffff0007,
  TEE_ERROR_ITEM_NOT_FOUND: 0xffff0008,
  TEE_ERROR_NOT_IMPLEMENTED: 0xffff0009,
  TEE_ERROR_NOT_SUPPORTED: 0xffff000a,
  TEE_ERROR_NO_DATA: 0xffff000b,
  TEE_ERROR_OUT_OF_MEMORY: 0xffff000c,
  TEE_ERROR_BUSY: 0xffff000d,
  TEE_ERROR_SECURITY: 0xffff000f,
  TEE_ERROR_SHORT_BUFFER: 0xffff0010,
  TEE_ERROR_SIGNATURE_INVALID: 0xffff3072,
  TEE_ERROR_CORRUPT_OBJECT: 0xf0100001,
};

/** The errno that best names each TEE failure (Linux itself only ever says -EIO). */
const ERRNO_OF: Record<TeeErrorName, Errno> = {
  TEE_ERROR_GENERIC: "EIO",
  TEE_ERROR_ACCESS_DENIED: "EACCES",
  TEE_ERROR_CANCEL: "EINTR",
  TEE_ERROR_BAD_FORMAT: "ENOEXEC",
  TEE_ERROR_BAD_PARAMETERS: "EINVAL",
  TEE_ERROR_BAD_STATE: "EBUSY",
  TEE_ERROR_ITEM_NOT_FOUND: "ENOENT",
  TEE_ERROR_NOT_IMPLEMENTED: "ENOSYS",
  TEE_ERROR_NOT_SUPPORTED: "EOPNOTSUPP",
  TEE_ERROR_NO_DATA: "ENODATA",
  TEE_ERROR_OUT_OF_MEMORY: "ENOMEM",
  TEE_ERROR_BUSY: "EBUSY",
  TEE_ERROR_SECURITY: "EBADMSG",
  TEE_ERROR_SHORT_BUFFER: "EOVERFLOW",
  TEE_ERROR_SIGNATURE_INVALID: "EBADMSG",
  TEE_ERROR_CORRUPT_OBJECT: "EINVAL",
};

export function errnoOfTee(tee: TeeErrorName): Errno {
  return ERRNO_OF[tee];
}

export function teeErrorName(result: number): TeeErrorName | undefined {
  for (const [name, v] of Object.entries(TEE_RESULT)) if (v === result >>> 0) return name as TeeErrorName;
  return undefined;
}

/** An RprocError carrying a TEE result: the errno follows from the TEE error. */
export function teeError(tee: TeeErrorName, message: string, details: Omit<RprocErrorDetails, "teeError"> = {}): RprocError {
  return new RprocError(ERRNO_OF[tee], message, { ...details, teeError: tee });
}
