/**
 * `rproc sign ELF [ELF...] --key PRIVATE.pem -o OUT`: an OP-TEE remoteproc
 * signed image, byte-compatible with optee_os scripts/sign_rproc_fw.py.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { RprocError } from "../../errors.js";
import { parseSignedImage, tlvName } from "../../formats/signed-image.js";
import { loadSigningKey, type KeyType } from "../../tee/crypto.js";
import { parseEncryptionKey } from "../../tee/encryption.js";
import { parsePlatformTlvs, signFirmware } from "../../tee/sign.js";
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

function parseArgs(argv: string[]): SignArgs | string {
  const a: SignArgs = { inputs: [], platTlvs: [], json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = (): string | undefined => argv[++i];
    const need = (name: string): string => {
      const v = next();
      if (v === undefined) throw new Error(`${name} needs a value`);
      return v;
    };
    try {
      if (arg === "--json") a.json = true;
      else if (arg === "--key") a.key = need(arg);
      else if (arg === "--key-password") a.password = need(arg);
      else if (arg === "--key-type") {
        const t = need(arg);
        if (t !== "RSA" && t !== "ECC") return `--key-type must be RSA or ECC, not '${t}'`;
        a.keyType = t;
      } else if (arg === "--key-info") a.keyInfo = need(arg);
      else if (arg === "--plat-tlv") a.platTlvs.push({ id: need(arg), value: need(arg) });
      else if (arg === "--encrypt-key") a.encryptKey = need(arg);
      else if (arg === "-o" || arg === "--out") a.out = need(arg);
      else if (arg.startsWith("-")) return `unknown option '${arg}'`;
      else a.inputs.push(arg);
    } catch (e) {
      return (e as Error).message;
    }
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
    const out = signFirmware(
      args.inputs.map((p) => ({ name: p, bytes: readInput(io, p, "ELF") })),
      {
        key,
        keyInfo: args.keyInfo === undefined ? undefined : readInput(io, args.keyInfo, "key info"),
        platformTlvs: parsePlatformTlvs(args.platTlvs),
        encryptKey: args.encryptKey === undefined ? undefined : parseEncryptionKey(new TextDecoder().decode(readInput(io, args.encryptKey, "encryption key")), args.encryptKey),
      },
    );
    const outPath = resolve(io.cwd, args.out!);
    try {
      writeFileSync(outPath, out);
    } catch (e) {
      throw new RprocError("EIO", `cannot write ${args.out}: ${(e as Error).message}`, { field: "out", cause: e });
    }
    const img = parseSignedImage(out);
    const report = {
      output: args.out,
      size: out.length,
      sha256: createHash("sha256").update(out).digest("hex"),
      signType: key.type === "RSA" ? "RSA PKCS#1 v1.5 SHA-256" : "ECDSA P-256 SHA-256",
      header: { tlvLen: img.layout.header.tlvLen, signLen: img.layout.header.signLen, imgLen: img.layout.header.imgLen },
      images: img.images.map((im, i) => ({ input: args.inputs[i], type: im.type, offset: im.fileOffset, size: im.size })),
      tlvs: img.tlvs.map((t) => ({ type: t.type, name: tlvName(t.type), length: t.length })),
      encrypted: args.encryptKey !== undefined,
    };
    if (args.json) io.stdout(JSON.stringify(report, null, 2) + "\n");
    else {
      io.stdout(`${report.output}: ${report.size} bytes, ${report.signType}, ${report.images.length} image(s)${report.encrypted ? ", encrypted (AES-256-CTR)" : ""}\n`);
      io.stdout(`  sha256 ${report.sha256}\n`);
    }
    return EXIT_OK;
  } catch (e) {
    if (!(e instanceof RprocError)) throw e;
    if (args.json) io.stdout(JSON.stringify({ error: e.toJSON() }, null, 2) + "\n");
    else io.stderr(`rproc sign: ${e.message}\n`);
    return EXIT_FAILURE;
  }
}
