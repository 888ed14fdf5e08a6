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
import { createRproc } from "../../src/core/create.js";
import { RprocDumpMechanism, RprocState } from "../../src/core/state.js";
import { dumpBytes } from "../../src/core/coredump-store.js";
import "../../src/drivers/emulated/index.js";
import { A53_FW, A53_PLATFORM, FIXTURES, M4_FW, fwLine, loadElf, needsUnicorn, stm32Platform, symbol } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

const hasGdb = spawnSync("gdb-multiarch", ["--version"]).status === 0;
const skip = needsUnicorn || (hasGdb ? false : "gdb-multiarch is not installed");

async function crashDump(platform: Platform, processor: string, fw: string, cmd: number): Promise<string> {
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
  await rproc.shutdown();
  return path;
}

function gdb(elf: string, core: string): string {
  const r = spawnSync("gdb-multiarch", ["-nx", "-batch", "-ex", `core-file ${core}`, "-ex", "bt", "-ex", "info registers pc", elf], {
    encoding: "utf8",
    timeout: 30_000,
    cwd: ROOT, // the debug info names fixtures/emulated/fw.c relative to the repository root
  });
  return r.stdout + r.stderr;
}

test("gdb-multiarch on an M4 dump: SIGSEGV in bad_access, backtrace to main", { skip }, async () => {
  const out = gdb(M4_FW, await crashDump(stm32Platform(), "m4", M4_FW, 1));
  const line = fwLine("FAULT-LINE: mmufault");
  assert.match(out, /Program terminated with signal SIGSEGV/);
  assert.match(out, new RegExp(`^#0  (?:0x[0-9a-f]+ in )?bad_access \\(\\) at \\S*fw\\.c:${line}$`, "m"));
  assert.match(out, new RegExp(`^${line}\\s.*FAULT-LINE: mmufault`, "m"), "gdb shows the faulting source line");
  assert.match(out, /in run_command .* at \S*fw\.c:\d+$/m);
  assert.match(out, /in main \(\) at \S*fw\.c:\d+$/m);
  assert.match(out, /^pc\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <bad_access\+\d+>/m);
});

test("gdb-multiarch on an A53 dump: SIGILL in undefined_insn, backtrace to main", { skip }, async () => {
  const out = gdb(A53_FW, await crashDump(Platform.load(A53_PLATFORM), "a53", A53_FW, 2));
  const line = fwLine("FAULT-LINE: undef");
  assert.match(out, /Program terminated with signal SIGILL/);
  assert.match(out, new RegExp(`^#0  (?:0x[0-9a-f]+ in )?undefined_insn \\(\\) at \\S*fw\\.c:${line}$`, "m"));
  assert.match(out, new RegExp(`^${line}\\s.*FAULT-LINE: undef`, "m"), "gdb shows the faulting source line");
  assert.match(out, /in main \(\) at \S*fw\.c:\d+$/m);
  assert.match(out, /^pc\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <undefined_insn\+\d+>/m);
});
