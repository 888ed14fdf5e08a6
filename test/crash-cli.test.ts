import { test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand } from "../src/cli/command.js";
import { command } from "../src/cli/commands/crash.js";

const run = (argv: string[], io: CliIO): Promise<number> => runCommand(command, argv, io);
import type { CliIO } from "../src/cli/io.js";

/** Every test has its own time limit, so a stuck crash sequence fails instead of hanging `npm test`. */
const T = { timeout: 60_000 };

const root = fileURLToPath(new URL("../", import.meta.url));
const FW = join(root, "fixtures/firmware/stm32mp15-m4.elf");

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), isTTY: false, cwd: root, env: {} };
  const code = await run(args, io);
  return { code, out, err };
}

test("rproc crash: recovery + enabled dump; readelf and gdb read the written core", T, async () => {
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
  const g = execFileSync("gdb-multiarch", ["-nx", "-batch", "-ex", "print (unsigned int)fw_counter", FW, core], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
  // the sim behaviour bumps fw_counter once per start: the dump is taken before the restart
  assert.match(g, /\$1 = 1$/m);
});

test("rproc crash: inline dump is read and recovery completes; disabled recovery leaves it crashed", T, async () => {
  const a = await cli([FW, "--platform", "stm32mp157", "--coredump", "inline", "--json"]);
  assert.equal(a.code, 0, a.err);
  assert.equal(JSON.parse(a.out).dump.mode, "inline");
  const b = await cli([FW, "--platform", "stm32mp157", "--recovery", "disabled", "--type", "mmufault"]);
  assert.equal(b.code, 0, b.err);
  assert.match(b.out, /state: crashed \(expected crashed\)/);
  assert.match(b.out, /crash: mmufault/);
});

test("rproc crash: usage errors exit 2, missing firmware exits 1 without a stack trace", T, async () => {
  assert.equal((await cli([FW])).code, 2);
  assert.equal((await cli([FW, "--platform", "stm32mp157", "--type", "boom"])).code, 2);
  const r = await cli(["no-such.elf", "--platform", "stm32mp157", "--json"]);
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.out).error.code, "ENOENT");
  assert.doesNotMatch(r.out + r.err, /\n\s+at /);
});

function readelf(core: string): { loads: number[][]; out: string } {
  const out = execFileSync("readelf", ["-W", "-h", "-l", core], { encoding: "utf8" });
  assert.match(out, /Type:\s+CORE \(Core file\)/);
  assert.match(out, /Class:\s+ELF32/);
  assert.match(out, /Machine:\s+ARM/);
  const loads = [...out.matchAll(/^\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+RWE\s+0$/gm)];
  return { loads: loads.map((m) => [Number(m[2]), Number(m[4])]), out };
}

test("rproc crash: each coredump mode as readelf -h -l sees it; gdb reads the inline dump the CLI read", T, async () => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-crash-modes-"));
  const cores: Record<string, Buffer> = {};
  for (const mode of ["enabled", "inline"]) {
    const core = join(dir, `${mode}.elf`);
    const r = await cli([FW, "--platform", "stm32mp157", "--coredump", mode, "--json", "-o", core]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.dump.mode, mode);
    assert.equal(j.dump.written.bytes, j.dump.size);
    const { loads } = readelf(core);
    assert.deepEqual(loads, j.dump.segments.map((s: { da: number; size: number }) => [s.da, s.size]), mode);
    cores[mode] = readFileSync(core);
  }
  // the inline reader streamed the same file the enabled mode copied
  assert.ok(cores.inline!.equals(cores.enabled!));
  const g = execFileSync("gdb-multiarch", ["-nx", "-batch", "-ex", "print (unsigned int)fw_counter", FW, join(dir, "inline.elf")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
  assert.match(g, /\$1 = 1$/m);
  // disabled: no dump, so asking for a file fails (exit 1) and none is written
  const none = join(dir, "disabled.elf");
  const d = await cli([FW, "--platform", "stm32mp157", "--coredump", "disabled", "--json", "-o", none]);
  assert.equal(d.code, 1);
  const jd = JSON.parse(d.out);
  assert.equal(jd.dump, null);
  assert.equal(jd.state, "running");
  assert.equal(existsSync(none), false);
});

test("rproc crash --trace: the crash work, recovery, dump and restart in the kernel's order", T, async () => {
  const r = await cli([FW, "--platform", "stm32mp157", "--trace"]);
  assert.equal(r.code, 0, r.err);
  // "  seq phase step ..." lines; keep the begins (and the report, an info) after the crash
  const lines = r.out.split("\n").map((l) => /^\s*\d+ (\w+)\s+(\S+)/.exec(l)).filter((m) => m !== null);
  const from = lines.findIndex((m) => m[2] === "rproc_report_crash");
  assert.ok(from > 0, "the boot is traced before the crash");
  const seq = lines.slice(from).filter((m) => m[1] === "begin" || ["rproc_report_crash", "running"].includes(m[2]!)).map((m) => m[2]!);
  const kernelOrder = [
    "rproc_report_crash",
    "rproc_crash_handler_work",
    "rproc_trigger_recovery",
    "rproc_boot_recovery",
    "rproc_stop",
    "stop_subdevices",
    "stop",
    "unprepare_subdevices",
    "coredump",
    "rproc_coredump",
    "request_firmware",
    "rproc_start",
    "load",
    "find_loaded_rsc_table",
    "prepare_subdevices",
    "start",
    "start_subdevices",
    "running",
  ];
  assert.deepEqual(seq.filter((s) => kernelOrder.includes(s)), kernelOrder, seq.join(" "));
  // and it ends where the sequence ends: the work's end after the restart
  const tail = lines.slice(from).map((m) => `${m[2]}:${m[1]}`);
  assert.ok(tail.indexOf("rproc_crash_handler_work:end") > tail.indexOf("running:info"));
  assert.match(r.out, /^state: running \(expected running\)$/m);
});

test("rproc crash: a boot that fails is not reported as a crash; a dump that cannot be written is not 'no dump'", T, async () => {
  const notElf = join(mkdtempSync(join(tmpdir(), "rproc-crash-bad-")), "fw.elf");
  writeFileSync(notElf, "not an ELF image\n");
  const t = await cli([notElf, "--platform", "stm32mp157"]);
  assert.equal(t.code, 1);
  assert.match(t.out, /^no crash injected: the boot failed at sanity_check$/m);
  assert.doesNotMatch(t.out, /^crash: /m);
  assert.doesNotMatch(t.out + t.err, /\n\s+at /);
  const j = JSON.parse((await cli([notElf, "--platform", "stm32mp157", "--json"])).out);
  assert.equal(j.crash.injected, false);
  assert.equal(j.crash.crashCnt, 0);
  assert.equal(j.error.step, "sanity_check");
  assert.equal(j.ok, false);

  const unwritable = join(notElf, "no-such-dir", "core.elf");
  const w = await cli([FW, "--platform", "stm32mp157", "-o", unwritable]);
  assert.equal(w.code, 1);
  assert.match(w.out, /^coredump: enabled, \d+ bytes, 5 segment\(s\)$/m);
  assert.match(w.out, /nothing written to .*: the write failed \(error below\)$/m);
  assert.doesNotMatch(w.out, /there is no dump/);
  assert.match(w.out, /^error: EIO: cannot write dump to /m);
  const wj = JSON.parse((await cli([FW, "--platform", "stm32mp157", "-o", unwritable, "--json"])).out);
  assert.equal(wj.crash.injected, true);
  assert.equal(wj.dump.written, null);
  assert.equal(wj.error.code, "EIO");
});
