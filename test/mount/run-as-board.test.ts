// rproc run-as-board: an unmodified shell script that hard-codes /sys and /dev
// paths drives the served processors; the host's /sys and /dev stay as they were.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fuseSkipReason, mountBoard, sh } from "../harness/mounted.js";
import { makeProc } from "../harness/interfaces.js";
import { RprocState } from "../../src/core/state.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const skip = fuseSkipReason() ?? (existsSync("/usr/bin/unshare") ? undefined : "skipped: util-linux unshare is missing");

test("run-as-board: /sys/class/remoteproc, debugfs and /dev/remoteprocN are the served ones, inside only", { skip, timeout: 60_000 }, async () => {
  const r = makeProc();
  const b = mountBoard([r]);
  const n = r.devName;
  try {
    const hostHad = existsSync("/sys/class/remoteproc");
    const script = [
      `cat /sys/class/remoteproc/${n}/name`,
      `echo start > /sys/class/remoteproc/${n}/state`,
      `cat /sys/class/remoteproc/${n}/state`,
      `head -c 7 /sys/kernel/debug/remoteproc/${n}/trace0; echo`,
      `printf stop > /dev/${n}`,
      `cat /sys/class/remoteproc/${n}/state`,
      `echo bogus > /sys/class/remoteproc/${n}/state 2>/dev/null || echo refused`,
      `echo ok > /dev/null && echo devnull`,
    ].join("; ");
    const res = await sh(`${JSON.stringify(process.execPath)} --import tsx ${MAIN} run-as-board ${b.dir} -- sh -c '${script}'`, { timeoutMs: 50_000 });
    assert.equal(res.code, 0, res.err);
    assert.equal(res.out, "m4\nrunning\n[rproc-\noffline\nrefused\ndevnull\n");
    assert.equal(r.state, RprocState.OFFLINE);
    assert.equal(existsSync("/sys/class/remoteproc"), hostHad, "host /sys unchanged");
    assert.equal(existsSync(`/dev/${n}`), false, "nothing created in the host's /dev");
    const notServed = await sh(`${JSON.stringify(process.execPath)} --import tsx ${MAIN} run-as-board /tmp -- true`);
    assert.equal(notServed.code, 1);
    assert.match(notServed.err, /is not served by `rproc mount`/);
  } finally {
    await b.close();
  }
});
