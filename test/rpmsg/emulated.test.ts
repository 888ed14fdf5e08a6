// The rpmsg host against the C remote fixture (fixtures/rpmsg/rpmsg-echo.c) running on emulated cores.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { join } from "node:path";
import { Platform } from "../../src/platform/platform.js";
import { createRproc, loadDriver } from "../../src/drivers/registry.js";
import { attachRpmsg, type RpmsgHost } from "../../src/rpmsg/host.js";
import type { Rproc } from "../../src/core/rproc.js";
import { needsUnicorn } from "../emulated/helpers.js";
import { ROOT } from "../harness/setup.js";

const FW = { stm32mp157: "rpmsg-echo-m4-stm32mp157.elf", am64x: "rpmsg-echo-r5-am64x.elf" } as const;

async function boot(platform: keyof typeof FW): Promise<{ rproc: Rproc; host: RpmsgHost }> {
  await loadDriver("emulated");
  const rproc = createRproc(Platform.load(platform), undefined, {
    driver: "emulated",
    firmware: join(ROOT, "fixtures/rpmsg", FW[platform]),
    driverOptions: { sliceInsns: 200_000 },
  });
  const host = attachRpmsg(rproc);
  await rproc.boot();
  return { rproc, host };
}

for (const platform of Object.keys(FW) as (keyof typeof FW)[]) {
  test(`${platform}: announcement, echo of 1..496 bytes, 1,000 messages in a row, stop/start`, { skip: needsUnicorn }, async () => {
    const { rproc, host } = await boot(platform);
    try {
      const ch = await host.waitForChannel("rpmsg-tty", 5000);
      assert.deepEqual([ch.driver, ch.src, ch.dst, ch.id], ["rpmsg_tty", 0x400, 0x400, "virtio0.rpmsg-tty.-1.1024"]);
      const ept = host.endpointFor(ch);
      for (let n = 1; n <= 496; n += n < 16 ? 1 : 37) {
        const data = new Uint8Array(n).map((_, i) => (i + n) & 0xff);
        await ept.send(data);
        assert.deepEqual((await ept.receive())!.data, data, `size ${n}`);
      }
      const last = new Uint8Array(496).fill(0x5a);
      await ept.send(last);
      assert.deepEqual((await ept.receive())!.data, last);
      const sendAll = (async () => {
        for (let i = 0; i < 1000; i++) await ept.send(new TextEncoder().encode(`m${i}`), { timeoutMs: 5000 });
      })();
      for (let i = 0; i < 1000; i++) assert.equal(new TextDecoder().decode((await ept.receive())!.data), `m${i}`);
      await sendAll;
      await rproc.shutdown();
      assert.equal(ept.closed, true);
      await rproc.boot();
      const again = await host.waitForChannel("rpmsg-tty", 5000);
      const e2 = host.endpointFor(again);
      await e2.send(Uint8Array.of(1, 2, 3));
      assert.deepEqual([...(await e2.receive())!.data], [1, 2, 3]);
    } finally {
      await rproc.shutdown().catch(() => {});
    }
  });
}

test("stm32mp157: late RX buffers and TX exhaustion: the firmware waits, the host recovers, nothing is lost", { skip: needsUnicorn }, async () => {
  const { rproc, host } = await boot("stm32mp157");
  try {
    const ch = await host.waitForChannel("rpmsg-tty", 5000);
    const ept = host.endpointFor(ch);
    // The host stops taking interrupts: its RX buffers come back late, its TX buffers run out.
    const real = rproc.vqInterrupt.bind(rproc);
    let held = 0;
    rproc.vqInterrupt = () => (held++, true);
    const bus = host.bus(0)!;
    let sent = 0;
    for (;;) {
      try {
        ept.trySend(Uint8Array.of(sent));
        sent++;
      } catch (e) {
        assert.equal((e as { code?: string }).code, "ENOMEM");
        break;
      }
      if (sent > 4 * bus.numBufs) assert.fail("TX never ran out");
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(held > 0, "the firmware kicked the host meanwhile");
    rproc.vqInterrupt = real;
    real(0);
    const got: number[] = [];
    while (got.length < sent) {
      const m = await Promise.race([ept.receive(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 3000))]);
      if (!m) break;
      got.push(m.data[0]!);
    }
    assert.deepEqual(got, Array.from({ length: sent }, (_, i) => i & 0xff));
  } finally {
    await rproc.shutdown().catch(() => {});
  }
});
