/**
 * `rproc serve --platform P [FIRMWARE] [--processor N] [--driver D] [--port N]`:
 * one live processor behind a local web page (127.0.0.1 only) with buttons
 * for start, stop, crash, recovery and coredump, updated by server-sent events.
 * Runs until interrupted (SIGINT/SIGTERM), then shuts the processor down.
 */
import { isRprocError } from "../../errors.js";
import { firmwareArg } from "../../core/firmware.js";
import { defineCommand, UsageError } from "../command.js";
import { Platform } from "../../platform/platform.js";
import { openRproc } from "../../drivers/registry.js";
import { LiveSession } from "../../web/live.js";
import { startServer } from "../../web/server.js";
import { EXIT_FAILURE, EXIT_OK } from "../io.js";
import { platformArg } from "../platform-arg.js";

export const command = defineCommand({
  name: "serve",
  synopsis: "--platform NAME|FILE [FIRMWARE] [--processor NAME] [--driver sim|emulated] [--port N] [--json]",
  description:
    "One live processor behind a local web page. FIRMWARE: a path or a name on the platform's search path\n" +
    "(default: the processor's firmware name). The server listens on 127.0.0.1 only and refuses other\n" +
    "Host/Origin headers. Ctrl-C stops it. --json prints {\"url\": ...} as one JSON line.",
  positionals: { min: 0, max: 1, missing: "", extra: "one FIRMWARE only" },
  options: {
    platform: { type: "string", value: "NAME|FILE", help: "bundled platform name or a platform JSON file" },
    processor: { type: "string", value: "NAME", help: "remote processor (default: the platform's first)" },
    driver: { type: "string", value: "NAME", help: "override the processor's driver (sim, emulated)" },
    port: { type: "string", value: "N", help: "TCP port on 127.0.0.1 (default 0: any free port); the URL is printed" },
  },
  exitStatus: "0 after an interrupt, 1 the port cannot be bound, 2 usage error.",
  async run({ values, positionals }, io) {
    if (!values.platform) throw new UsageError("missing --platform");
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!Number.isSafeInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${values.port}: not a port number (0-65535)`);
    let session: LiveSession;
    try {
      const platform = Platform.load(platformArg(values.platform, io.cwd));
      const firmware = positionals[0] === undefined ? undefined : firmwareArg(positionals[0], io.cwd);
      const rproc = await openRproc(platform, values.processor, {
        cwd: io.cwd,
        ...(firmware !== undefined ? { firmware } : {}),
        ...(values.driver !== undefined ? { driver: values.driver } : {}),
      });
      session = new LiveSession(rproc, platform.desc, values.driver ?? rproc.processor.driver);
    } catch (e) {
      if (isRprocError(e)) throw new UsageError(`${e.code}: ${e.message}`);
      throw e;
    }
    let server;
    try {
      server = await startServer(session, { port });
    } catch (e) {
      await session.close();
      return { exit: EXIT_FAILURE, stderr: `rproc serve: cannot listen on 127.0.0.1:${port}: ${e instanceof Error ? e.message : String(e)}\n` };
    }
    io.stdout(values.json ? JSON.stringify({ url: server.url }) + "\n" : `rproc serve: ${session.rproc.name} on ${session.platform.name} at ${server.url} (Ctrl-C stops)\n`);
    await new Promise<void>((r) => {
      process.once("SIGINT", () => r());
      process.once("SIGTERM", () => r());
    });
    await server.close();
    await session.close();
    return { exit: EXIT_OK };
  },
});
