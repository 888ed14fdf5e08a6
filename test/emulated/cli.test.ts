// `rproc boot FW --platform P --driver emulated`: the firmware's own trace output, --json, exit codes.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { main } from "../../src/cli/main.js";
import { ROOT, needsUnicorn, runCli } from "./helpers.js";

const rproc = (args: string[]) => runCli(main, args);

test("rproc boot --driver emulated shows the M4 firmware's own trace on stm32mp157", { skip: needsUnicorn }, async () => {
  const r = await rproc(["boot", "fixtures/emulated/fw-m4-stm32mp157.elf", "--platform", "stm32mp157", "--driver", "emulated"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /\| rproc emulated fixture cortex-m4\/stm32mp157 up\n/);
  assert.match(r.out, /\| vdev status 0x00000007 vring0 da 0x10040000 notifyid 0x00000000 vring1 da 0x10041000 notifyid 0x00000001\n/);
  assert.match(r.out, /\| kick vq0x00000000\n/);
  // The firmware feeds the bundled platform's watchdog model (at WWDG1's address): modelled, so nothing is reported.
  assert.doesNotMatch(r.out, /emulated-unmodelled-mmio/);
  assert.match(r.out, /state: running \(shut down after the dry run: offline\)/);
});

test("rproc boot --json on a platform whose processor names the emulated driver (A53)", { skip: needsUnicorn }, async () => {
  const r = await rproc(["boot", "fixtures/emulated/fw-a53-emu.elf", "--platform", "fixtures/emulated/emu-a53.json", "--json", "--run-ms", "100"]);
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out);
  assert.equal(report.state, "running");
  assert.equal(report.finalState, "offline");
  assert.match(report.traces[0].text, /^rproc emulated fixture cortex-a53\/emu-a53 up\nvdev status 0x00000007 vring0 da 0x81000000/);
  assert.ok(report.events.some((e: { step: string }) => e.step === "emulated_start"));
});

test("rproc boot --run-ms must be a number (usage error)", async () => {
  const r = await rproc(["boot", "fixtures/emulated/fw-m4-stm32mp157.elf", "--platform", "stm32mp157", "--driver", "emulated", "--run-ms", "soon"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--run-ms soon: not a non-negative integer/);
});

test("without libunicorn2 (the library path points at a missing file): exit 1, the message names the Debian package, no stack trace", () => {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", "src/cli/main.ts", "boot", "fixtures/emulated/fw-m4-stm32mp157.elf", "--platform", "stm32mp157", "--driver", "emulated"],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, RPROC_UNICORN_LIB: "/nonexistent/libunicorn.so.2" }, timeout: 60_000 },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /ENODEV at start: emulated driver needs the Unicorn 2 library \(\/nonexistent\/libunicorn\.so\.2\): install the Debian package libunicorn2/);
  assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at /);
});
