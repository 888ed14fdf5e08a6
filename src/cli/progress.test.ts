import { test } from "node:test";
import * as assert from "node:assert/strict";
import { withProgress } from "./progress.js";
import type { CliIO } from "./io.js";

function io(isTTY: boolean): { io: CliIO; err: () => string } {
  let err = "";
  return { io: { stdout: () => {}, stderr: (t) => void (err += t), isTTY, cwd: "/", env: {} }, err: () => err };
}

const later = <T>(v: T, ms: number) => new Promise<T>((r) => setTimeout(() => r(v), ms));

test("progress is drawn on a terminal and erased at the end", async () => {
  const t = io(true);
  assert.equal(await withProgress(t.io, true, "waiting", later(42, 450)), 42);
  assert.match(t.err(), /^\rwaiting… 0\.0 s(\rwaiting… \d\.\d s)+\r\x1b\[K$/);
});

test("no progress when piped or for --json, and errors pass through", async () => {
  const piped = io(false);
  assert.equal(await withProgress(piped.io, true, "waiting", later(1, 10)), 1);
  const json = io(true);
  await assert.rejects(withProgress(json.io, false, "waiting", Promise.reject(new Error("boom"))), /boom/);
  assert.equal(piped.err() + json.err(), "");
});
