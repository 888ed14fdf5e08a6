// The interface layer in process, against the tables of spec §1.2–§1.5: for
// every attribute and every processor state, what a read shows and which
// errno a write gets, through the same nodes the FUSE server serves.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { BoardTree } from "./tree.js";
import { readText, resolvePath, writeErrno, writeOnce, openPath } from "./client.js";
import { RprocState } from "../core/state.js";
import { rprocCrashFlush } from "../core/crash.js";
import { bringTo, makeProc } from "../../test/harness/interfaces.js";

type St = "offline" | "running" | "crashed" | "attached" | "detached";

async function setup(state: St, quirks = {}) {
  const r = makeProc({ attached: state === "attached" || state === "detached" });
  const tree = new BoardTree([r], { quirks });
  await bringTo(r, state);
  const sys = `sys/class/remoteproc/${r.devName}`;
  const dbg = `sys/kernel/debug/remoteproc/${r.devName}`;
  return { r, tree, root: tree.root, sys, dbg };
}

/** [state, attribute, written bytes, errno, state afterwards, power afterwards] */
const STATE_ROWS: [St, string, string, string, string, number][] = [
  ["offline", "state", "start\n", "OK", "running", 1],
  ["offline", "state", "start", "OK", "running", 1],
  ["offline", "state", "stop\n", "EINVAL", "offline", 0],
  ["offline", "state", "detach\n", "EINVAL", "offline", 0],
  ["offline", "state", "Start\n", "EINVAL", "offline", 0],
  ["offline", "state", " start", "EINVAL", "offline", 0],
  ["offline", "state", "start\n\n", "EINVAL", "offline", 0],
  ["offline", "state", "bogus", "EINVAL", "offline", 0],
  ["running", "state", "start\n", "OK", "running", 2],
  ["running", "state", "stop\n", "OK", "offline", 0],
  ["running", "state", "detach\n", "EINVAL", "running", 1],
  ["crashed", "state", "start\n", "OK", "crashed", 2],
  ["crashed", "state", "stop\n", "EINVAL", "crashed", 1],
  ["detached", "state", "start\n", "OK", "attached", 1],
  ["detached", "state", "stop\n", "EINVAL", "detached", 0],
  ["attached", "state", "detach\n", "OK", "detached", 0],
  ["attached", "state", "stop\n", "OK", "offline", 0],
  ["attached", "state", "start\n", "OK", "attached", 2],
];

for (const [st, attr, data, want, after, power] of STATE_ROWS) {
  test(`${st}: write ${JSON.stringify(data)} > ${attr} → ${want}, then ${after} (power ${power})`, async () => {
    const { r, root, sys } = await setup(st);
    assert.equal(await writeErrno(root, `${sys}/${attr}`, data), want);
    assert.equal(await readText(root, `${sys}/state`), `${after}\n`);
    assert.equal(r.power, power);
  });
}

test("state: start on a deleted processor is ENODEV; pre-2022 kernels answer EBUSY on a running one; pre-5.13 know no detach", async () => {
  const a = await setup("offline");
  a.r.state = RprocState.DELETED;
  assert.equal(await writeErrno(a.root, `${a.sys}/state`, "start\n"), "ENODEV");
  const b = await setup("running", { startBusyWhenRunning: true });
  assert.equal(await writeErrno(b.root, `${b.sys}/state`, "start\n"), "EBUSY");
  assert.equal(b.r.power, 1);
  const c = await setup("attached", { noDetach: true });
  assert.equal(await writeErrno(c.root, `${c.sys}/state`, "detach\n"), "EINVAL");
});

test("firmware: EBUSY unless offline, EINVAL when empty, cut at the first newline, `unknown` while attached", async () => {
  for (const st of ["running", "crashed", "attached", "detached"] as St[]) {
    const s = await setup(st);
    assert.equal(await writeErrno(s.root, `${s.sys}/firmware`, "other.elf\n"), "EBUSY", st);
    assert.equal(await readText(s.root, `${s.sys}/firmware`), st === "attached" ? "unknown\n" : "stm32mp15-m4.elf\n", st);
  }
  const s = await setup("offline");
  assert.equal(await writeErrno(s.root, `${s.sys}/firmware`, "\n"), "EINVAL");
  assert.equal(await writeErrno(s.root, `${s.sys}/firmware`, "a\nb"), "OK");
  assert.equal(await readText(s.root, `${s.sys}/firmware`), "a\n");
  // request_firmware refuses '..' components at start (EINVAL), whatever the directories hold.
  assert.equal(await writeErrno(s.root, `${s.sys}/firmware`, "../firmware/stm32mp15-m4.elf"), "OK");
  assert.equal(await writeErrno(s.root, `${s.sys}/state`, "start"), "EINVAL");
  assert.equal(await writeErrno(s.root, `${s.sys}/firmware`, "missing.elf"), "OK");
  assert.equal(await writeErrno(s.root, `${s.sys}/state`, "start"), "ENOENT");
  assert.equal(s.r.state, RprocState.OFFLINE);
});

test("coredump: EBUSY while crashed even for a bad word; words by sysfs_streq otherwise", async () => {
  const c = await setup("crashed");
  assert.equal(await writeErrno(c.root, `${c.sys}/coredump`, "enabled\n"), "EBUSY");
  assert.equal(await writeErrno(c.root, `${c.sys}/coredump`, "bogus\n"), "EBUSY");
  const o = await setup("offline");
  assert.equal(await readText(o.root, `${o.sys}/coredump`), "disabled\n");
  assert.equal(await writeErrno(o.root, `${o.sys}/coredump`, "inline\n"), "OK");
  assert.equal(await readText(o.root, `${o.sys}/coredump`), "inline\n");
  assert.equal(await writeErrno(o.root, `${o.sys}/coredump`, "i"), "EINVAL");
  assert.equal(await writeErrno(o.root, `${o.sys}/coredump`, "default"), "EINVAL");
});

test("recovery: a recover write returns once the processor runs again; disabled/enabled; bad words", async () => {
  const c = await setup("crashed");
  assert.equal(await readText(c.root, `${c.sys}/recovery`), "disabled\n");
  assert.equal(await writeErrno(c.root, `${c.sys}/recovery`, "recover\n"), "OK");
  assert.equal(await readText(c.root, `${c.sys}/state`), "running\n");
  assert.equal(await readText(c.root, `${c.sys}/recovery`), "disabled\n");
  assert.equal(await writeErrno(c.root, `${c.sys}/recovery`, "enabled\n"), "OK");
  assert.equal(await readText(c.root, `${c.sys}/recovery`), "enabled\n");
  assert.equal(await writeErrno(c.root, `${c.sys}/recovery`, "e"), "EINVAL");
  // Recovery of a processor that is not crashed does nothing and still succeeds.
  const o = await setup("offline");
  assert.equal(await writeErrno(o.root, `${o.sys}/recovery`, "recover"), "OK");
  assert.equal(o.r.state, RprocState.OFFLINE);
});

test("read-only sysfs files: EACCES at open for writing, even for root; sysfs_read_only makes the rw ones 0444", async () => {
  const s = await setup("running");
  for (const f of ["name", "dev"]) assert.equal(await writeErrno(s.root, `${s.sys}/${f}`, "x"), "EACCES", f);
  assert.equal(await readText(s.root, `${s.sys}/name`), "m4\n");
  assert.match(await readText(s.root, `${s.sys}/dev`), /^\d+:\d+\n$/);
  const ro = await setup("offline", { sysfsReadOnly: true });
  for (const f of ["state", "firmware", "recovery", "coredump"]) assert.equal(await writeErrno(ro.root, `${ro.sys}/${f}`, "start"), "EACCES", f);
});

test("kernfs cuts a write at PAGE_SIZE: a 5000-byte name stores 4096 bytes and the write returns 4096", async () => {
  const s = await setup("offline");
  const long = "f".repeat(5000);
  assert.equal(await writeOnce(s.root, `${s.sys}/firmware`, long), 4096);
  assert.equal(s.r.firmware.length, 4096);
  assert.equal(await writeErrno(s.root, `${s.sys}/state`, "start" + " ".repeat(5000)), "EINVAL");
});

test("reads are per-open snapshots: a handle opened before a boot keeps showing offline", async () => {
  const s = await setup("offline");
  const h = openPath(s.root, `${s.sys}/state`, { read: true, write: false });
  assert.equal(Buffer.from(await h.read(0, 100)).toString(), "offline\n");
  await s.r.boot();
  assert.equal(Buffer.from(await h.read(0, 100)).toString(), "offline\n");
  assert.equal(await readText(s.root, `${s.sys}/state`), "running\n");
});

test("debugfs: prefix words, crash takes a number, coredump EBUSY while crashed and a 20-byte limit, root may open 0400 for writing", async () => {
  const s = await setup("running");
  const d = s.dbg;
  assert.equal(await readText(s.root, `${d}/name`), "m4\n");
  assert.equal(await writeErrno(s.root, `${d}/name`, "x"), "EINVAL"); // no kernfs check, no write op
  assert.equal(await writeErrno(s.root, `${d}/recovery`, "d"), "OK");
  assert.equal(await readText(s.root, `${d}/recovery`), "disabled\n");
  assert.equal(await writeErrno(s.root, `${d}/recovery`, "x"), "EINVAL");
  assert.equal(await writeErrno(s.root, `${d}/recovery`, "enabledXXXX"), "EINVAL");
  assert.equal(await writeErrno(s.root, `${d}/coredump`, "i"), "OK");
  assert.equal(await readText(s.root, `${d}/coredump`), "inline\n");
  assert.equal(await writeErrno(s.root, `${d}/coredump`, "x".repeat(21)), "EINVAL");
  assert.equal(await writeErrno(s.root, `${d}/coredump`, "d"), "OK");
  assert.equal(await writeErrno(s.root, `${d}/crash`, "watchdog"), "EINVAL");
  assert.equal(await writeErrno(s.root, `${d}/crash`, "0x100000000"), "ERANGE");
  assert.equal(await writeErrno(s.root, `${d}/crash`, "0x1\n"), "OK");
  await rprocCrashFlush(s.r);
  assert.equal(s.r.state, RprocState.CRASHED); // recovery was disabled above
  assert.equal(await writeErrno(s.root, `${d}/coredump`, "enabled"), "EBUSY");
  assert.equal(await writeErrno(s.root, `${d}/coredump`, "x".repeat(21)), "EINVAL"); // count checked first
  assert.equal(await writeErrno(s.root, `${d}/recovery`, "r"), "OK");
  assert.equal(s.r.state, RprocState.RUNNING);
  assert.equal(await writeErrno(s.root, `${d}/crash`, "7"), "OK"); // any number is reported ("unknown")
  await rprocCrashFlush(s.r);
  const o = await setup("offline");
  assert.equal(await writeErrno(o.root, `${o.dbg}/crash`, "1"), "OK"); // queued, ignored while offline
  await rprocCrashFlush(o.r);
  assert.equal(o.r.state, RprocState.OFFLINE);
});

test("debugfs texts: resource_table and carveout_memories byte for byte, trace0 from boot until shutdown and across a crash", async () => {
  const s = await setup("offline");
  const d = s.dbg;
  assert.equal(await readText(s.root, `${d}/resource_table`), "No resource table found\n");
  assert.equal(await readText(s.root, `${d}/carveout_memories`), "");
  assert.throws(() => resolvePath(s.root, `${d}/trace0`), { code: "ENOENT" });
  await s.r.boot();
  // The fixture's table (fixtures/firmware/stm32mp15-m4.c): one vdev with two 16-entry vrings, one trace.
  const vring = (j: number, da: string) =>
    `  Vring ${j}\n    Device Address ${da}\n    Alignment 16\n    Number of buffers 16\n    Notify ID ${j}\n    Physical Address 0x0\n\n`;
  assert.equal(
    await readText(s.root, `${d}/resource_table`),
    "Entry 0 is of type vdev\n  ID 7\n  Notify ID 0\n  Device features 0x1\n  Guest features 0x1\n  Config length 0x0\n  Status 0x7\n" +
      "  Number of vrings 2\n  Reserved (should be zero) [0][0]\n\n" +
      vring(0, "0x10040000") +
      vring(1, "0x10041000") +
      "Entry 1 is of type trace\n  Device Address 0x1000008c\n  Length 0x400 Bytes\n  Reserved (should be zero) [0]\n  Name cm4_log\n\n",
  );
  const carve = await readText(s.root, `${d}/carveout_memories`);
  assert.match(carve, /^Carveout memory entry:\n\tName: retram\n\tVirtual address: 0{16}\n\tDMA address: 0x0000000038000000\n\tDevice address: 0x0\n\tLength: 0x10000 Bytes\n\n/);
  assert.equal(carve.split("Carveout memory entry:\n").length - 1, s.r.carveouts.length);
  assert.match(await readText(s.root, `${d}/trace0`), /started/);
  s.r.recoveryDisabled = true;
  s.r.reportCrash(0);
  await rprocCrashFlush(s.r);
  assert.match(await readText(s.root, `${d}/trace0`), /started/, "kept across a crash");
  await s.r.triggerRecovery();
  await s.r.shutdown();
  assert.throws(() => resolvePath(s.root, `${d}/trace0`), { code: "ENOENT" }, "removed by rproc_resource_cleanup");
});

test("tree layout: class entries are symlinks into sys/devices/platform, bus/platform too", async () => {
  const s = await setup("offline");
  const cls = resolvePath(s.tree.root, "sys/class/remoteproc");
  assert.equal(cls.kind, "dir");
  const entry = cls.kind === "dir" ? cls.children().get(s.r.devName) : undefined;
  assert.deepEqual(entry, { kind: "link", target: `../../devices/platform/m4-rproc/remoteproc/${s.r.devName}` });
  assert.equal(await readText(s.root, `sys/devices/platform/m4-rproc/remoteproc/${s.r.devName}/name`), "m4\n");
  assert.equal(await readText(s.root, `sys/bus/platform/devices/m4-rproc/remoteproc/${s.r.devName}/device/remoteproc/${s.r.devName}/name`), "m4\n");
  assert.equal(await readText(s.root, `sys/class/remoteproc/${s.r.devName}/subsystem/${s.r.devName}/state`), "offline\n");
});

test("firmware_class path: searched first, 255 characters at most, a trailing newline stripped (v6.4) or kept (older)", async () => {
  const s = await setup("offline");
  const p = "sys/module/firmware_class/parameters/path";
  assert.equal(await readText(s.root, p), "\n");
  assert.equal(await writeErrno(s.root, p, "/nonexistent/dir\n"), "OK");
  assert.equal(s.r.searchPath[0], "/nonexistent/dir");
  assert.equal(await writeErrno(s.root, p, "x".repeat(256)), "ENOSPC");
  const old = await setup("offline", { keepPathNewline: true });
  await writeOnce(old.root, p, "/d\n");
  assert.equal(old.r.searchPath[0], "/d\n");
});
