// Fault injection in the rpmsg probe and traffic: each failure is contained (FAILED status, a
// diagnostic, no leak), as virtio_dev_probe and rpmsg_probe contain it.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Platform } from "../../src/platform/platform.js";
import { fixture, makeRproc } from "../harness/setup.js";
import { leftovers } from "../harness/fault.js";
import { attachRpmsg } from "../../src/rpmsg/host.js";
import { remoteServices, rpmsgRemoteBehaviour } from "../../src/rpmsg/remote/sim.js";
import { PoolAllocator } from "../../src/platform/allocator.js";
import { RprocError } from "../../src/errors.js";
import { RprocVirtioDevice } from "../../src/core/virtio-device.js";
import { RprocState } from "../../src/core/state.js";

type Step = "findVqs" | "allocCoherent" | "ready" | "kick";

async function withFault(step: Step) {
  const behaviour = rpmsgRemoteBehaviour(remoteServices(["tty"]));
  const { rproc, events } = makeRproc(Platform.load("stm32mp157"), fixture("stm32mp15-m4.elf"), { driver: "sim", driverOptions: { behaviour } });
  const host = attachRpmsg(rproc);
  const proto = RprocVirtioDevice.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const restore: (() => void)[] = [];
  const fail = (obj: Record<string, (...a: unknown[]) => unknown>, name: string) => {
    const orig = obj[name]!;
    obj[name] = () => {
      throw new RprocError("ENOMEM", `injected failure in ${name}`);
    };
    restore.push(() => (obj[name] = orig));
  };
  if (step === "findVqs") fail(proto, "findVqs");
  if (step === "allocCoherent") fail(PoolAllocator.prototype as unknown as Record<string, (...a: unknown[]) => unknown>, "allocCoherent");
  if (step === "ready") fail(proto, "ready");
  const ops = rproc.ops as { kick?: (...a: unknown[]) => void };
  if (step === "kick") {
    const orig = ops.kick;
    let n = 0;
    ops.kick = (...a: unknown[]) => {
      if (n++ === 0) throw new RprocError("EIO", "injected mailbox failure");
      orig?.(...a);
    };
  }
  try {
    await rproc.boot().catch(() => {});
  } finally {
    for (const r of restore) r();
  }
  return { rproc, events, host };
}

for (const step of ["findVqs", "allocCoherent", "ready", "kick"] as Step[]) {
  test(`rpmsg probe with ${step} failing: contained, reported, nothing leaks`, async () => {
    const { rproc, events, host } = await withFault(step);
    {
      // stm32_rproc registers every carveout itself: only the rpmsg buffers come from an allocator.
      assert.equal(rproc.state, RprocState.RUNNING, "the kernel boots on without the virtio device");
      assert.ok(rproc.diagnostics.some((d) => d.code === "virtio-probe-failed" && d.message.includes("injected")), JSON.stringify(rproc.diagnostics));
      assert.equal(host.bus(0), undefined);
      await rproc.shutdown();
    }
    assert.deepEqual(leftovers(rproc, events), []);
  });
}
