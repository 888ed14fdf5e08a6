/**
 * `rproc verify IMAGE --key PUBLIC.pem`: checks a signed image as the
 * remoteproc TA does before loading (signature, then every segment hash and
 * the resource table).
 */
import { isRprocError, hex } from "../../errors.js";
import { TEE_RESULT } from "../../formats/signed-image-errors.js";
import { parseEncryptionKey } from "../../tee/encryption.js";
import { verifySignedImage } from "../../tee/verify.js";
import { defineCommand, UsageError } from "../command.js";
import { EXIT_FAILURE, EXIT_OK } from "../io.js";
import { readInput } from "../read-input.js";

export const command = defineCommand({
  name: "verify",
  synopsis: "IMAGE --key PUBLIC.pem [--decrypt-key FILE] [--json]",
  positionals: { min: 1, max: 1, missing: "exactly one IMAGE is needed", extra: "exactly one IMAGE is needed" },
  options: {
    key: { type: "string", value: "FILE", help: "PEM public key (a private key works too)" },
    "decrypt-key": { type: "string", value: "FILE", help: "AES-256 key (64 hex digits) of an encrypted image: also checks its resource table" },
  },
  exitStatus: "0 valid, 1 invalid (reason and TEE error), 2 usage",
  async run({ values, positionals }, io) {
    if (values.key === undefined) throw new UsageError("--key is required");
    const image = positionals[0]!;
    const decryptKey = values["decrypt-key"];
    try {
      const bytes = readInput(io, image, "image");
      const pem = readInput(io, values.key, "key");
      const dk = decryptKey === undefined ? undefined : parseEncryptionKey(new TextDecoder().decode(readInput(io, decryptKey, "decryption key")), decryptKey);
      const r = verifySignedImage(bytes, pem, { decryptKey: dk });
      const report = {
        image,
        valid: r.valid,
        signatureValid: r.signatureValid,
        signType: r.signType ?? null,
        encrypted: r.encrypted,
        segments: r.segments.map((s) => ({ image: s.image, paddr: s.phdr.paddr, filesz: s.phdr.filesz, memsz: s.phdr.memsz, hashEntry: s.hashEntry, sha256: s.sha256 })),
        resourceTable: r.resourceTable ?? null,
        error: r.error === undefined ? null : { ...r.error.toJSON(), teeResult: r.error.teeError !== undefined ? hex(TEE_RESULT[r.error.teeError]) : undefined },
      };
      let text: string;
      if (r.valid) {
        text = `${image}: valid (signature verified, ${r.segments.length} segment(s) match their hashes${r.encrypted ? ", encrypted" : ""})\n`;
        if (r.resourceTable !== undefined && !r.resourceTable.headerChecked) text += `  resource table header not checked: encrypted, no --decrypt-key\n`;
      } else {
        const e = r.error!;
        text = `${image}: INVALID: ${e.message}${e.teeError !== undefined ? ` (${e.teeError} ${hex(TEE_RESULT[e.teeError])})` : ""}\n`;
      }
      return { exit: r.valid ? EXIT_OK : EXIT_FAILURE, json: report, stdout: text };
    } catch (e) {
      if (!isRprocError(e)) throw e;
      return { exit: EXIT_FAILURE, json: { image, valid: false, error: e.toJSON() }, stderr: values.json ? undefined : `rproc verify: ${e.message}\n` };
    }
  },
});
