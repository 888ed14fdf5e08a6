/**
 * Sign, verify and TA-load a generated 32 MiB firmware; compare in the same
 * run with `openssl dgst -sha256` over the same bytes and, when the env var
 * SIGN_RPROC_FW names optee_os scripts/sign_rproc_fw.py, with the script.
 * With dist/ built (npm run build), also the `rproc sign` CLI as a fresh
 * process, the way a user (and the script, and openssl) runs.
 * Run: node --import tsx bench/sign.ts
 */
import { execFileSync } from "node:child_process";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Platform } from "../src/platform/platform.js";
import { loadSigningKey } from "../src/tee/crypto.js";
import { PlatformPta } from "../src/tee/platform-pta.js";
import { signFirmware, signFirmwareParts } from "../src/tee/sign.js";
import { signFirmwareFiles } from "../src/tee/sign-file.js";
import { RemoteprocTa, TA_RPROC_CMD_LOAD_FW, TEE_PARAM_TYPE_MEMREF_INPUT, TEE_PARAM_TYPE_VALUE_INPUT, teeParamTypes } from "../src/tee/ta.js";
import { verifySignedImage } from "../src/tee/verify.js";

const SIZE = 32 * 1024 * 1024;
const BASE = 0xc0000000;

/** A minimal ELF32 ARM: header, one program header, a name-table-only section table, one PT_LOAD of SIZE random bytes. */
function makeElf(): Uint8Array {
  const off = 0x1000;
  const elf = new Uint8Array(off + SIZE);
  const dv = new DataView(elf.buffer);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0);
  dv.setUint16(16, 2, true);
  dv.setUint16(18, 40, true);
  dv.setUint32(20, 1, true);
  dv.setUint32(24, BASE, true);
  dv.setUint32(28, 52, true);
  dv.setUint32(32, 0x100, true); // section table: null + .shstrtab (the TA needs one)
  dv.setUint16(48, 2, true);
  dv.setUint16(50, 1, true);
  [1, 3, 0, 0, 0x200, 11].forEach((v, i) => dv.setUint32(0x100 + 40 + 4 * i, v, true));
  elf.set(new TextEncoder().encode("\0.shstrtab\0"), 0x200);
  dv.setUint16(40, 52, true);
  dv.setUint16(42, 32, true);
  dv.setUint16(44, 1, true);
  dv.setUint16(46, 40, true);
  [1, off, BASE, BASE, SIZE, SIZE, 7, 0x1000].forEach((v, i) => dv.setUint32(52 + 4 * i, v, true));
  elf.set(randomBytes(SIZE), off);
  return elf;
}

function time<T>(fn: () => T, runs = 3): { ms: number; value: T } {
  let best = Infinity;
  let value!: T;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    value = fn();
    best = Math.min(best, performance.now() - t);
  }
  return { ms: best, value };
}

const dir = mkdtempSync(join(tmpdir(), "rproc-bench-"));
const elf = makeElf();
writeFileSync(join(dir, "fw.elf"), elf);
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
writeFileSync(join(dir, "key.pem"), pem);
const key = loadSigningKey(pem);

const sign = time(() => signFirmware([{ name: "fw.elf", bytes: elf }], { key }));
const signParts = time(() => signFirmwareParts([{ name: "fw.elf", bytes: elf }], { key }));
// File to file, streamed through one 1 MiB buffer (what `rproc sign` runs).
const signFile = time(() => signFirmwareFiles([{ name: "fw.elf", path: join(dir, "fw.elf") }], join(dir, "lib.bin"), { key }));
const openssl = time(() => execFileSync("openssl", ["dgst", "-sha256", join(dir, "fw.elf")]));
if (Buffer.compare(readFileSync(join(dir, "lib.bin")), Buffer.from(sign.value)) !== 0) throw new Error("file-to-file output differs from the in-memory one");
const verify = time(() => verifySignedImage(sign.value, { key: publicKey, type: "RSA" }));
if (!verify.value.valid) throw new Error(`bench image does not verify: ${verify.value.error?.message}`);

const platform = Platform.parse({
  name: "bench",
  description: "64 MiB DDR firmware carveout",
  sources: ["bench/sign.ts (synthetic)"],
  regions: [{ name: "ddr", pa: "0xc0000000", size: "0x4000000", kind: "ddr", owner: "shared" }],
  pools: [{ name: "fw", pa: "0xc0000000", size: "0x4000000" }],
  processors: [
    {
      name: "m",
      driver: "tee",
      firmware: "fw",
      translations: [{ da: "0xc0000000", pa: "0xc0000000", size: "0x4000000" }],
      memoryRegions: ["fw"],
      registerCarveouts: true,
      hasIommu: false,
      initiallyRunning: false,
      coredumpSegments: "none",
      tee: { rprocId: 0 },
    },
  ],
});
const pta = new PlatformPta(platform, [{ rprocId: 0, processor: platform.processor(), publicKey }]);
const PT = teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT, TEE_PARAM_TYPE_MEMREF_INPUT);
// LOAD_FW alone is timed; the RELEASE_FW that resets the TA between runs zero-fills the whole
// 64 MiB carveout and is not part of a load.
const load = { ms: Infinity };
for (let i = 0; i < 3; i++) {
  const ta = new RemoteprocTa(pta);
  const s = ta.openSession(teeParamTypes(TEE_PARAM_TYPE_VALUE_INPUT), [{ a: 0 }]);
  const t = performance.now();
  const r = ta.invoke(s, TA_RPROC_CMD_LOAD_FW, PT, [{ a: 0 }, { buffer: sign.value }]);
  load.ms = Math.min(load.ms, performance.now() - t);
  if (r.result !== 0) throw new Error(`TA load failed: ${r.error?.message}`);
  pta.release(0);
}
// SHA-256 + copy into memory that already exists (the TA copies into platform pages that are
// already there after the first run; a fresh 32 MiB allocation per run would flatter the TA).
const dest = new Uint8Array(SIZE);
const baseline = time(() => {
  dest.set(elf.subarray(0x1000));
  return createHash("sha256").update(dest).digest();
});

// The CLI path as a user runs it: a fresh process reading the ELF and key, signing, writing the file.
const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
let cliMs: number | undefined;
let nodeMs: number | undefined;
if (existsSync(cli)) {
  cliMs = time(() => execFileSync(process.execPath, [cli, "sign", join(dir, "fw.elf"), "--key", join(dir, "key.pem"), "-o", join(dir, "cli.bin")], { stdio: "pipe" })).ms;
  nodeMs = time(() => execFileSync(process.execPath, ["-e", "0"])).ms;
  if (Buffer.compare(readFileSync(join(dir, "cli.bin")), Buffer.from(sign.value)) !== 0) throw new Error("CLI output differs from the library's");
}
const rows: [string, number][] = [
  ["sign (rproc, one buffer)", sign.ms],
  ["sign (rproc, chunks, no copy)", signParts.ms],
  ["sign (rproc, file to file)", signFile.ms],
  ["openssl dgst -sha256", openssl.ms],
  ["verify (rproc)", verify.ms],
  ["TA LOAD_FW (rproc)", load.ms],
  ["SHA-256 + copy (baseline)", baseline.ms],
];
if (cliMs !== undefined) rows.push(["rproc sign CLI (new process)", cliMs], ["node -e 0 (process start)", nodeMs!]);
const script = process.env.SIGN_RPROC_FW;
let scriptMs: number | undefined;
if (script) {
  scriptMs = time(() => execFileSync(process.env.PYTHON ?? "/usr/bin/python3", [script, "--in", join(dir, "fw.elf"), "--out", join(dir, "py.bin"), "--key", join(dir, "key.pem")], { stdio: "pipe" }), 1).ms;
  rows.push(["sign_rproc_fw.py", scriptMs]);
  if (Buffer.compare(readFileSync(join(dir, "py.bin")), Buffer.from(sign.value)) !== 0) throw new Error("sign_rproc_fw.py output differs from rproc's");
}
for (const [n, ms] of rows) console.log(`${n.padEnd(32)} ${ms.toFixed(1).padStart(9)} ms`);
console.log(`sign (chunks) / openssl    ${(signParts.ms / openssl.ms).toFixed(2)}x (target <= 1.3); one buffer ${(sign.ms / openssl.ms).toFixed(2)}x; file to file ${(signFile.ms / openssl.ms).toFixed(2)}x`);
if (cliMs !== undefined) console.log(`sign CLI / openssl         ${(cliMs / openssl.ms).toFixed(2)}x (target <= 1.3; ${(((cliMs - nodeMs!) / openssl.ms)).toFixed(2)}x without node's start-up)`);
else console.log("rproc sign CLI: skipped (npm run build first)");
console.log(`TA load / (sha256 + copy)  ${(load.ms / baseline.ms).toFixed(2)}x (target <= 1.5)`);
if (scriptMs !== undefined) {
  console.log(`script / sign              ${(scriptMs / signParts.ms).toFixed(1)}x (target >= 10); one buffer ${(scriptMs / sign.ms).toFixed(1)}x`);
  if (cliMs !== undefined) console.log(`script / sign CLI          ${(scriptMs / cliMs).toFixed(1)}x (target >= 10), outputs byte-identical`);
} else console.log("sign_rproc_fw.py: skipped (set SIGN_RPROC_FW=/path/to/optee_os/scripts/sign_rproc_fw.py)");
