// gdb as the oracle: the coredump of a crashed emulated core, opened next to
// the firmware ELF, shows the signal, the crashing function, the file:line of
// the faulting statement (found in fw.c by its FAULT-LINE marker, not
// hard-coded) and the backtrace. Needs gdb-multiarch (Debian package gdb-multiarch).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Platform } from "../../src/platform/platform.js";
import { createRproc, loadDriver } from "../../src/drivers/registry.js";
import { RprocDumpMechanism, RprocState } from "../../src/core/state.js";
import { dumpBytes } from "../../src/core/coredump-store.js";
import { lastCrashRegisters } from "../../src/drivers/emulated/index.js";
import { A53_FW, A53_PLATFORM, FIXTURES, M4_FW, fwLine, loadElf, needsUnicorn, stm32Platform, symbol } from "./helpers.js";

// The composition root imports this driver on first use (src/drivers/registry.ts).
await loadDriver("emulated");

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

const hasGdb = spawnSync("gdb-multiarch", ["--version"]).status === 0;
const skip = needsUnicorn || (hasGdb ? false : "gdb-multiarch is not installed");

async function crashDump(platform: Platform, processor: string, fw: string, cmd: number): Promise<{ path: string; regs: Record<string, number | bigint> }> {
  const rproc = createRproc(platform, processor, {
    driver: "emulated",
    firmware: fw.slice(FIXTURES.length),
    searchPath: [FIXTURES],
    driverOptions: { sliceInsns: 100_000 },
  });
  rproc.dumpConf = RprocDumpMechanism.ENABLED;
  await rproc.boot();
  const wait = async (pred: () => boolean) => {
    for (let i = 0; i < 1000 && !pred(); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(pred());
  };
  await wait(() => /vdev status/.test(rproc.traceText(0)));
  rproc.daToVa(symbol(loadElf(fw), "fw_cmd").addr, 4)!.setU32(0, cmd);
  await wait(() => rproc.crashCnt === 1 && rproc.state === RprocState.RUNNING);
  const path = join(mkdtempSync(join(tmpdir(), "rproc-emu-core-")), "core");
  writeFileSync(path, dumpBytes(rproc.dumps[0]!));
  const regs = lastCrashRegisters(rproc)!.regs;
  await rproc.shutdown();
  return { path, regs };
}

/** gdb's `info registers` lines as name → value. */
function gdbRegisters(out: string): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const [, name, v] of out.matchAll(/^(\w+)\s+(0x[0-9a-f]+)\s/gm)) m.set(name!, BigInt(v!));
  return m;
}

/** Every register of the fault, under the name gdb gives it, must read back from the dump with the same value. */
function assertSameRegisters(out: string, regs: Record<string, number | bigint>, names: Record<string, string>): void {
  const shown = gdbRegisters(out);
  assert.ok(Object.keys(regs).length >= 17, "ARM r0-r15 + cpsr, AArch64 x0-x30 + sp + pc + pstate");
  for (const [ours, value] of Object.entries(regs)) {
    const gdbName = names[ours] ?? ours;
    assert.equal(shown.get(gdbName), BigInt(value), `${ours} (gdb ${gdbName}): dump ${shown.get(gdbName)?.toString(16)} vs fault 0x${BigInt(value).toString(16)}`);
  }
}

function gdb(elf: string, core: string): string {
  const r = spawnSync("gdb-multiarch", ["-nx", "-batch", "-ex", `core-file ${core}`, "-ex", "bt", "-ex", "info registers", elf], {
    encoding: "utf8",
    timeout: 30_000,
    cwd: ROOT, // the debug info names fixtures/emulated/fw.c relative to the repository root
  });
  return r.stdout + r.stderr;
}

test("gdb-multiarch on an M4 dump: SIGSEGV in bad_access, backtrace to main", { skip }, async () => {
  const dump = await crashDump(stm32Platform(), "m4", M4_FW, 1);
  const out = gdb(M4_FW, dump.path);
  const line = fwLine("FAULT-LINE: mmufault");
  assert.match(out, /Program terminated with signal SIGSEGV/);
  assert.match(out, new RegExp(`^#0  (?:0x[0-9a-f]+ in )?bad_access \\(\\) at \\S*fw\\.c:${line}$`, "m"));
  assert.match(out, new RegExp(`^${line}\\s.*FAULT-LINE: mmufault`, "m"), "gdb shows the faulting source line");
  assert.match(out, /in run_command .* at \S*fw\.c:\d+$/m);
  assert.match(out, /in main \(\) at \S*fw\.c:\d+$/m);
  assert.match(out, /^pc\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <bad_access\+\d+>/m);
  assert.match(out, /^r3\s+0x60000000\s/m, "the register holding the bad address");
  assertSameRegisters(out, dump.regs, { r13: "sp", r14: "lr", r15: "pc" });
});

test("gdb-multiarch on an A53 dump: SIGILL in undefined_insn, backtrace to main", { skip }, async () => {
  const dump = await crashDump(Platform.load(A53_PLATFORM), "a53", A53_FW, 2);
  const out = gdb(A53_FW, dump.path);
  const line = fwLine("FAULT-LINE: undef");
  assert.match(out, /Program terminated with signal SIGILL/);
  assert.match(out, new RegExp(`^#0  (?:0x[0-9a-f]+ in )?undefined_insn \\(\\) at \\S*fw\\.c:${line}$`, "m"));
  assert.match(out, new RegExp(`^${line}\\s.*FAULT-LINE: undef`, "m"), "gdb shows the faulting source line");
  assert.match(out, /in main \(\) at \S*fw\.c:\d+$/m);
  assert.match(out, /^pc\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <undefined_insn\+\d+>/m);
  assertSameRegisters(out, dump.regs, { pstate: "cpsr" });
});
