/**
 * `rproc sign ELF [ELF...] --key PRIVATE.pem -o OUT`: an OP-TEE remoteproc
 * signed image, byte-compatible with optee_os scripts/sign_rproc_fw.py.
 */
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { IMG_TYPE_ELF, SIGNED_HEADER_SIZE, TLV_IMGTYPE, listTlvs, r8, tlvName } from "../../formats/signed-image.js";
import { loadSigningKey, type KeyType } from "../../tee/crypto.js";
import { parseEncryptionKey } from "../../tee/encryption.js";
import { parsePlatformTlvs, signFirmwareParts } from "../../tee/sign.js";
import { signFirmwareFiles, writeChunksToFile } from "../../tee/sign-file.js";
import { defineCommand, UsageError } from "../command.js";
import { EXIT_OK } from "../io.js";
import { readInput } from "../read-input.js";

export const command = defineCommand({
  name: "sign",
  synopsis: "ELF [ELF...] --key PRIVATE.pem -o OUT [options]",
  description: "An OP-TEE remoteproc signed image, byte-compatible with optee_os scripts/sign_rproc_fw.py (docs/tee.md).",
  positionals: { min: 1, max: Infinity, missing: "no ELF input given", extra: "" },
  options: {
    key: { type: "string", value: "FILE", help: "PEM private key (RSA, or EC P-256)" },
    "key-password": { type: "string", value: "P", help: "passphrase of an encrypted PEM key" },
    "key-type": { type: "string", value: "RSA|ECC", help: "signature type (default: from the key)" },
    "key-info": { type: "string", value: "FILE", help: "add a PKEYINFO TLV with the file's bytes" },
    "plat-tlv": { type: "string", arity: 2, value: "ID VALUE", help: "add a platform TLV (ID 0x10000..0x1ffff; VALUE 0x... = u32, else a string); repeatable" },
    "encrypt-key": { type: "string", value: "FILE", help: "encrypt every PT_LOAD segment with this AES-256 key (64 hex digits); docs/encrypted-images.md" },
    out: { type: "string", short: "o", value: "FILE", help: "output file" },
  },
  exitStatus: "0 signed, 1 failed (nothing written), 2 usage",
  async run({ values: v, positionals: inputNames }, io) {
    const keyType = v["key-type"];
    if (keyType !== undefined && keyType !== "RSA" && keyType !== "ECC") throw new UsageError(`--key-type must be RSA or ECC, not '${keyType}'`);
    if (v.key === undefined) throw new UsageError("--key is required");
    if (v.out === undefined) throw new UsageError("-o OUT is required");
    const key = loadSigningKey(readInput(io, v.key, "key"), { password: v["key-password"], keyType: keyType as KeyType | undefined, source: v.key });
    const signOpts = {
      key,
      keyInfo: v["key-info"] === undefined ? undefined : readInput(io, v["key-info"], "key info"),
      platformTlvs: parsePlatformTlvs(v["plat-tlv"].map(([id, value]) => ({ id: id!, value: value! }))),
    };
    const outPath = resolve(io.cwd, v.out);
    const encryptKeyFile = v["encrypt-key"];
    let prefix: Uint8Array;
    let size: number;
    let inputSizes: number[];
    if (encryptKeyFile === undefined) {
      // Streamed file to file (src/tee/sign-file.ts): the inputs are never held in memory whole.
      const inputs = inputNames.map((p) => ({ name: p, path: resolve(io.cwd, p) }));
      ({ prefix, size, imageSizes: inputSizes } = signFirmwareFiles(inputs, outPath, signOpts));
    } else {
      // Encryption rewrites the segment bytes: in memory, written as the signer's chunks (no concatenation).
      const inputs = inputNames.map((p) => ({ name: p, bytes: readInput(io, p, "ELF") }));
      const encryptKey = parseEncryptionKey(new TextDecoder().decode(readInput(io, encryptKeyFile, "encryption key")), encryptKeyFile);
      const parts = signFirmwareParts(inputs, { ...signOpts, encryptKey });
      size = writeChunksToFile(outPath, parts);
      prefix = parts[0]!;
      inputSizes = inputs.map((i) => i.bytes.length);
    }
    const dv = new DataView(prefix.buffer, prefix.byteOffset, SIGNED_HEADER_SIZE);
    const header = { tlvLen: dv.getUint32(8, true), signLen: dv.getUint32(12, true), imgLen: dv.getUint32(16, true) };
    const signOffset = SIGNED_HEADER_SIZE + r8(header.tlvLen);
    const tlvs = listTlvs(prefix.subarray(SIGNED_HEADER_SIZE, signOffset), header.tlvLen);
    const imgTypes = tlvs.find((t) => t.type === TLV_IMGTYPE)?.value ?? new Uint8Array(0);
    let offset = signOffset + r8(header.signLen);
    const images = inputNames.map((name, i) => {
      const entry = { input: name, type: imgTypes[i] ?? IMG_TYPE_ELF, offset, size: r8(inputSizes[i]!) };
      offset += entry.size;
      return entry;
    });
    const report = {
      output: v.out,
      size,
      signedDigest: createHash("sha256").update(prefix.subarray(0, signOffset)).digest("hex"),
      signType: key.type === "RSA" ? "RSA PKCS#1 v1.5 SHA-256" : "ECDSA P-256 SHA-256",
      header,
      images,
      tlvs: tlvs.map((t) => ({ type: t.type, name: tlvName(t.type), length: t.length })),
      encrypted: encryptKeyFile !== undefined,
    };
    const text =
      `${report.output}: ${report.size} bytes, ${report.signType}, ${report.images.length} image(s)${report.encrypted ? ", encrypted (AES-256-CTR)" : ""}\n` +
      `  signed SHA-256 (header + TLVs) ${report.signedDigest}\n`;
    return { exit: EXIT_OK, json: report, stdout: text };
  },
});
