import { test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../src/cli/commands/crash.js";
import type { CliIO } from "../src/cli/io.js";

const root = fileURLToPath(new URL("../", import.meta.url));
const FW = join(root, "fixtures/firmware/stm32mp15-m4.elf");

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), isTTY: false, cwd: root, env: {} };
  const code = await run(args, io);
  return { code, out, err };
}

test("rproc crash: recovery + enabled dump; readelf and gdb read the written core", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-crash-cli-"));
  const core = join(dir, "core.elf");
  const r = await cli([FW, "--platform", "stm32mp157", "--json", "-o", core]);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.state, "running");
  assert.equal(j.crash.crashCnt, 1);
  assert.equal(j.dump.mode, "enabled");
  const re = execFileSync("readelf", ["-W", "-h", "-l", core], { encoding: "utf8" });
  assert.match(re, /CORE \(Core file\)/);
  assert.equal([...re.matchAll(/^\s*LOAD\s/gm)].length, j.dump.segments.length);
  const g = execFileSync("gdb-multiarch", ["-nx", "-batch", "-ex", "print (unsigned int)fw_counter", FW, core], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  // the sim behaviour bumps fw_counter once per start: the dump is taken before the restart
  assert.match(g, /\$1 = 1$/m);
});

test("rproc crash: inline dump is read and recovery completes; disabled recovery leaves it crashed", async () => {
  const a = await cli([FW, "--platform", "stm32mp157", "--coredump", "inline", "--json"]);
  assert.equal(a.code, 0, a.err);
  assert.equal(JSON.parse(a.out).dump.mode, "inline");
  const b = await cli([FW, "--platform", "stm32mp157", "--recovery", "disabled", "--type", "mmufault"]);
  assert.equal(b.code, 0, b.err);
  assert.match(b.out, /state: crashed \(expected crashed\)/);
  assert.match(b.out, /crash: mmufault/);
});

test("rproc crash: usage errors exit 2, missing firmware exits 1 without a stack trace", async () => {
  assert.equal((await cli([FW])).code, 2);
  assert.equal((await cli([FW, "--platform", "stm32mp157", "--type", "boom"])).code, 2);
  const r = await cli(["no-such.elf", "--platform", "stm32mp157", "--json"]);
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.out).error.code, "ENOENT");
  assert.doesNotMatch(r.out + r.err, /\n\s+at /);
});
