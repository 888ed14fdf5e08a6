/**
 * `rproc sign ELF [ELF...] --key PRIVATE.pem -o OUT`: an OP-TEE remoteproc
 * signed image, byte-compatible with optee_os scripts/sign_rproc_fw.py.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { RprocError } from "../../errors.js";
import { IMG_TYPE_ELF, SIGNED_HEADER_SIZE, TLV_IMGTYPE, listTlvs, r8, tlvName } from "../../formats/signed-image.js";
import { loadSigningKey, type KeyType } from "../../tee/crypto.js";
import { parseEncryptionKey } from "../../tee/encryption.js";
import { parsePlatformTlvs, signFirmwareParts } from "../../tee/sign.js";
import { signFirmwareFiles, writeChunksToFile } from "../../tee/sign-file.js";
import type { CliIO } from "../io.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../io.js";

export const summary = "sign ELF images into an OP-TEE remoteproc signed image";

const USAGE = `usage: rproc sign ELF [ELF...] --key PRIVATE.pem -o OUT [options]
  --key FILE            PEM private key (RSA, or EC P-256)
  --key-password P      passphrase of an encrypted PEM key
  --key-type RSA|ECC    signature type (default: from the key)
  --key-info FILE       add a PKEYINFO TLV with the file's bytes
  --plat-tlv ID VALUE   add a platform TLV (ID 0x10000..0x1ffff; VALUE 0x... = u32, else a string); repeatable
  --encrypt-key FILE    encrypt every PT_LOAD segment with this AES-256 key (64 hex digits); see docs/encrypted-images.md
  -o, --out FILE        output file
  --json                machine-readable report
`;

export function readInput(io: CliIO, path: string, what: string): Uint8Array {
  try {
    return readFileSync(resolve(io.cwd, path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code === "ENOENT" ? "ENOENT" : "EIO";
    throw new RprocError(code, `cannot read ${what} ${path}: ${(e as Error).message}`, { field: what, cause: e });
  }
}

interface SignArgs {
  inputs: string[];
  key?: string;
  password?: string;
  keyType?: KeyType;
  keyInfo?: string;
  platTlvs: { id: string; value: string }[];
  encryptKey?: string;
  out?: string;
  json: boolean;
}

/** How many values each option takes. */
const VALUES: Record<string, number> = { "--key": 1, "--key-password": 1, "--key-type": 1, "--key-info": 1, "--plat-tlv": 2, "--encrypt-key": 1, "-o": 1, "--out": 1 };

function parseArgs(argv: string[]): SignArgs | string {
  const a: SignArgs = { inputs: [], platTlvs: [], json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--json") {
      a.json = true;
      continue;
    }
    if (!arg.startsWith("-")) {
      a.inputs.push(arg);
      continue;
    }
    const n = VALUES[arg];
    if (n === undefined) return `unknown option '${arg}'`;
    const v = argv.slice(i + 1, i + 1 + n);
    if (v.length < n) return `${arg} needs a value`;
    i += n;
    if (arg === "--key") a.key = v[0];
    else if (arg === "--key-password") a.password = v[0];
    else if (arg === "--key-type") {
      if (v[0] !== "RSA" && v[0] !== "ECC") return `--key-type must be RSA or ECC, not '${v[0]}'`;
      a.keyType = v[0];
    } else if (arg === "--key-info") a.keyInfo = v[0];
    else if (arg === "--plat-tlv") a.platTlvs.push({ id: v[0]!, value: v[1]! });
    else if (arg === "--encrypt-key") a.encryptKey = v[0];
    else a.out = v[0];
  }
  if (a.inputs.length === 0) return "no ELF input given";
  if (a.key === undefined) return "--key is required";
  if (a.out === undefined) return "-o OUT is required";
  return a;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  const args = parseArgs(argv);
  if (typeof args === "string") {
    io.stderr(`rproc sign: ${args}\n${USAGE}`);
    return EXIT_USAGE;
  }
  try {
    const key = loadSigningKey(readInput(io, args.key!, "key"), { password: args.password, keyType: args.keyType, source: args.key });
    const signOpts = {
      key,
      keyInfo: args.keyInfo === undefined ? undefined : readInput(io, args.keyInfo, "key info"),
      platformTlvs: parsePlatformTlvs(args.platTlvs),
    };
    const outPath = resolve(io.cwd, args.out!);
    let prefix: Uint8Array;
    let size: number;
    let inputSizes: number[];
    if (args.encryptKey === undefined) {
      // Streamed file to file (src/tee/sign-file.ts): the inputs are never held in memory whole.
      const inputs = args.inputs.map((p) => ({ name: p, path: resolve(io.cwd, p) }));
      ({ prefix, size, imageSizes: inputSizes } = signFirmwareFiles(inputs, outPath, signOpts));
    } else {
      // Encryption rewrites the segment bytes: in memory, written as the signer's chunks (no concatenation).
      const inputs = args.inputs.map((p) => ({ name: p, bytes: readInput(io, p, "ELF") }));
      const encryptKey = parseEncryptionKey(new TextDecoder().decode(readInput(io, args.encryptKey, "encryption key")), args.encryptKey);
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
    const images = args.inputs.map((name, i) => {
      const entry = { input: name, type: imgTypes[i] ?? IMG_TYPE_ELF, offset, size: r8(inputSizes[i]!) };
      offset += entry.size;
      return entry;
    });
    const report = {
      output: args.out,
      size,
      signedDigest: createHash("sha256").update(prefix.subarray(0, signOffset)).digest("hex"),
      signType: key.type === "RSA" ? "RSA PKCS#1 v1.5 SHA-256" : "ECDSA P-256 SHA-256",
      header,
      images,
      tlvs: tlvs.map((t) => ({ type: t.type, name: tlvName(t.type), length: t.length })),
      encrypted: args.encryptKey !== undefined,
    };
    if (args.json) io.stdout(JSON.stringify(report, null, 2) + "\n");
    else {
      io.stdout(`${report.output}: ${report.size} bytes, ${report.signType}, ${report.images.length} image(s)${report.encrypted ? ", encrypted (AES-256-CTR)" : ""}\n`);
      io.stdout(`  signed SHA-256 (header + TLVs) ${report.signedDigest}\n`);
    }
    return EXIT_OK;
  } catch (e) {
    if (!(e instanceof RprocError)) throw e;
    if (args.json) io.stdout(JSON.stringify({ error: e.toJSON() }, null, 2) + "\n");
    else io.stderr(`rproc sign: ${e.message}\n`);
    return EXIT_FAILURE;
  }
}
