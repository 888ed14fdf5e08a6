// `rproc mount` as a process: it mounts, shows the writes it answers,
// refuses a second mount on the same directory, unmounts on SIGTERM with
// nothing left behind, and a mount left by a killed server is recovered.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fuseSkipReason, sh } from "../harness/mounted.js";
import { FW_DIR } from "../harness/interfaces.js";
import { mountedType } from "../../src/mount/mount.js";

const skip = fuseSkipReason();
const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

function startMount(dir: string): { p: ChildProcess; out: () => string; ready: Promise<void>; exit: Promise<number | null> } {
  const p = spawn(process.execPath, ["--import", "tsx", MAIN, "mount", dir, "--platform", "stm32mp157", "--firmware-dir", FW_DIR]);
  let out = "";
  let ok!: () => void;
  const ready = new Promise<void>((r) => (ok = r));
  p.stdout!.on("data", (d) => {
    out += d;
    if (out.includes("Ctrl-C to unmount")) ok();
  });
  p.stderr!.on("data", (d) => (out += d));
  const exit = new Promise<number | null>((r) => p.on("exit", (c) => r(c)));
  return { p, out: () => out, ready: Promise.race([ready, exit.then(() => undefined)]), exit };
}

test("rproc mount: serves, refuses a second mount, unmounts on SIGTERM, recovers after SIGKILL", { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "rproc-cli-mnt-"));
  try {
    const a = startMount(dir);
    await a.ready;
    assert.equal(mountedType(dir), "fuse.rproc", a.out());
    const w = await sh(`echo stm32mp15-m4.elf > ${dir}/sys/class/remoteproc/remoteproc0/firmware && echo start > ${dir}/sys/class/remoteproc/remoteproc0/state && cat ${dir}/sys/class/remoteproc/remoteproc0/state`);
    assert.equal(w.out, "running\n", w.err);
    const second = startMount(dir);
    assert.equal(await second.exit, 1);
    assert.match(second.out(), /EBUSY: .* is already served by a running `rproc mount`/);
    assert.match(a.out(), /write sys\/devices\/platform\/m4-rproc\/remoteproc\/remoteproc0\/state "start\\n" → OK/);
    a.p.kill("SIGTERM");
    assert.equal(await a.exit, 0);
    assert.match(a.out(), /unmounted .* \(SIGTERM\)/);
    assert.equal(mountedType(dir), undefined, "no mount left behind");
    // Killed with the tree mounted: the mount stays, dead (ENOTCONN); the next mount detaches it.
    const b = startMount(dir);
    await b.ready;
    b.p.kill("SIGKILL");
    await b.exit;
    assert.equal(mountedType(dir), "fuse.rproc");
    const c = startMount(dir);
    await c.ready;
    assert.match(c.out(), /stale mount .* was detached/);
    assert.equal((await sh(`cat ${dir}/sys/class/remoteproc/remoteproc0/state`)).out, "offline\n");
    c.p.kill("SIGINT");
    assert.equal(await c.exit, 0);
    assert.equal(mountedType(dir), undefined);
    assert.ok(!readFileSync("/proc/self/mountinfo", "utf8").includes(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
