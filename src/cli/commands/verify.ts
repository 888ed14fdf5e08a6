/**
 * `rproc verify IMAGE --key PUBLIC.pem`: checks a signed image as the
 * remoteproc TA does before loading (signature, then every segment hash and
 * the resource table). Exit 0 valid, 1 invalid (reason and TEE error), 2 usage.
 */
import { RprocError, hex } from "../../errors.js";
import { TEE_RESULT } from "../../formats/signed-image-errors.js";
import { parseEncryptionKey } from "../../tee/encryption.js";
import { verifySignedImage } from "../../tee/verify.js";
import type { CliIO } from "../io.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../io.js";
import { readInput } from "./sign.js";

export const summary = "verify an OP-TEE remoteproc signed image against a public key";

const USAGE = `usage: rproc verify IMAGE --key PUBLIC.pem [--decrypt-key FILE] [--json]
  --key FILE          PEM public key (a private key works too)
  --decrypt-key FILE  AES-256 key (64 hex digits) of an encrypted image: also checks its resource table
  --json              machine-readable report
`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  let json = false;
  let key: string | undefined;
  let decryptKey: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--help" || a === "-h") {
      io.stdout(USAGE);
      return EXIT_OK;
    } else if (a === "--json") json = true;
    else if (a === "--key" || a === "--decrypt-key") {
      const v = argv[++i];
      if (v === undefined) {
        io.stderr(`rproc verify: ${a} needs a value\n${USAGE}`);
        return EXIT_USAGE;
      }
      if (a === "--key") key = v;
      else decryptKey = v;
    } else if (a.startsWith("-")) {
      io.stderr(`rproc verify: unknown option '${a}'\n${USAGE}`);
      return EXIT_USAGE;
    } else positional.push(a);
  }
  if (positional.length !== 1 || key === undefined) {
    io.stderr(`rproc verify: ${positional.length !== 1 ? "exactly one IMAGE is needed" : "--key is required"}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const image = positional[0]!;
  try {
    const bytes = readInput(io, image, "image");
    const pem = readInput(io, key, "key");
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
    if (json) io.stdout(JSON.stringify(report, null, 2) + "\n");
    else if (r.valid) {
      io.stdout(`${image}: valid (signature verified, ${r.segments.length} segment(s) match their hashes${r.encrypted ? ", encrypted" : ""})\n`);
      if (r.resourceTable !== undefined && !r.resourceTable.headerChecked) io.stdout(`  resource table header not checked: encrypted, no --decrypt-key\n`);
    } else {
      const e = r.error!;
      io.stdout(`${image}: INVALID: ${e.message}${e.teeError !== undefined ? ` (${e.teeError} ${hex(TEE_RESULT[e.teeError])})` : ""}\n`);
    }
    return r.valid ? EXIT_OK : EXIT_FAILURE;
  } catch (e) {
    if (!(e instanceof RprocError)) throw e;
    if (json) io.stdout(JSON.stringify({ image, valid: false, error: e.toJSON() }, null, 2) + "\n");
    else io.stderr(`rproc verify: ${e.message}\n`);
    return EXIT_FAILURE;
  }
}
