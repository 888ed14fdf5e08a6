// `rproc crash FW --driver emulated --fault ...`: the firmware itself crashes
// (through the fixture's command word), the CLI shows the crash type, PC,
// faulting address, registers, coredump (with NT_PRSTATUS) and recovery, and
// gdb-multiarch reads the written core down to the faulting line.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../../src/cli/command.js";
import { command } from "../../src/cli/commands/crash.js";
import type { CliIO } from "../../src/cli/io.js";

const run = (argv: string[], io: CliIO): Promise<number> => runCommand(command, argv, io);
import { defaultScheduler } from "../../src/drivers/emulated/index.js";
import { M4_FW, R5_FW, ROOT, fwLine, needsUnicorn, runCli } from "./helpers.js";

const hasGdb = spawnSync("gdb-multiarch", ["--version"]).status === 0;
const crash = (args: string[]) => runCli(run, args);

test("M4 --fault mmufault: crash type, PC, address, registers, dump with NT_PRSTATUS, recovery; gdb shows the faulting line", { skip: needsUnicorn }, async () => {
  const core = join(mkdtempSync(join(tmpdir(), "rproc-emu-crash-")), "core.elf");
  const r = await crash([M4_FW, "--platform", "stm32mp157", "--driver", "emulated", "--fault", "mmufault", "-o", core, "--json"]);
  assert.equal(r.code, 0, r.err + r.out);
  const j = JSON.parse(r.out);
  assert.equal(j.driver, "emulated");
  assert.equal(j.crash.type, "mmufault");
  assert.equal(j.crash.crashCnt, 1);
  assert.equal(j.fault.kind, "mmufault");
  assert.equal(j.fault.address, "0x60000000");
  assert.equal(j.fault.access, "read");
  assert.equal(j.fault.registers.r15, j.fault.pc);
  assert.equal(j.dump.prstatus.r15, j.fault.pc, "the dump's NT_PRSTATUS note has the faulting PC");
  assert.equal(j.state, "running", "recovered");
  assert.ok(existsSync(core));
  assert.equal(defaultScheduler.size, 0, "the CLI stops the recovered core");
  if (!hasGdb) return;
  const g = spawnSync("gdb-multiarch", ["-nx", "-batch", "-ex", "bt", M4_FW, core], { cwd: ROOT, encoding: "utf8", timeout: 30_000 });
  const out = g.stdout + g.stderr;
  assert.match(out, /Program terminated with signal SIGSEGV/);
  assert.match(out, new RegExp(`^#0  (?:0x[0-9a-f]+ in )?bad_access \\(\\) at \\S*fw\\.c:${fwLine("FAULT-LINE: mmufault")}$`, "m"), out);
  assert.match(out, /in main \(\) at \S*fw\.c:\d+$/m);
});

test("M4 --fault watchdog on the bundled stm32mp157: a watchdog crash from its watchdog model, recovered (text output)", { skip: needsUnicorn }, async () => {
  const r = await crash([M4_FW, "--platform", "stm32mp157", "--driver", "emulated", "--fault", "watchdog"]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /^crash: watchdog in m4 \(crash #1\)/m);
  assert.match(r.out, /^fault: watchdog at pc 0x[0-9a-f]+: .*watchdog not refreshed for more than 5000000 instructions/m);
  assert.match(r.out, /^\s+r0 0x[0-9a-f]+ .* r3 0x[0-9a-f]+$/m, "the registers are shown");
  assert.match(r.out, /^coredump: enabled, \d+ bytes, 5 segment\(s\), registers in an NT_PRSTATUS note/m);
  assert.match(r.out, /^state: running \(expected running\)$/m);
});

test("am64x R5F --fault mmufault: crash and recovery through the emulated driver; no dump, and the CLI says why", { skip: needsUnicorn }, async () => {
  // ti_k3_r5 disables recovery by default (its probe); this test asks for it, as the sysfs word would.
  const r = await crash([R5_FW, "--platform", "am64x", "--driver", "emulated", "--fault", "mmufault", "--recovery", "enabled", "--json"]);
  assert.equal(r.code, 0, r.err + r.out);
  const j = JSON.parse(r.out);
  assert.equal(j.processor, "r5f0_0");
  assert.equal(j.crash.type, "mmufault");
  assert.equal(j.fault.address, "0x60000000");
  assert.equal(j.state, "running");
  assert.equal(j.dump, null);
  assert.match(j.noDump, /registers no coredump segments/);
  const text = await crash([R5_FW, "--platform", "am64x", "--driver", "emulated", "--fault", "undef", "--recovery", "enabled", "-o", join(tmpdir(), "rproc-never-written.elf")]);
  assert.equal(text.code, 1, "asked for a file that cannot be written");
  assert.match(text.out, /^crash: fatal error in r5f0_0/m);
  assert.match(text.out, /^coredump: none: r5f0_0's driver registers no coredump segments/m);
  assert.match(text.out, /^nothing written to .*: there is no dump$/m);
  assert.match(text.out, /^state: running \(expected running\)$/m);
});

test("--fault usage errors: a firmware without the command word, the simulated driver, --type with emulated", async () => {
  const noCmd = await crash(["fixtures/firmware/stm32mp15-m4.elf", "--platform", "stm32mp157", "--driver", "emulated", "--fault", "undef"]);
  assert.equal(noCmd.code, 2);
  assert.match(noCmd.err, /has no command word fw_cmd .*cannot be made to crash on request/);
  const sim = await crash([M4_FW, "--platform", "stm32mp157", "--fault", "mmufault"]);
  assert.equal(sim.code, 2);
  assert.match(sim.err, /needs --driver emulated/);
  const typed = await crash([M4_FW, "--platform", "stm32mp157", "--driver", "emulated", "--type", "watchdog"]);
  assert.equal(typed.code, 2);
  const bad = await crash([M4_FW, "--platform", "stm32mp157", "--driver", "emulated", "--fault", "boom"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--fault boom: one of mmufault, undef, watchdog/);
  for (const r of [noCmd, sim, typed, bad]) assert.doesNotMatch(r.err + r.out, /\n\s+at /);
});

test("no crash within --wait-ms: exit 1, and the report does not read as a crash", { skip: needsUnicorn }, async () => {
  const r = await crash([M4_FW, "--platform", "stm32mp157", "--driver", "emulated", "--wait-ms", "200"]);
  assert.equal(r.code, 1, r.err);
  assert.match(r.out, /no crash: the processor did not crash within 200 ms/);
  assert.doesNotMatch(r.out, /crash: \S+ in m4/);
  const j = await crash([M4_FW, "--platform", "stm32mp157", "--driver", "emulated", "--wait-ms", "200", "--json"]);
  assert.equal(j.code, 1);
  const report = JSON.parse(j.out);
  assert.equal(report.crash.injected, false);
  assert.equal(report.error.code, "ETIMEDOUT");
});
