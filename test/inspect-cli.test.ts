// End-to-end: `rproc inspect` as a process, through the real CLI entry point.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "../src/inspect.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FW = "fixtures/firmware/";

function rproc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at |internal error/);

test("human output: identity, segments, resource table (ANY), diagnostics; exit 0", async () => {
  const r = await rproc("inspect", FW + "am64x-r5f.elf");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ELF32 little-endian EXEC, ARM \(machine 40\), entry 0x0/);
  assert.match(r.stdout, /LOAD 0x002000 0xa0100000 0xa0100000 0x00158 0x02160 RW/);
  assert.match(r.stdout, /carveout "r5f-scratch" da ANY pa ANY len 0x10000/);
  assert.match(r.stdout, /devmem   "main-uart0" da 0x02800000/);
  assert.match(r.stdout, /vring0: da ANY align 4096 num 256/);
  assert.match(r.stdout, /info: devmem-needs-iommu/);
  assert.equal(r.stderr, "");
});

test("--json prints exactly inspect()'s result", async () => {
  for (const f of ["stm32mp15-m4.elf", "no-rsc-table.elf", "aarch64.elf", "bigendian.elf"]) {
    const r = await rproc("inspect", "--json", FW + f);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), inspect(new Uint8Array(readFileSync(join(ROOT, FW, f))), { file: FW + f }));
  }
});

test("a rejected file: exit 1, typed error, no stack trace (human and --json)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-inspect-"));
  const bad = join(dir, "truncated.elf");
  writeFileSync(bad, readFileSync(join(ROOT, FW, "stm32mp15-m4.elf")).subarray(0, 4200));
  const h = await rproc("inspect", bad);
  assert.equal(h.code, 1);
  assert.match(h.stderr, /rejected: EINVAL \[(sectionHeaders|e_shoff|programHeaders).*\]: /);
  noStack(h.stderr);
  const j = await rproc("inspect", bad, "--json");
  assert.equal(j.code, 1);
  const parsed = JSON.parse(j.stdout) as { file: string; error: { code: string; message: string; field: string } };
  assert.equal(parsed.error.code, "EINVAL");
  assert.equal(typeof parsed.error.field, "string");
});

test("a missing file: exit 1 with ENOENT, no stack trace", async () => {
  const r = await rproc("inspect", "does-not-exist.elf");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot read does-not-exist\.elf/);
  noStack(r.stderr);
  const j = await rproc("inspect", "--json", "does-not-exist.elf");
  assert.equal(j.code, 1);
  assert.equal(JSON.parse(j.stdout).error.code, "ENOENT");
});

test("an error-severity diagnostic makes the exit status 1", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-inspect-"));
  const bytes = new Uint8Array(readFileSync(join(ROOT, FW, "stm32mp15-m4.elf")));
  const rep = inspect(bytes);
  assert.ok("resourceTable" in rep && rep.resourceTable);
  new DataView(bytes.buffer).setUint32(rep.resourceTable.offset + 0x18 + 4 + 24 + 4, 0, true); // vring0.align = 0
  const f = join(dir, "align0.elf");
  writeFileSync(f, bytes);
  const r = await rproc("inspect", f);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /error: vring-align-zero/);
});

test("usage errors: exit 2", async () => {
  for (const args of [["inspect"], ["inspect", "--frobnicate", FW + "aarch64.elf"], ["inspect", "a.elf", "b.elf"]]) {
    const r = await rproc(...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, /usage: rproc inspect FILE/);
    noStack(r.stderr);
  }
  const help = await rproc("inspect", "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: rproc inspect/);
});
