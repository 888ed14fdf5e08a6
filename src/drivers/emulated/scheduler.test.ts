import { test } from "node:test";
import * as assert from "node:assert/strict";
import { SliceScheduler } from "./scheduler.js";

async function drained(s: SliceScheduler): Promise<void> {
  for (let i = 0; i < 400 && s.size > 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(s.size, 0, "scheduler drained");
}

test("slices run round robin from the event loop, never synchronously", async () => {
  const s = new SliceScheduler();
  const order: string[] = [];
  let a = 0;
  let b = 0;
  s.add({ runSlice: () => (order.push("a"), ++a < 3) });
  s.add({ runSlice: () => (order.push("b"), ++b < 5) });
  assert.deepEqual(order, [], "nothing runs synchronously");
  await drained(s);
  assert.deepEqual(order, ["a", "b", "a", "b", "a", "b", "b", "b"]);
});

test("a running core does not starve timers: a task runs until a timer stops it", async () => {
  const s = new SliceScheduler();
  let stop = false;
  let turns = 0;
  setTimeout(() => (stop = true), 5);
  s.add({ runSlice: () => (turns++, !stop) });
  await drained(s);
  assert.ok(turns > 1);
});

test("a task removed by another task's slice does not run; remove() stops a task", async () => {
  const s = new SliceScheduler();
  let ran = 0;
  const victim = { runSlice: () => (ran++, true) };
  s.add({ runSlice: () => (s.remove(victim), false) });
  s.add(victim);
  await drained(s);
  assert.equal(ran, 0);
  assert.equal(s.size, 0);
});

test("a slice that throws drops its task, tells it, and does not stop the others", async () => {
  const s = new SliceScheduler();
  let other = 0;
  const errors: unknown[] = [];
  s.add({
    runSlice: () => {
      throw new Error("boom");
    },
    onError: (e) => errors.push(e),
  });
  s.add({ runSlice: () => ++other < 3 });
  await drained(s);
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /boom/);
  assert.equal(other, 3);
  assert.equal(s.size, 0);
});
