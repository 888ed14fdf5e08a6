// devcoredump's rules (spec §1.5) and /dev/remoteprocN (§1.4), in process.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { BoardTree } from "./tree.js";
import { openPath, readText, resolvePath, writeErrno, writeOnce } from "./client.js";
import { RPROC_GET_SHUTDOWN_ON_RELEASE, RPROC_SET_SHUTDOWN_ON_RELEASE } from "./cdev.js";
import { RprocDumpMechanism, RprocState } from "../core/state.js";
import { rprocCrashFlush } from "../core/crash.js";
import { makeProc } from "../../test/harness/interfaces.js";

function children(root: BoardTree["root"], path: string): string[] {
  const n = resolvePath(root, path);
  return n.kind === "dir" ? [...n.children().keys()] : [];
}

async function readAll(root: BoardTree["root"], path: string): Promise<Uint8Array> {
  const h = openPath(root, path, { read: true, write: false });
  const parts: Uint8Array[] = [];
  for (let off = 0; ; ) {
    const c = await h.read(off, 1000);
    if (c.length === 0) break;
    parts.push(Uint8Array.from(c));
    off += c.length;
  }
  return Buffer.concat(parts);
}

test("devcoredump: one dump per device until read and freed, names from devcd1, failing_device, expiry after 5 minutes", async () => {
  let now = 0;
  const r = makeProc();
  const tree = new BoardTree([r], { devcd: { now: () => now } });
  r.dumpConf = RprocDumpMechanism.ENABLED;
  await r.boot();
  r.reportCrash(0);
  await rprocCrashFlush(r);
  assert.equal(r.state, RprocState.RUNNING, "recovered");
  assert.deepEqual(children(tree.root, "sys/class/devcoredump"), ["disabled", "devcd1"]);
  const dev = `sys/devices/platform/m4-rproc/remoteproc/${r.devName}`;
  assert.ok(children(tree.root, dev).includes("devcoredump"));
  assert.equal(await readText(tree.root, `sys/class/devcoredump/devcd1/failing_device/name`), "m4\n");
  const data = await readAll(tree.root, "sys/class/devcoredump/devcd1/data");
  assert.deepEqual([...data.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
  assert.equal(data.length, r.lastDump!.size);
  // A second crash while devcd1 is unread: the new dump is discarded.
  r.reportCrash(1);
  await rprocCrashFlush(r);
  assert.deepEqual(children(tree.root, "sys/class/devcoredump"), ["disabled", "devcd1"]);
  // Any write frees it; the next dump gets devcd2.
  assert.equal(await writeErrno(tree.root, "sys/class/devcoredump/devcd1/data", "1"), "OK");
  assert.deepEqual(children(tree.root, "sys/class/devcoredump"), ["disabled"]);
  assert.ok(!children(tree.root, dev).includes("devcoredump"));
  r.reportCrash(1);
  await rprocCrashFlush(r);
  assert.deepEqual(children(tree.root, "sys/class/devcoredump"), ["disabled", "devcd2"]);
  now += 5 * 60 * 1000 - 1;
  assert.deepEqual(children(tree.root, "sys/class/devcoredump"), ["disabled", "devcd2"]);
  now += 1;
  assert.deepEqual(children(tree.root, "sys/class/devcoredump"), ["disabled"], "freed after DEVCD_TIMEOUT");
  tree.close();
});

test("devcoredump: an inline dump blocks the recovery write until its data is read and freed", async () => {
  const r = makeProc();
  const tree = new BoardTree([r]);
  await r.boot();
  r.dumpConf = RprocDumpMechanism.INLINE;
  r.recoveryDisabled = true;
  r.reportCrash(0);
  await rprocCrashFlush(r);
  const sys = `sys/class/remoteproc/${r.devName}`;
  let done = false;
  const rec = writeOnce(tree.root, `${sys}/recovery`, "recover\n").then(() => (done = true));
  for (let i = 0; i < 50 && children(tree.root, "sys/class/devcoredump").length < 2; i++) await new Promise((res) => setTimeout(res, 5));
  const [, name] = children(tree.root, "sys/class/devcoredump");
  assert.ok(name?.startsWith("devcd"));
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(done, false, "recovery waits for the inline dump");
  const data = await readAll(tree.root, `sys/class/devcoredump/${name}/data`);
  assert.equal(data.length, r.lastDump!.size);
  await writeOnce(tree.root, `sys/class/devcoredump/${name}/data`, "1");
  await rec;
  assert.equal(r.state, RprocState.RUNNING);
  tree.close();
});

test("devcoredump disabled: only 1 is accepted, write-once, frees existing dumps and drops later ones (their inline waiters complete)", async () => {
  const r = makeProc();
  const tree = new BoardTree([r]);
  const p = "sys/class/devcoredump/disabled";
  assert.equal(await readText(tree.root, p), "0\n");
  for (const w of ["0", "2", "abc", "+1", " 1", "-1"]) assert.equal(await writeErrno(tree.root, p, w), "EINVAL", w);
  assert.equal(await writeErrno(tree.root, p, "1abc"), "OK");
  assert.equal(await readText(tree.root, p), "1\n");
  assert.equal(await writeErrno(tree.root, p, "0"), "EINVAL");
  await r.boot();
  r.dumpConf = RprocDumpMechanism.INLINE;
  r.reportCrash(0);
  await rprocCrashFlush(r); // would hang on the inline dump if it were not dropped
  assert.equal(r.state, RprocState.RUNNING);
  assert.deepEqual(children(tree.root, "sys/class/devcoredump"), ["disabled"]);
  tree.close();
});

test("/dev/remoteprocN: prefix words without newline, 1..10 bytes, ioctls, shutdown on release", async () => {
  const r = makeProc();
  const tree = new BoardTree([r]);
  const dev = `dev/${r.devName}`;
  assert.equal(await writeErrno(tree.root, dev, "start\n"), "EINVAL");
  assert.equal(await writeErrno(tree.root, dev, ""), "EINVAL");
  assert.equal(await writeErrno(tree.root, dev, "startstart1"), "EINVAL");
  assert.equal(await writeErrno(tree.root, dev, "sta"), "OK");
  assert.equal(r.state, RprocState.RUNNING);
  assert.equal(await writeErrno(tree.root, dev, "s"), "OK");
  assert.equal(r.power, 2);
  assert.equal(await writeErrno(tree.root, dev, "sto"), "OK");
  assert.equal(await writeErrno(tree.root, dev, "stop"), "OK");
  assert.equal(r.state, RprocState.OFFLINE);
  assert.equal(await writeErrno(tree.root, dev, "stop"), "EINVAL");
  const h = openPath(tree.root, dev, { read: true, write: true });
  assert.throws(() => h.read(0, 10), { code: "EINVAL" });
  const one = new Uint8Array([1, 0, 0, 0]);
  assert.deepEqual(await h.ioctl!(RPROC_SET_SHUTDOWN_ON_RELEASE, one, 0), { result: 0 });
  const got = await h.ioctl!(RPROC_GET_SHUTDOWN_ON_RELEASE, new Uint8Array(0), 4);
  assert.deepEqual([...got.out!], [1, 0, 0, 0]);
  assert.throws(() => h.ioctl!(0x1234, new Uint8Array(0), 0), { code: "EINVAL" });
  await h.write(new TextEncoder().encode("start"), 0);
  assert.equal(r.state, RprocState.RUNNING);
  await h.release!();
  assert.equal(r.state, RprocState.OFFLINE, "auto shutdown on close");
  // The flag is per processor: a new open sees it.
  const h2 = openPath(tree.root, dev, { read: false, write: true });
  assert.deepEqual([...(await h2.ioctl!(RPROC_GET_SHUTDOWN_ON_RELEASE, new Uint8Array(0), 4)).out!], [1, 0, 0, 0]);
  await h2.release!();
  tree.close();
});
