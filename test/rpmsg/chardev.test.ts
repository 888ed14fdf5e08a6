// The rpmsg_char view: what /dev/rpmsg_ctrlN and /dev/rpmsgN do, over the sim remote.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { simBoot } from "../harness/rpmsg.js";
import { RpmsgCtrl } from "../../src/rpmsg/chardev.js";
import { RprocError } from "../../src/errors.js";

const code = (c: string) => (e: unknown) => e instanceof RprocError && e.code === c;

test("CREATE_EPT then open/write/read/poll/close, single opener, truncated read, destroy", async () => {
  const { rproc, host } = await simBoot(["raw"]);
  const ch = await host.waitForChannel("rpmsg-raw", 2000);
  const ctrl = new RpmsgCtrl(host);
  const dev = ctrl.createEpt({ name: "rpmsg-raw", src: 0xffffffff, dst: ch.dst });
  assert.equal(dev.path, "/dev/rpmsg0");
  assert.equal(dev.isOpen, false, "the endpoint exists only after open");
  dev.open();
  assert.throws(() => dev.open(), code("EBUSY"));
  assert.equal(await dev.write(new TextEncoder().encode("abcdef")), 6);
  assert.deepEqual(dev.poll(), { in: true, out: true, err: false });
  assert.equal(new TextDecoder().decode(await dev.read(3)), "abc", "truncated; the rest is discarded");
  await assert.rejects(dev.read(10, { nonblock: true }), code("EAGAIN"));
  await assert.rejects(dev.write(new Uint8Array(497)), code("EMSGSIZE"));
  dev.close();
  dev.open();
  dev.destroy();
  assert.equal(ctrl.eptdevs.size, 0);
  const def = ctrl.defaultEptdev(ch.endpoint!);
  assert.throws(() => def.destroy(), code("EINVAL"));
  def.open();
  await rproc.shutdown();
  assert.deepEqual(def.poll(), { in: false, out: false, err: true });
  await assert.rejects(def.write(Uint8Array.of(1)), code("EPIPE"));
});
