import { test } from "node:test";
import * as assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { main } from "../src/cli/main.js";
import { VECTORS } from "./tee/helpers.js";

function io() {
  const out = { stdout: "", stderr: "" };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t), isTTY: false, cwd: VECTORS, env: {} } };
}

test("rproc sign reproduces the vector; rproc verify exits 0 valid, 1 invalid, 2 usage", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-sign-"));
  const a = io();
  assert.equal(await main(["sign", "fw_demo_m4.elf", "--key", "keys/rsa2048_priv.pem", "-o", join(dir, "o.bin"), "--json"], a.io), 0);
  assert.equal(JSON.parse(a.out.stdout).sha256, "b57db865f2de0131096c5125462462521f5120fd2ab86b9e5e4b033c8d24f707");
  assert.deepEqual(readFileSync(join(dir, "o.bin")), readFileSync(resolve(VECTORS, "fw_demo_m4.rsa2048.bin")));
  const b = io();
  assert.equal(await main(["verify", join(dir, "o.bin"), "--key", "keys/rsa2048_pub.pem"], b.io), 0);
  const c = io();
  assert.equal(await main(["verify", join(dir, "o.bin"), "--key", "keys/ecp256_pub.pem", "--json"], c.io), 1);
  assert.equal(JSON.parse(c.out.stdout).error.teeError, "TEE_ERROR_SIGNATURE_INVALID");
  assert.equal(await main(["verify", join(dir, "o.bin")], io().io), 2);
  const d = io();
  assert.equal(await main(["sign", "fw_demo_m4.elf", "--key", "keys/rsa2048_pub.pem", "-o", join(dir, "x.bin")], d.io), 1);
  assert.match(d.out.stderr, /cannot be used for signing/);
  assert.doesNotMatch(d.out.stderr, /at .*\.ts:/);
});
