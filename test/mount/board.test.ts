// rproc board against the tree rproc mount serves (the loop closes without
// hardware), and its read paths against a plain directory laid out like a board.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.js";
import type { CliIO } from "../../src/cli/io.js";
import { SysfsBoard } from "../../src/board/sysfs-board.js";
import { fuseSkipReason, mountBoard } from "../harness/mounted.js";
import { FW, FW_DIR, makeProc } from "../harness/interfaces.js";
import { RprocState } from "../../src/core/state.js";

const skip = fuseSkipReason();

async function cli(args: string[], cwd = process.cwd()): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), isTTY: false, cwd, env: {} };
  const code = await main(["board", ...args], io);
  return { code, out, err };
}

test("rproc board drives the mounted tree: list, firmware placement, start, trace, crash by polling, coredump, stop, errnos", { skip, timeout: 30_000 }, async () => {
  const r = makeProc();
  const b = mountBoard([r]);
  const fwDir = mkdtempSync(join(tmpdir(), "rproc-board-fw-"));
  r.searchPath = [fwDir];
  try {
    const root = ["--root", b.dir];
    const l = await cli(["list", ...root, "--json"]);
    assert.equal(l.code, 0, l.err);
    const j = JSON.parse(l.out);
    assert.equal(j.processors[0].name, "m4");
    assert.equal(j.processors[0].state, "offline");
    assert.equal(j.processors[0].parent, "m4-rproc");
    assert.equal(j.processors[0].cdev, join(b.dir, "dev", r.devName));
    const f = await cli(["firmware", "m4", join(FW_DIR, FW), "--firmware-dir", fwDir, ...root, "--json"]);
    assert.equal(f.code, 0, f.err);
    const placed = JSON.parse(f.out).firmware as string;
    assert.match(placed, /^stm32mp15-m4\.elf\.rproc-\d+$/);
    assert.deepEqual(readFileSync(join(fwDir, placed)), readFileSync(join(FW_DIR, FW)));
    const s = await cli(["start", "m4", ...root]);
    assert.equal(s.code, 0, s.err);
    assert.equal(s.out, `${r.devName}: running\n`);
    assert.equal(r.state, RprocState.RUNNING);
    // The kernel's answers come back as typed errors with exit 1.
    const busy = await cli(["firmware", r.devName, join(FW_DIR, FW), "--firmware-dir", fwDir, ...root]);
    assert.equal(busy.code, 1);
    assert.match(busy.err, /EBUSY/);
    assert.match((await cli(["trace", "m4", ...root])).out, /started/);
    const board = new SysfsBoard(b.dir);
    await board.setCoredump(r.devName, "enabled");
    await board.setRecovery(r.devName, "disabled");
    r.reportCrash(1);
    assert.equal(await board.waitState(r.devName, ["crashed"]), "crashed");
    await board.setRecovery(r.devName, "recover");
    assert.equal(await board.state(r.devName), "running");
    const core = join(fwDir, "core.elf");
    const c = await cli(["coredump", "m4", "-o", core, ...root, "--json"]);
    assert.equal(c.code, 0, c.err);
    assert.deepEqual([...readFileSync(core).subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
    assert.equal((await board.status(r.devName)).devcoredump, undefined, "freed after reading");
    assert.equal((await cli(["coredump", "m4", "-o", core, ...root])).code, 1);
    assert.equal((await cli(["stop", "m4", ...root])).code, 0);
    const again = await cli(["stop", "m4", ...root, "--json"]);
    assert.equal(again.code, 1);
    assert.equal(JSON.parse(again.out).error.code, "EINVAL");
    assert.equal((await cli(["status", "nope", ...root])).code, 1);
    assert.equal((await cli(["bogus", ...root])).code, 2);
  } finally {
    await b.close();
    rmSync(fwDir, { recursive: true, force: true });
  }
});

test("rproc board read paths against a plain directory laid out like a board", async () => {
  const root = mkdtempSync(join(tmpdir(), "rproc-board-dir-"));
  try {
    const dev = join(root, "sys/devices/platform/soc/10000000.m4/remoteproc/remoteproc0");
    mkdirSync(dev, { recursive: true });
    mkdirSync(join(root, "sys/class/remoteproc"), { recursive: true });
    symlinkSync("../../devices/platform/soc/10000000.m4/remoteproc/remoteproc0", join(root, "sys/class/remoteproc/remoteproc0"));
    writeFileSync(join(dev, "name"), "m4\n");
    writeFileSync(join(dev, "state"), "running\n\0");
    writeFileSync(join(dev, "firmware"), "rproc-m4-fw\n");
    mkdirSync(join(root, "sys/kernel/debug/remoteproc/remoteproc0"), { recursive: true });
    writeFileSync(join(root, "sys/kernel/debug/remoteproc/remoteproc0/trace0"), "hello from m4\n");
    const l = await cli(["list", "--root", root]);
    assert.equal(l.code, 0, l.err);
    assert.match(l.out, /^remoteproc0\s+m4\s+running\s+firmware rproc-m4-fw$/m);
    const st = JSON.parse((await cli(["status", "m4", "--root", root, "--json"])).out);
    assert.equal(st.parent, "10000000.m4");
    assert.equal(st.cdev, undefined);
    assert.equal((await cli(["trace", "m4", "--root", root])).out, "hello from m4\n");
    const none = await cli(["list", "--root", join(root, "nope"), "--json"]);
    assert.equal(none.code, 1);
    assert.equal(JSON.parse(none.out).error.code, "ENOENT");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
