// `rproc inspect` of OP-TEE signed images: library report against expected.json, diagnostics, rejections, CLI end to end.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { inspect, isRejection, type InspectReport, type InspectResult } from "../../src/inspect.js";
import { inspectSignedImage } from "../../src/tee/inspect-signed.js";
import { loadSigningKey } from "../../src/tee/crypto.js";
import { signFirmware } from "../../src/tee/sign.js";
import { REPO, VECTORS, expected, vector } from "./helpers.js";

const file = (n: string) => readFileSync(resolve(VECTORS, n));
const rsa = () => loadSigningKey(file("keys/rsa2048_priv.pem"));

function report(r: InspectResult): InspectReport {
  if (isRejection(r)) assert.fail(`rejected: ${r.error.message}`);
  assert.ok(r.signedImage, "signedImage present");
  return r;
}
const codes = (r: InspectReport) => r.diagnostics.map((d) => d.code);

test("every vector: header, TLVs, hash table, images, PT_LOAD segments and resource table equal expected.json", () => {
  for (const e of expected()) {
    const r = report(inspect(vector(e.file), { file: e.file }));
    const s = r.signedImage!;
    assert.equal(r.size, e.size);
    assert.deepEqual(s.header, { magic: Number(e.header.magic), version: e.header.version, tlvLen: e.header.tlv_len, signLen: e.header.sign_len, imgLen: e.header.img_len });
    assert.deepEqual(s.layout, { tlvOffset: e.tlv_area_offset, signatureOffset: e.signature_offset, imagesOffset: e.images_offset });
    assert.equal(s.signType, e.sign_type);
    assert.equal(s.hashType, e.hash_type);
    assert.deepEqual(
      s.tlvs.map((t) => ({ type: "0x" + t.type.toString(16), length: t.length, value_hex: t.hex })),
      e.tlvs,
      e.file,
    );
    assert.deepEqual(
      s.hashTable.map((h) => ({ p_type: h.type, p_offset: h.offset, p_vaddr: h.vaddr, p_paddr: h.paddr, p_filesz: h.filesz, p_memsz: h.memsz, p_flags: h.flags, p_align: h.align, sha256: h.sha256 })),
      e.hash_table,
    );
    assert.deepEqual(s.images.map((im) => ({ offset: im.offset, size: im.size })), e.images);
    assert.deepEqual(s.images.map((im) => im.fileOffset), e.images.map((im) => e.images_offset + im.offset));
    // PT_LOAD segments of all images, in load order, from the embedded ELF reports and from the TA's pairing.
    const loads = s.images.flatMap((im) => im.elf.segments.filter((g) => g.type === "LOAD").map((g) => ({ paddr: g.paddr, filesz: g.filesz, memsz: g.memsz })));
    assert.deepEqual(loads, e.loaded_segments);
    assert.deepEqual(s.images.flatMap((im) => im.segments.map((g) => ({ paddr: g.paddr, filesz: g.filesz, memsz: g.memsz }))), e.loaded_segments);
    assert.ok(s.images.every((im) => im.segments.every((g) => g.hashEntry !== null && g.hashMatches === true)));
    assert.ok(s.hashTable.every((h) => h.usedBy.length === 1));
    const tables = s.images.flatMap((im) => (im.resourceTable ? [{ da: im.resourceTable.address, size: im.resourceTable.size }] : []));
    assert.deepEqual(tables, e.resource_tables);
    // Top level: the image that carries the table.
    assert.equal(s.resourceTableImage, 0);
    assert.deepEqual(r.resourceTable, s.images[0]!.resourceTable);
    assert.deepEqual(r.elf, s.images[0]!.elf);
    assert.deepEqual(r.resourceTable!.entries.map((x) => x.type), ["trace", "vdev"]);
    // The embedded ELF is reported exactly as the plain ELF file would be.
    const plain = inspect(file("fw_demo_m4.elf"));
    assert.ok(!isRejection(plain));
    assert.deepEqual(s.images[0]!.elf, plain.elf);
    assert.deepEqual(s.images[0]!.resourceTable, plain.resourceTable);
    // Diagnostics: location of the table unauthenticated (info); ECDSA refused by STM32MP1 (warning); nothing of severity error.
    const rsc = r.diagnostics.find((d) => d.code === "signed-rsc-table-location-unauthenticated");
    assert.ok(rsc && rsc.severity === "info" && /section header \[3\] at file offset 0x[0-9a-f]+/.test(rsc.message), e.file);
    assert.equal(codes(r).includes("signed-ecdsa-stm32mp1"), e.sign_type === 2, e.file);
    assert.ok(!r.diagnostics.some((d) => d.severity === "error"), JSON.stringify(r.diagnostics));
  }
});

test("TLVs are decoded: type names, SIGNTYPE/HASHTYPE names, NUM_IMG, IMGTYPE/IMGSIZE lists, PKEYINFO text, platform u32 and string", () => {
  const t = report(inspect(vector("fw_demo_m4.rsa2048.tlvs.bin"))).signedImage!.tlvs;
  const by = (name: string) => t.filter((x) => x.name === name);
  assert.deepEqual(t.map((x) => x.name), ["SIGNTYPE", "NUM_IMG", "IMGTYPE", "IMGSIZE", "HASHTYPE", "HASHTABLE", "PKEYINFO", "PLATFORM", "PLATFORM"]);
  assert.equal(by("SIGNTYPE")[0]!.meaning, "RSASSA-PKCS1-v1_5 / SHA-256");
  assert.equal(by("HASHTYPE")[0]!.meaning, "SHA-256");
  assert.equal(by("PKEYINFO")[0]!.value, "KEYID:pub-1");
  assert.deepEqual(by("PLATFORM").map((x) => [x.type, x.value]), [[0x10001, 0x41], [0x10002, "m4-public"]]);
  const m = report(inspect(vector("fw_demo_m4+aux_a.rsa2048.multi.bin"))).signedImage!;
  assert.deepEqual(m.tlvs.find((x) => x.name === "NUM_IMG")!.value, 2);
  assert.deepEqual(m.tlvs.find((x) => x.name === "IMGTYPE")!.value, [1, 1]);
  assert.deepEqual(m.tlvs.find((x) => x.name === "IMGSIZE")!.value, [9360, 4840]);
  assert.equal(report(inspect(vector("fw_demo_m4.ecp256.bin"))).signedImage!.signTypeName, "ECDSA P-256 / SHA-256");
});

/** Offsets inside image 0 of fw_demo_m4.rsa2048.bin. */
function demo(): { b: Uint8Array; img: number; shoff: number } {
  const b = vector("fw_demo_m4.rsa2048.bin");
  const img = 492;
  const shoff = Buffer.from(b).readUInt32LE(img + 32);
  return { b, img, shoff };
}

test("unauthenticated bytes: a .comment change is accepted and named; a moved resource table is flagged", () => {
  const { b, img, shoff } = demo();
  const at = Buffer.from(b).indexOf("GCC:");
  b[at] ^= 0x20;
  const r = report(inspect(b));
  const d = r.diagnostics.find((x) => x.code === "signed-unauthenticated-bytes")!;
  assert.match(d.message, /\.comment/);
  // sh_addr of section 3 (.resource_table) moved into .bss (zero-filled tail of the PT_LOAD), then outside every segment.
  const view = Buffer.from(b.buffer, b.byteOffset, b.length);
  view.writeUInt32LE(0x10000090, img + shoff + 3 * 40 + 12);
  const zeros = report(inspect(b)).diagnostics.find((x) => x.code === "signed-rsc-table-unauthenticated")!;
  assert.equal(zeros.severity, "warning");
  assert.match(zeros.message, /zero-filled/);
  view.writeUInt32LE(0x20000000, img + shoff + 3 * 40 + 12);
  assert.match(report(inspect(b)).diagnostics.find((x) => x.code === "signed-rsc-table-unauthenticated")!.message, /no signed PT_LOAD segment/);
  // sh_offset pointing at other (valid-looking) bytes than those loaded at sh_addr: a copy of the table placed in .comment's spot.
  const c = demo();
  const cv = Buffer.from(c.b.buffer, c.b.byteOffset, c.b.length);
  const table = Buffer.from(c.b.subarray(c.img + 0x2000, c.img + 0x2000 + 0x8c));
  table.writeUInt32LE(0x12345678, 0x18 + 4 + 0); // trace da in the copy only
  cv.set(table, c.img + 0x20e4); // over .symtab (unauthenticated)
  cv.writeUInt32LE(0x20e4, c.img + c.shoff + 3 * 40 + 16);
  const differs = report(inspect(c.b));
  assert.ok(codes(differs).includes("signed-rsc-table-section-differs"));
  assert.equal((differs.resourceTable!.entries[0] as { da: number }).da, 0x12345678);
});

test("the TA's segment/hash pairing: tampered data, a PT_LOAD with no entry, an entry no segment uses", () => {
  const { b, img } = demo();
  b[img + 0x2000 + 0x20] ^= 1; // inside the second PT_LOAD (hashed)
  const r = report(inspect(b));
  const mm = r.diagnostics.find((x) => x.code === "signed-segment-hash-mismatch")!;
  assert.equal(mm.severity, "error");
  assert.equal(mm.path, "signedImage.images[0].elf.segments[1]");
  assert.match(mm.message, /TEE_ERROR_SECURITY/);
  assert.equal(r.signedImage!.images[0]!.segments[1]!.hashMatches, false);

  const m = vector("fw_demo_m4+aux_a.rsa2048.multi.bin");
  const mv = Buffer.from(m.buffer, m.byteOffset, m.length);
  const aux = 556 + 9360;
  const phoff = mv.readUInt32LE(aux + 28);
  mv.writeUInt32LE(0x30001000, aux + phoff + 12); // aux PT_LOAD p_paddr: no entry
  const n = report(inspect(m));
  assert.deepEqual(
    n.diagnostics.filter((d) => d.severity !== "info").map((d) => [d.code, d.path]),
    [
      ["signed-segment-no-hash", "signedImage.images[1].elf.segments[0]"],
      ["signed-hash-entry-unused", "signedImage.hashTable[2]"],
    ],
  );
  assert.deepEqual(n.signedImage!.hashTable[2]!.usedBy, []);
  mv.writeUInt32LE(0x30000000, aux + phoff + 12);
  mv.writeUInt32LE(0, aux + phoff); // PT_LOAD -> PT_NULL: the TA silently skips it
  assert.deepEqual(report(inspect(m)).diagnostics.filter((d) => d.severity !== "info").map((d) => d.code), ["signed-hash-entry-unused"]);
});

test("two images with resource tables: error diagnostic (TA: BAD_FORMAT); the first carries the top-level table", () => {
  const m4 = { name: "m4", bytes: file("fw_demo_m4.elf") };
  const r = report(inspect(signFirmware([m4, m4], { key: rsa() })));
  const d = r.diagnostics.find((x) => x.code === "signed-multiple-resource-tables")!;
  assert.equal(d.severity, "error");
  assert.equal(d.path, "signedImage.images[1].resourceTable");
  assert.equal(r.signedImage!.resourceTableImage, 0);
  // Same p_paddr twice: image 1's segments take image 0's entries (first match); here equal contents, so the hashes match.
  assert.deepEqual(r.signedImage!.hashTable[0]!.usedBy, [{ image: 0, programHeader: 0 }, { image: 1, programHeader: 0 }]);
  assert.deepEqual(r.signedImage!.hashTable[2]!.usedBy, []);
});

test("a multi-image vector whose aux image carries no table: top-level elf is image 0's; aux image reported in full", () => {
  const r = report(inspect(vector("fw_demo_m4+aux_a.rsa2048.multi.bin")));
  const aux = r.signedImage!.images[1]!;
  assert.equal(aux.resourceTable, null);
  const plain = inspect(file("fw_aux_a.elf"));
  assert.ok(!isRejection(plain));
  assert.deepEqual(aux.elf, plain.elf);
  assert.ok(!codes(r).includes("no-resource-table"));
});

test("encrypted image: reported, table not decoded without the key, decoded with it", () => {
  const key = new Uint8Array(32).fill(7);
  let n = 0;
  const newIv = () => Uint8Array.from({ length: 16 }, (_, i) => (i < 12 ? ++n : 0));
  const enc = signFirmware([{ name: "m4", bytes: file("fw_demo_m4.elf") }], { key: rsa(), encryptKey: key, newIv });
  const r = report(inspect(enc));
  const s = r.signedImage!;
  assert.equal(s.images[0]!.type, 2);
  assert.equal(s.images[0]!.encrypted, true);
  assert.equal(s.encryption!.algoName, "AES-256-CTR");
  assert.equal(s.encryption!.ivs.length, s.hashTable.length);
  assert.deepEqual(s.tlvs.filter((t) => t.type >= 0x10100).map((t) => t.name), ["ENC_ALGO", "ENC_IVS"]);
  assert.equal(r.resourceTable, null);
  assert.ok(codes(r).includes("signed-image-encrypted"));
  assert.ok(s.images[0]!.segments.every((g) => g.hashMatches === true), "the hash table covers the ciphertext");
  const withKey = inspectSignedImage(enc, { decryptKey: key });
  const plain = inspect(file("fw_demo_m4.elf"));
  assert.ok(!isRejection(plain));
  assert.deepEqual(withKey.resourceTable, plain.resourceTable);
  // Missing ENC TLVs: the TA refuses (NO_DATA), so inspect rejects.
  const bad = Uint8Array.from(enc);
  const at = s.tlvs.find((t) => t.name === "ENC_ALGO")!.offset;
  new DataView(bad.buffer).setUint32(at, 0x10200, true);
  const rej = inspect(bad);
  assert.ok(isRejection(rej));
  assert.equal(rej.error.teeError, "TEE_ERROR_NO_DATA");
});

test("malformed signed images are rejections with the TEE error name, errno and field", () => {
  const b = vector("fw_demo_m4.rsa2048.bin");
  const cases: [Uint8Array, string, string, string][] = [
    [b.subarray(0, b.length - 1), "TEE_ERROR_BAD_PARAMETERS", "EINVAL", "header.img_len"],
    [Uint8Array.from([...b, 0]), "TEE_ERROR_BAD_PARAMETERS", "EINVAL", "header.img_len"],
    [b.subarray(0, 12), "TEE_ERROR_BAD_PARAMETERS", "EINVAL", "header"],
  ];
  const v2 = Uint8Array.from(b);
  v2[4] = 2;
  cases.push([v2, "TEE_ERROR_BAD_PARAMETERS", "EINVAL", "header.version"]);
  const st = Uint8Array.from(b);
  st[20 + 8] = 9; // SIGNTYPE value
  cases.push([st, "TEE_ERROR_NOT_SUPPORTED", "EOPNOTSUPP", "tlvs.SIGNTYPE"]);
  const cls = Uint8Array.from(b);
  cls[492 + 4] = 2; // EI_CLASS 64 in the first image
  cases.push([cls, "TEE_ERROR_BAD_FORMAT", "ENOEXEC", "images[0].elf.e_ident[EI_CLASS]"]);
  for (const [bytes, tee, errno, field] of cases) {
    const r = inspect(bytes, { file: "x.bin" });
    assert.ok(isRejection(r), tee);
    assert.equal(r.error.teeError, tee);
    assert.equal(r.error.code, errno);
    assert.equal(r.error.field, field);
    assert.ok(r.error.message.endsWith(`(${tee})`), r.error.message);
  }
  // A structural ELF problem the TA does not see but the ELF reader refuses: rooted at the image.
  const { b: e, img } = demo();
  const ev = Buffer.from(e.buffer, e.byteOffset, e.length);
  ev.writeUInt32LE(0x10000000, img + ev.readUInt32LE(img + 32) + 9 * 40 + 16); // .strtab sh_offset far away
  const r = inspect(e);
  assert.ok(isRejection(r));
  assert.match(r.error.field ?? "", /^signedImage\.images\[0\]\.sectionHeaders\[9\]/);
  assert.match(r.error.message, /^image 0: /);
});

function rproc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: REPO });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", rej);
    p.on("close", (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}

test("CLI: human output and --json (equal to inspect()) for every vector, exit 0; a rejection exits 1 without a stack", async () => {
  const h = await rproc("inspect", resolve(VECTORS, "fw_demo_m4+aux_a.rsa2048.multi.bin"));
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout, /OP-TEE signed image, version 1, RSASSA-PKCS1-v1_5 \/ SHA-256, 2 images, 14756 bytes/);
  assert.match(h.stdout, /0x0044 0x5 +IMGSIZE +8 +9360 bytes, 4840 bytes/);
  assert.match(h.stdout, /\[2\] 0x1 +0x001000 0x30000000 0x30000000 0x00024 0x00028 0x7 b4b5496a[0-9a-f]+ image 1 phdr 0/);
  assert.match(h.stdout, /Image 1: ELF32 little-endian EXEC, ARM \(machine 40\)/);
  assert.match(h.stdout, /trace +"demo_log" da 0x10000090 len 0x400/);
  assert.match(h.stdout, /info: signed-rsc-table-location-unauthenticated/);
  const ec = await rproc("inspect", resolve(VECTORS, "fw_demo_m4.ecp256.bin"));
  assert.equal(ec.code, 0);
  assert.match(ec.stdout, /warning: signed-ecdsa-stm32mp1/);
  await Promise.all(
    expected().map(async (e) => {
      const path = resolve(VECTORS, e.file);
      const j = await rproc("inspect", "--json", path);
      assert.equal(j.code, 0, j.stderr);
      assert.deepEqual(JSON.parse(j.stdout), JSON.parse(JSON.stringify(inspect(vector(e.file), { file: path }))));
    }),
  );
  const { writeFileSync, mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const bad = resolve(mkdtempSync(resolve(tmpdir(), "rproc-signed-")), "trunc.bin");
  writeFileSync(bad, vector("fw_demo_m4.rsa2048.bin").subarray(0, 9000));
  const r = await rproc("inspect", bad);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /rejected: EINVAL \[header\.img_len\]: .*\(TEE_ERROR_BAD_PARAMETERS\)/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const rj = await rproc("inspect", "--json", bad);
  assert.equal(rj.code, 1);
  assert.equal(JSON.parse(rj.stdout).error.teeError, "TEE_ERROR_BAD_PARAMETERS");
});

test("hostile input: random byte changes and truncations never throw, only report or reject", () => {
  // Deterministic PRNG (xorshift32) so a failure reproduces.
  let x = 0x1234567;
  const rnd = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  for (const f of ["fw_demo_m4+aux_a.rsa2048.multi.bin", "fw_demo_m4.rsa2048.tlvs.bin"]) {
    const base = vector(f);
    for (let k = 0; k < 1500; k++) {
      const b = Uint8Array.from(base);
      for (let m = 1 + rnd(4); m > 0; m--) {
        // Bias towards the header, TLVs and the ELF headers, where the structure is.
        const region = rnd(3);
        const at = region === 0 ? rnd(560) : region === 1 ? 556 + rnd(64) : rnd(b.length);
        b[at] = rnd(256);
      }
      const bytes = rnd(10) === 0 ? b.subarray(0, rnd(b.length)) : b;
      const r = inspect(bytes, { file: f });
      if (isRejection(r)) assert.equal(typeof r.error.code, "string");
      else assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
    }
  }
  assert.throws(() => inspectSignedImage(vector("fw_demo_m4.rsa2048.bin"), { decryptKey: new Uint8Array(16) }), { code: "EINVAL", field: "decryptKey" });
});
