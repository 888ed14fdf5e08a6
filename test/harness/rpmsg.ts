/** An rproc on the sim driver with a TypeScript rpmsg remote and an rpmsg host attached, booted. */
import { Platform } from "../../src/platform/platform.js";
import { fixture, makeRproc } from "./setup.js";
import { attachRpmsg } from "../../src/rpmsg/host.js";
import { remoteServices, rpmsgRemoteBehaviour } from "../../src/rpmsg/remote/sim.js";

export async function simBoot(models = ["tty"], platform = "stm32mp157", fw = "stm32mp15-m4.elf") {
  const behaviour = rpmsgRemoteBehaviour(remoteServices(models));
  const { rproc, events } = makeRproc(Platform.load(platform), fixture(fw), { driver: "sim", driverOptions: { behaviour } });
  const host = attachRpmsg(rproc);
  await rproc.boot();
  return { rproc, events, host, behaviour };
}
