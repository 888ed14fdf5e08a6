// An inline dump nobody reads must not keep a process alive for devcoredump's
// 5 minutes: the timeout timer is unref'd unless inlineTimeoutKeepsAlive is
// set. Checked in child processes, since the test runner itself is busy.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const T = { timeout: 30_000 };
const url = (rel: string) => JSON.stringify(new URL(rel, import.meta.url).href);

function child(body: string): { status: number | null; ms: number; out: string } {
  const file = join(mkdtempSync(join(tmpdir(), "rproc-timers-")), "child.mts");
  writeFileSync(
    file,
    `import { makeBoard } from ${url("./helpers.ts")};
import { rprocCrashFlush } from ${url("../../src/core/crash.ts")};
import { setCoredumpSettings } from ${url("../../src/core/coredump-store.ts")};
import { RprocDumpMechanism, RprocCrashType, stateString } from ${url("../../src/core/state.ts")};
const b = makeBoard();
await b.rproc.boot();
b.rproc.dumpConf = RprocDumpMechanism.INLINE;
${body}
`,
  );
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ["--import", "tsx", file], { encoding: "utf8", timeout: 20_000, cwd: new URL("../..", import.meta.url).pathname });
  return { status: r.status, ms: Date.now() - t0, out: r.stdout + r.stderr };
}

test("an unread inline dump (default 5-minute timeout) does not keep the process alive", T, () => {
  const r = child(`b.rproc.reportCrash(RprocCrashType.WATCHDOG);
void rprocCrashFlush(b.rproc);
await new Promise((r) => setTimeout(r, 50));
console.log("dump", b.rproc.lastDump?.mode, "reader", b.rproc.lastDump?.reader?.freedBy ?? "open");`);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /dump inline reader open/);
  assert.ok(r.ms < 15_000, `exited after ${r.ms} ms`);
});

test("inlineTimeoutKeepsAlive: the process waits out the timeout and recovery completes", T, () => {
  const r = child(`setCoredumpSettings(b.rproc, { inlineTimeoutMs: 300, inlineTimeoutKeepsAlive: true });
b.rproc.reportCrash(RprocCrashType.WATCHDOG);
await rprocCrashFlush(b.rproc);
console.log("state", stateString(b.rproc.state), "freed", b.rproc.lastDump?.reader?.freedBy);`);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /state running freed timeout/);
});
