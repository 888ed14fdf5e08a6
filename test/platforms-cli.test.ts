import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../src/cli/main.js";
import type { CliIO } from "../src/cli/io.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

async function rproc(args: string[], cwd = ROOT): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), isTTY: false, cwd, env: {} };
  const code = await main(args, io);
  return { code, out, err };
}

test("rproc platforms lists every bundled platform with its processors", async () => {
  const r = await rproc(["platforms"]);
  assert.equal(r.code, 0);
  for (const name of ["stm32mp157", "stm32mp157-firewall", "am64x", "imx8mp"]) assert.match(r.out, new RegExp(`^${name}$`, "m"));
  assert.match(r.out, /m4 +driver sim +core cortex-m4 +firmware rproc-m4-fw/);
  assert.match(r.out, /r5f0_0 +driver sim +core cortex-r5 +firmware am64-main-r5f0_0-fw/);
});

test("rproc platforms --json", async () => {
  const r = await rproc(["platforms", "--json"]);
  assert.equal(r.code, 0);
  const j = JSON.parse(r.out) as { platforms: { name: string; processors: { name: string; driver: string; core: string; firmware: string }[] }[] };
  const stm = j.platforms.find((p) => p.name === "stm32mp157")!;
  assert.deepEqual(stm.processors, [{ name: "m4", driver: "sim", core: "cortex-m4", firmware: "rproc-m4-fw" }]);
  assert.equal(j.platforms.find((p) => p.name === "am64x")!.processors.length, 4);
});

test("rproc platforms NAME shows regions, pools and translations", async () => {
  const r = await rproc(["platforms", "stm32mp157"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /mcu-sram-alias +0x10000000\.\.0x1005ffff +0x60000 +sram shared +alias of mcu-sram/);
  assert.match(r.out, /vdev0vring0 +0x10040000\.\.0x10040fff +0x1000/);
  assert.match(r.out, /retram +da +0x0\.\.0xffff +0x10000 -> pa 0x38000000/);
  assert.match(r.out, /memory-region: retram, mcuram, mcuram2, vdev0vring0, vdev0vring1, vdev0buffer/);
});

test("rproc platforms NAME --json is the validated description with numbers", async () => {
  const r = await rproc(["platforms", "am64x", "--json"]);
  assert.equal(r.code, 0);
  const j = JSON.parse(r.out) as { platform: { name: string; processors: { translations: { da: number; pa: number }[] }[] } };
  assert.equal(j.platform.name, "am64x");
  assert.deepEqual(j.platform.processors[0]!.translations[1], { name: "btcm", da: 0x41010000, pa: 0x78100000, size: 0x8000 });
});

test("rproc platforms FILE (relative to cwd); a broken file exits 1 naming the field", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-cli-"));
  const json = JSON.parse(readFileSync(join(ROOT, "platforms/imx8mp.json"), "utf8"));
  json.name = "board";
  writeFileSync(join(dir, "board.json"), JSON.stringify(json));
  const ok = await rproc(["platforms", "./board.json"], dir);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /^board: /);
  json.processors[0].memoryRegions.push("vdev1vring0");
  writeFileSync(join(dir, "board.json"), JSON.stringify(json));
  const bad = await rproc(["platforms", "board.json"], dir);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /processors\[0\]\.memoryRegions\[4\]: no pool named "vdev1vring0"/);
  const badJson = await rproc(["platforms", "board.json", "--json"], dir);
  assert.equal(badJson.code, 1);
  const e = JSON.parse(badJson.out) as { error: { code: string; field: string } };
  assert.deepEqual([e.error.code, e.error.field], ["EINVAL", "processors[0].memoryRegions[4]"]);
});

test("usage errors exit 2; unknown platform exits 1", async () => {
  assert.equal((await rproc(["platforms", "--bogus"])).code, 2);
  assert.equal((await rproc(["platforms", "a", "b"])).code, 2);
  const help = await rproc(["platforms", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /usage: rproc platforms/);
  const unknown = await rproc(["platforms", "zynqmp"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /no bundled platform named "zynqmp"/);
});

test("as a process: exit status and no stack trace for a bad file", () => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-cli-"));
  writeFileSync(join(dir, "bad.json"), "{\"name\": 1}");
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "src/cli/main.ts"), "platforms", join(dir, "bad.json")], {
    cwd: ROOT,
    encoding: "utf8",
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /description: missing required key/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test("rproc platforms stm32mp157 reports the aliased SRAM pools as a finding", async () => {
  const r = await rproc(["platforms", "stm32mp157"]);
  assert.match(r.out, /warning pool-alias-overlap at pools\[4\]: pool mcuram/);
  const j = JSON.parse((await rproc(["platforms", "stm32mp157", "--json"])).out) as { diagnostics: { code: string }[] };
  assert.deepEqual(j.diagnostics.map((d) => d.code), ["pool-alias-overlap"]);
});
