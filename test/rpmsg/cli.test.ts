// rproc rpmsg end to end, in process.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { main } from "../../src/cli/main.js";
import type { CliIO } from "../../src/cli/io.js";
import { ROOT, fixture } from "../harness/setup.js";

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), isTTY: false, cwd: ROOT, env: {} };
  const code = await main(["rpmsg", ...args], io);
  return { code, out, err };
}

test("rproc rpmsg --json: the issue's shape, channel bound to rpmsg_tty, hello answered", async () => {
  const r = await cli([fixture("stm32mp15-m4.elf"), "--platform", "stm32mp157", "--send", "hello", "--send-hex", "00ff", "--to", "rpmsg-tty", "--json"]);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  for (const k of ["platform", "processor", "firmware", "state", "vdevs", "channels", "messages", "error"]) assert.ok(k in j, k);
  assert.equal(j.state, "running");
  assert.equal(j.error, null);
  const v = j.vdevs[0];
  assert.deepEqual([v.index, v.id, v.status, v.dfeatures, v.gfeatures], [0, 7, 7, 1, 1]);
  assert.deepEqual(v.vrings.map((q: { role: string; notifyid: number; num: number }) => [q.role, q.notifyid, q.num]), [["rx", 0, 16], ["tx", 1, 16]]);
  assert.deepEqual(v.buffers, { da: 0x10042000, pa: 0x10042000, count: 32, size: 512 });
  assert.deepEqual(j.channels, [{ name: "rpmsg-tty", src: 0x400, dst: 0x400, driver: "rpmsg_tty" }]);
  const talk = j.messages.filter((m: { dst: number }) => m.dst !== 53);
  assert.deepEqual(talk.map((m: { direction: string; text: string | null; hex: string }) => [m.direction, m.text, m.hex]), [
    ["tx", "hello", "68656c6c6f"],
    ["rx", "hello", "68656c6c6f"],
    ["tx", null, "00ff"],
    ["rx", null, "00ff"],
  ]);
});

test("rproc rpmsg: a channel nobody announces fails with 1, bad options with 2, an oversized message with 1", async () => {
  const none = await cli([fixture("stm32mp15-m4.elf"), "--platform", "stm32mp157", "--send", "x", "--to", "rpmsg-raw", "--wait-ms", "50", "--json"]);
  assert.equal(none.code, 1);
  assert.equal(JSON.parse(none.out).error.code, "ETIMEDOUT");
  assert.equal((await cli([fixture("stm32mp15-m4.elf"), "--platform", "stm32mp157", "--send-hex", "zz"])).code, 2);
  assert.equal((await cli([fixture("stm32mp15-m4.elf"), "--platform", "stm32mp157", "--driver", "qemu"])).code, 2);
  const big = await cli([fixture("stm32mp15-m4.elf"), "--platform", "stm32mp157", "--send", "x".repeat(497)]);
  assert.equal(big.code, 1);
  assert.match(big.err, /EMSGSIZE/);
  const human = await cli([fixture("stm32mp15-m4.elf"), "--platform", "stm32mp157", "--send", "hi"]);
  assert.equal(human.code, 0, human.err);
  assert.match(human.out, /channel rpmsg-tty: src 0x400 dst 0x400 driver rpmsg_tty/);
  assert.match(human.out, /<- 0x400 -> 0x400 2 B "hi"/);
});
