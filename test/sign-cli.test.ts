import { test } from "node:test";
import * as assert from "node:assert/strict";
import { createPrivateKey } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { main } from "../src/cli/main.js";
import { VECTORS } from "./tee/helpers.js";

const REPO = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");

function io(cwd = VECTORS) {
  const out = { stdout: "", stderr: "" };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t), isTTY: false, cwd, env: {} } };
}
async function run(args: string[], cwd = VECTORS): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = io(cwd);
  const code = await main(args, r.io);
  return { code, ...r.out };
}
const vec = (n: string) => readFileSync(resolve(VECTORS, n));
const noStack = (s: string) => assert.doesNotMatch(s, /at .*\.(ts|js):\d+/);

test("rproc sign reproduces the vector; rproc verify exits 0 valid, 1 invalid, 2 usage", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-sign-"));
  const a = await run(["sign", "fw_demo_m4.elf", "--key", "keys/rsa2048_priv.pem", "-o", join(dir, "o.bin"), "--json"]);
  assert.equal(a.code, 0);
  const rep = JSON.parse(a.stdout);
  assert.equal(rep.size, 9852);
  assert.deepEqual(rep.header, { tlvLen: 216, signLen: 256, imgLen: 9360 });
  assert.deepEqual(rep.images, [{ input: "fw_demo_m4.elf", type: 1, offset: 492, size: 9360 }]);
  assert.deepEqual(
    rep.tlvs.map((t: { name: string }) => t.name),
    ["SIGNTYPE", "NUM_IMG", "IMGTYPE", "IMGSIZE", "HASHTYPE", "HASHTABLE"],
  );
  assert.deepEqual(readFileSync(join(dir, "o.bin")), vec("fw_demo_m4.rsa2048.bin"));
  assert.equal((await run(["verify", join(dir, "o.bin"), "--key", "keys/rsa2048_pub.pem"])).code, 0);
  const c = await run(["verify", join(dir, "o.bin"), "--key", "keys/ecp256_pub.pem", "--json"]);
  assert.equal(c.code, 1);
  assert.equal(JSON.parse(c.stdout).error.teeError, "TEE_ERROR_SIGNATURE_INVALID");
  assert.equal((await run(["verify", join(dir, "o.bin")])).code, 2);
  const d = await run(["sign", "fw_demo_m4.elf", "--key", "keys/rsa2048_pub.pem", "-o", join(dir, "x.bin")]);
  assert.equal(d.code, 1);
  assert.match(d.stderr, /cannot be used for signing/);
  noStack(d.stderr);
});

test("rproc sign: every RSA vector byte for byte through the CLI options (multi-image, key info, platform TLVs, passphrase)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-sign-"));
  const multi = await run(["sign", "fw_demo_m4.elf", "fw_aux_a.elf", "--key", "keys/rsa2048_priv.pem", "-o", join(dir, "multi.bin")]);
  assert.equal(multi.code, 0, multi.stderr);
  assert.deepEqual(readFileSync(join(dir, "multi.bin")), vec("fw_demo_m4+aux_a.rsa2048.multi.bin"));
  const tlvs = await run([
    "sign", "fw_demo_m4.elf", "--key", "keys/rsa2048_priv.pem", "--key-info", "keyinfo_public.bin",
    "--plat-tlv", "0x10001", "0x00000041", "--plat-tlv", "0x10002", "m4-public", "-o", join(dir, "tlvs.bin"),
  ]);
  assert.equal(tlvs.code, 0, tlvs.stderr);
  assert.deepEqual(readFileSync(join(dir, "tlvs.bin")), vec("fw_demo_m4.rsa2048.tlvs.bin"));
  // The same key, passphrase-protected (PKCS#8, AES-256-CBC): identical output, as with the script's --key_pwd.
  const enc = createPrivateKey(vec("keys/rsa2048_priv.pem")).export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "s3cret" });
  writeFileSync(join(dir, "enc.pem"), enc);
  const pw = await run(["sign", "fw_demo_m4.elf", "--key", join(dir, "enc.pem"), "--key-password", "s3cret", "-o", join(dir, "pw.bin")]);
  assert.equal(pw.code, 0, pw.stderr);
  assert.deepEqual(readFileSync(join(dir, "pw.bin")), vec("fw_demo_m4.rsa2048.bin"));
  const wrongPw = await run(["sign", "fw_demo_m4.elf", "--key", join(dir, "enc.pem"), "--key-password", "nope", "-o", join(dir, "no.bin"), "--json"]);
  assert.equal(wrongPw.code, 1);
  assert.equal(JSON.parse(wrongPw.stdout).error.field, "key");
});

test("rproc sign ECDSA: identical to the vector except the 64 signature bytes, and verifies", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-sign-"));
  const r = await run(["sign", "fw_demo_m4.elf", "--key", "keys/ecp256_priv.pem", "--key-type", "ECC", "-o", join(dir, "ec.bin"), "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const got = readFileSync(join(dir, "ec.bin"));
  const want = vec("fw_demo_m4.ecp256.bin");
  assert.equal(got.length, want.length);
  assert.deepEqual(got.subarray(0, 236), want.subarray(0, 236));
  assert.deepEqual(got.subarray(300), want.subarray(300));
  const v = await run(["verify", join(dir, "ec.bin"), "--key", "keys/ecp256_pub.pem", "--json"]);
  assert.equal(v.code, 0);
  assert.equal(JSON.parse(v.stdout).signType, 2);
});

test("rproc sign: usage errors exit 2, failures exit 1 (a --json error object), never a stack", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-sign-"));
  for (const args of [
    ["sign", "fw_demo_m4.elf", "--key", "keys/rsa2048_priv.pem"],
    ["sign", "--key", "keys/rsa2048_priv.pem", "-o", "x"],
    ["sign", "fw_demo_m4.elf", "-o", "x"],
    ["sign", "fw_demo_m4.elf", "--key", "keys/rsa2048_priv.pem", "-o", "x", "--key-type", "rsa"],
    ["sign", "fw_demo_m4.elf", "--key", "keys/rsa2048_priv.pem", "-o", "x", "--bogus"],
    ["sign", "fw_demo_m4.elf", "--key", "keys/rsa2048_priv.pem", "-o", "x", "--plat-tlv", "0x10001"],
  ]) {
    const r = await run(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, /usage: rproc sign/);
  }
  for (const [args, field] of [
    [["sign", "nope.elf", "--key", "keys/rsa2048_priv.pem", "-o", join(dir, "a")], "ELF"],
    [["sign", "fw_demo_m4.elf", "--key", "keys/rsa2048_priv.pem", "-o", join(dir, "a"), "--plat-tlv", "0x20000", "1"], "plat-tlv"],
    [["sign", "fw_demo_m4.elf", "--key", "keys/rsa2048_priv.pem", "-o", join(dir, "a"), "--key-type", "ECC"], "key-type"],
    [["sign", "fw_demo_m4.elf", "--key", "keys/rsa2048_priv.pem", "-o", join(dir, "no/such/dir/a")], "out"],
  ] as [string[], string][]) {
    const r = await run([...args, "--json"]);
    assert.equal(r.code, 1, args.join(" "));
    assert.equal(JSON.parse(r.stdout).error.field, field, args.join(" "));
    const h = await run(args);
    assert.equal(h.code, 1);
    assert.match(h.stderr, /^rproc sign: /);
    noStack(h.stderr);
  }
});

test("encryption through the CLI: sign --encrypt-key, verify with and without --decrypt-key, inspect, boot --tee-enc-key", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-enc-"));
  writeFileSync(join(dir, "aes.key"), "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
  writeFileSync(join(dir, "other.key"), "ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
  const priv = join(REPO, "platforms/keys/rproc-test-rsa2048.pem");
  const pub = join(REPO, "platforms/keys/rproc-test-rsa2048.pub.pem");
  const s = await run(["sign", "fw_demo_m4.elf", "--key", priv, "--encrypt-key", join(dir, "aes.key"), "-o", join(dir, "enc.sig"), "--json"]);
  assert.equal(s.code, 0, s.stderr);
  const rep = JSON.parse(s.stdout);
  assert.equal(rep.encrypted, true);
  assert.equal(rep.images[0].type, 2);
  assert.deepEqual(rep.tlvs.slice(-2).map((t: { name: string }) => t.name), ["ENC_ALGO", "ENC_IVS"]);
  // The PT_LOAD bytes are ciphertext: the firmware's text is not in the file.
  const file = readFileSync(join(dir, "enc.sig"));
  const elf = vec("fw_demo_m4.elf");
  assert.equal(file.indexOf(elf.subarray(0x1000, 0x1000 + 64)), -1);
  // A plain sign of the same key and input stays the script's format (IMGTYPE 1, no ENC TLVs).
  const plain = await run(["sign", "fw_demo_m4.elf", "--key", priv, "-o", join(dir, "plain.sig"), "--json"]);
  assert.equal(JSON.parse(plain.stdout).tlvs.length, 6);

  const noKey = await run(["verify", join(dir, "enc.sig"), "--key", pub, "--json"]);
  assert.equal(noKey.code, 0);
  assert.deepEqual([JSON.parse(noKey.stdout).encrypted, JSON.parse(noKey.stdout).resourceTable.headerChecked], [true, false]);
  const withKey = await run(["verify", join(dir, "enc.sig"), "--key", pub, "--decrypt-key", join(dir, "aes.key"), "--json"]);
  assert.equal(withKey.code, 0);
  assert.equal(JSON.parse(withKey.stdout).resourceTable.headerChecked, true);
  const wrong = await run(["verify", join(dir, "enc.sig"), "--key", pub, "--decrypt-key", join(dir, "other.key"), "--json"]);
  assert.equal(wrong.code, 1);
  assert.equal(JSON.parse(wrong.stdout).error.teeError, "TEE_ERROR_BAD_FORMAT");

  const ins = await run(["inspect", join(dir, "enc.sig"), "--json"]);
  assert.equal(ins.code, 0);
  assert.equal(JSON.parse(ins.stdout).signedImage.images[0].encrypted, true);

  // Boot: without the platform's decryption key the TA refuses the image type; with it, it runs.
  const refused = await run(["boot", join(dir, "enc.sig"), "--platform", "stm32mp157", "--json"], REPO);
  assert.equal(refused.code, 1);
  assert.equal(JSON.parse(refused.stdout).error.teeError, "TEE_ERROR_BAD_FORMAT");
  const booted = await run(["boot", join(dir, "enc.sig"), "--platform", "stm32mp157", "--tee-enc-key", join(dir, "aes.key"), "--json"], REPO);
  assert.equal(booted.code, 0, booted.stdout + booted.stderr);
  const b = JSON.parse(booted.stdout);
  assert.equal(b.traces[0].name, "trace0", "the decrypted resource table gave the trace buffer");
});

test("rproc boot of a signed image: --json events and --trace show LOAD, GET_RSC_TABLE, LOAD, GET_RSC_TABLE, START, then STOP, RELEASE", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-tee-boot-"));
  assert.equal((await run(["sign", "fw_demo_m4.elf", "--key", join(REPO, "platforms/keys/rproc-test-rsa2048.pem"), "-o", join(dir, "fw.sig")])).code, 0);
  const want = ["tee_load_fw", "tee_get_rsc_table", "tee_load_fw", "tee_get_rsc_table", "tee_start_fw", "tee_stop_fw", "tee_release_fw"];
  const j = await run(["boot", join(dir, "fw.sig"), "--platform", "stm32mp157", "--json"], REPO);
  assert.equal(j.code, 0, j.stderr);
  const steps = (JSON.parse(j.stdout).events as { step: string }[]).map((e) => e.step).filter((s) => s.startsWith("tee_"));
  assert.deepEqual(steps, want);
  const t = await run(["boot", join(dir, "fw.sig"), "--platform", "stm32mp157", "--trace"], REPO);
  assert.equal(t.code, 0);
  const traced = t.stdout.split("\n").flatMap((l) => /\b(tee_[a-z_]+)\b/.exec(l)?.[1] ?? []);
  assert.deepEqual(traced, want);
  // The signed image found by name along --search-path is recognised as well.
  const byName = await run(["boot", "fw.sig", "--platform", "stm32mp157", "--search-path", dir, "--json"], REPO);
  assert.equal(byName.code, 0, byName.stdout);
  // An untrusted key: exit 1, TA's reason, no stack.
  const other = await run(["boot", join(dir, "fw.sig"), "--platform", "stm32mp157", "--tee-key", resolve(VECTORS, "keys/rsa2048_pub.pem")], REPO);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /TEE_ERROR_SIGNATURE_INVALID/);
  noStack(other.stderr);
});
