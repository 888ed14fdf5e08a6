import { test } from "node:test";
import * as assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadSigningKey } from "../../src/tee/crypto.js";
import { signFirmware } from "../../src/tee/sign.js";
import { signFirmwareFiles } from "../../src/tee/sign-file.js";
import { verifySignedImage } from "../../src/tee/verify.js";
import { VECTORS, vector } from "./helpers.js";

const rsa = () => loadSigningKey(readFileSync(resolve(VECTORS, "keys/rsa2048_priv.pem")));
const v = (n: string) => ({ name: n, path: resolve(VECTORS, n) });

test("streamed signing reproduces every RSA vector byte for byte, and ECDSA except the signature", () => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-signfile-"));
  const out = join(dir, "o.bin");
  const cases: [string, Parameters<typeof signFirmwareFiles>[0], object][] = [
    ["fw_demo_m4.rsa2048.bin", [v("fw_demo_m4.elf")], {}],
    ["fw_demo_m4+aux_a.rsa2048.multi.bin", [v("fw_demo_m4.elf"), v("fw_aux_a.elf")], {}],
    [
      "fw_demo_m4.rsa2048.tlvs.bin",
      [v("fw_demo_m4.elf")],
      {
        keyInfo: readFileSync(resolve(VECTORS, "keyinfo_public.bin")),
        platformTlvs: [
          { type: 0x10001, value: Uint8Array.of(0x41, 0, 0, 0) },
          { type: 0x10002, value: new TextEncoder().encode("m4-public") },
        ],
      },
    ],
  ];
  for (const [want, inputs, extra] of cases) {
    const r = signFirmwareFiles(inputs, out, { key: rsa(), ...extra });
    assert.deepEqual(readFileSync(out), Buffer.from(vector(want)), want);
    assert.equal(r.size, vector(want).length);
  }
  signFirmwareFiles([v("fw_demo_m4.elf")], out, { key: loadSigningKey(readFileSync(resolve(VECTORS, "keys/ecp256_priv.pem"))) });
  const got = readFileSync(out);
  const ec = vector("fw_demo_m4.ecp256.bin");
  assert.deepEqual(got.subarray(0, 236), Buffer.from(ec.subarray(0, 236)));
  assert.deepEqual(got.subarray(300), Buffer.from(ec.subarray(300)));
  assert.equal(verifySignedImage(got, readFileSync(resolve(VECTORS, "keys/ecp256_pub.pem"))).valid, true);
});

test("streamed signing equals in-memory signing across 1 MiB chunk boundaries, with program headers sharing file bytes", () => {
  // An ELF32 ARM of 3.5 MiB: PT_LOAD A over [0x1000, 0x1000+2.5 MiB), PT_LOAD B after it (unaligned,
  // crossing the 3 MiB chunk edge), and a non-LOAD header inside A (its bytes hashed twice).
  const size = 0x380000;
  const elf = new Uint8Array(size);
  for (let i = 0; i < size; i++) elf[i] = (i * 2654435761) >>> 27;
  const dv = new DataView(elf.buffer);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  dv.setUint16(16, 2, true);
  dv.setUint16(18, 40, true);
  dv.setUint32(20, 1, true);
  dv.setUint32(28, 52, true);
  dv.setUint32(32, 0, true);
  dv.setUint16(40, 52, true);
  dv.setUint16(42, 32, true);
  dv.setUint16(44, 3, true);
  dv.setUint16(46, 40, true);
  dv.setUint16(48, 0, true);
  const ph = (i: number, f: number[]) => f.forEach((x, k) => dv.setUint32(52 + 32 * i + 4 * k, x, true));
  ph(0, [1, 0x1000, 0xc0000000, 0xc0000000, 0x280000, 0x280000, 7, 0x1000]);
  ph(1, [1, 0x2ffff3, 0xc0300000, 0xc0300000, 0x7000d, 0x80000, 6, 1]);
  ph(2, [0x70000001, 0x100003, 0xc00ff003, 0xc00ff003, 0x123, 0x123, 4, 4]);
  const dir = mkdtempSync(join(tmpdir(), "rproc-signfile-"));
  writeFileSync(join(dir, "big.elf"), elf);
  const key = rsa();
  signFirmwareFiles([{ name: "big.elf", path: join(dir, "big.elf") }, v("fw_aux_a.elf")], join(dir, "s.bin"), { key });
  const mem = signFirmware([{ name: "big.elf", bytes: elf }, { name: "aux", bytes: readFileSync(resolve(VECTORS, "fw_aux_a.elf")) }], { key });
  assert.ok(Buffer.from(mem).equals(readFileSync(join(dir, "s.bin"))));
});

test("streamed signing: a missing input or a non-ARM ELF leaves no output; an output that is an input is refused", () => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-signfile-"));
  const out = join(dir, "o.bin");
  assert.throws(() => signFirmwareFiles([{ name: "nope.elf", path: join(dir, "nope.elf") }], out, { key: rsa() }), { code: "ENOENT", field: "ELF" });
  assert.equal(existsSync(out), false);
  const x86 = Buffer.from(readFileSync(resolve(VECTORS, "fw_demo_m4.elf")));
  x86.writeUInt16LE(3, 18);
  writeFileSync(join(dir, "x86.elf"), x86);
  assert.throws(() => signFirmwareFiles([{ name: "x86.elf", path: join(dir, "x86.elf") }], out, { key: rsa() }), { code: "EINVAL", field: "e_machine" });
  assert.equal(existsSync(out), false);
  const copy = join(dir, "fw.elf");
  writeFileSync(copy, readFileSync(resolve(VECTORS, "fw_demo_m4.elf")));
  assert.throws(() => signFirmwareFiles([{ name: "fw.elf", path: copy }], copy, { key: rsa() }), { code: "EINVAL", field: "out" });
  assert.deepEqual(readFileSync(copy), readFileSync(resolve(VECTORS, "fw_demo_m4.elf")), "the input is untouched");
});
