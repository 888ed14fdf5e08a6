/**
 * `rproc serve --platform P [FIRMWARE] [--processor N] [--driver D] [--port N]`:
 * one live processor behind a local web page (127.0.0.1 only) with buttons
 * for start, stop, crash, recovery and coredump, updated by server-sent events.
 * Runs until interrupted (SIGINT/SIGTERM), then shuts the processor down.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { isRprocError } from "../../errors.js";
import { Platform } from "../../platform/platform.js";
import { openRproc } from "../../drivers/registry.js";
import { LiveSession } from "../../web/live.js";
import { startServer } from "../../web/server.js";
import { EXIT_OK, EXIT_USAGE, type CliIO } from "../io.js";
import { platformArg } from "../platform-arg.js";

export const summary = "serve a live web view of one processor (127.0.0.1 only): map, lifecycle, start/stop/crash buttons";

const USAGE = `usage: rproc serve --platform NAME|FILE [FIRMWARE] [--processor NAME] [--driver sim|emulated] [--port N] [--json]

  FIRMWARE     a path or a name on the platform's search path (default: the processor's firmware name)
  --port N     TCP port on 127.0.0.1 (default 0: any free port); the URL is printed
  --json       print {"url": ...} as one JSON line instead of the text line
The server listens on 127.0.0.1 only and refuses other Host/Origin headers. Ctrl-C stops it.
Exit status: 0 after an interrupt, 1 the port cannot be bound, 2 usage error.
`;

export async function run(argv: string[], io: CliIO, until?: Promise<unknown>): Promise<number> {
  let values: { platform?: string; processor?: string; driver?: string; port?: string; json?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        platform: { type: "string" },
        processor: { type: "string" },
        driver: { type: "string" },
        port: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    io.stderr(`rproc serve: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  const usage = (msg: string): number => {
    io.stderr(`rproc serve: ${msg}\n${USAGE}`);
    return EXIT_USAGE;
  };
  if (!values.platform) return usage("missing --platform");
  if (positionals.length > 1) return usage("one FIRMWARE only");
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) return usage(`--port ${values.port}: not a port number (0-65535)`);
  let session: LiveSession;
  try {
    const platform = Platform.load(platformArg(values.platform, io.cwd));
    let firmware = positionals[0];
    if (firmware !== undefined && !firmware.startsWith("/") && existsSync(resolve(io.cwd, firmware))) firmware = resolve(io.cwd, firmware);
    const rproc = await openRproc(platform, values.processor, {
      cwd: io.cwd,
      ...(firmware !== undefined ? { firmware } : {}),
      ...(values.driver !== undefined ? { driver: values.driver } : {}),
    });
    session = new LiveSession(rproc, platform.desc, values.driver ?? rproc.processor.driver);
  } catch (e) {
    if (isRprocError(e)) return usage(`${e.code}: ${e.message}`);
    throw e;
  }
  let server;
  try {
    server = await startServer(session, { port });
  } catch (e) {
    await session.close();
    io.stderr(`rproc serve: cannot listen on 127.0.0.1:${port}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  io.stdout(values.json ? JSON.stringify({ url: server.url }) + "\n" : `rproc serve: ${session.rproc.name} on ${session.platform.name} at ${server.url} (Ctrl-C stops)\n`);
  await (until ??
    new Promise<void>((r) => {
      process.once("SIGINT", () => r());
      process.once("SIGTERM", () => r());
    }));
  await server.close();
  await session.close();
  return EXIT_OK;
}
