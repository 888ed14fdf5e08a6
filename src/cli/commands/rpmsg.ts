/**
 * `rproc rpmsg FIRMWARE --platform P [--processor N] [--driver sim|emulated]
 * [--send TEXT]... [--send-hex HEX]... [--to NAME|ADDR] [--wait-ms N]
 * [--remote MODEL[,MODEL]] [--json] [--trace]`: boot with the rpmsg host,
 * print the channels and every message both ways, shut down.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { isRprocError } from "../../errors.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIO } from "../io.js";
import { platformArg } from "../platform-arg.js";
import { renderRpmsgReport, rpmsgSession, type RpmsgReport } from "../../rpmsg/session.js";

export const summary = "boot, talk to the firmware over rpmsg (channels, messages both ways), shut down";

const USAGE = `usage: rproc rpmsg FIRMWARE --platform NAME|FILE [--processor NAME] [--driver sim|emulated]
       [--send TEXT]... [--send-hex HEX]... [--to NAME|ADDR] [--wait-ms N] [--remote MODELS] [--json] [--trace]

  --send TEXT      a message to send (repeatable; with --send-hex, in the order given)
  --send-hex HEX   a message given as hex bytes
  --to NAME|ADDR   channel name (e.g. rpmsg-tty) or remote address (decimal or 0x..); default: the first channel
  --wait-ms N      how long to wait for the channel and for each answer (default 1000)
  --driver NAME    sim (a TypeScript remote model answers) or emulated (the firmware runs on an emulated core)
  --remote MODELS  sim remote models, comma-separated: tty, raw, sample, openamp-echo (default tty)
  --no-reply       do not wait for answers (a remote that only consumes)
  --json           one JSON object: platform, processor, firmware, state, vdevs, channels, messages, error
  --trace          print every lifecycle event
Exit status: 0 every message delivered and answered, 1 otherwise, 2 usage error.
`;

type Payload = { kind: "text" | "hex"; value: string; at: number };

/** --send and --send-hex in command-line order. */
function payloads(argv: string[]): Payload[] {
  const out: Payload[] = [];
  argv.forEach((a, i) => {
    const next = argv[i + 1];
    if ((a === "--send" || a === "--send-hex") && next !== undefined) out.push({ kind: a === "--send" ? "text" : "hex", value: next, at: i });
    else if (a.startsWith("--send=")) out.push({ kind: "text", value: a.slice(7), at: i });
    else if (a.startsWith("--send-hex=")) out.push({ kind: "hex", value: a.slice(11), at: i });
  });
  return out;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const fail = (msg: string): number => {
    io.stderr(`rproc rpmsg: ${msg}\n${USAGE}`);
    return EXIT_USAGE;
  };
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        platform: { type: "string" },
        processor: { type: "string" },
        driver: { type: "string" },
        send: { type: "string", multiple: true },
        "send-hex": { type: "string", multiple: true },
        to: { type: "string" },
        "wait-ms": { type: "string" },
        remote: { type: "string" },
        "no-reply": { type: "boolean" },
        "search-path": { type: "string", multiple: true },
        json: { type: "boolean" },
        trace: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
  if (values.help) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  if (positionals.length !== 1) return fail(positionals.length ? "one FIRMWARE only" : "missing FIRMWARE");
  if (typeof values.platform !== "string") return fail("missing --platform");
  const driver = values.driver as string | undefined;
  if (driver !== undefined && driver !== "sim" && driver !== "emulated") return fail(`--driver ${driver}: sim or emulated`);
  const waitMs = values["wait-ms"] === undefined ? 1000 : Number(values["wait-ms"]);
  if (!Number.isSafeInteger(waitMs) || waitMs < 0) return fail(`--wait-ms ${String(values["wait-ms"])}: not a non-negative integer`);
  const send: Uint8Array[] = [];
  for (const p of payloads(argv)) {
    if (p.kind === "text") send.push(Buffer.from(p.value, "utf8"));
    else {
      const h = p.value.replace(/[\s:]/g, "");
      if (h.length % 2 || /[^0-9a-fA-F]/.test(h)) return fail(`--send-hex ${p.value}: not hex bytes`);
      send.push(Buffer.from(h, "hex"));
    }
  }
  let to: string | number | undefined = values.to as string | undefined;
  if (typeof to === "string" && /^(0x[0-9a-f]+|\d+)$/i.test(to)) to = Number(to);
  let firmware = positionals[0]!;
  if (!firmware.startsWith("/") && existsSync(resolve(io.cwd, firmware))) firmware = resolve(io.cwd, firmware);
  const remote = typeof values.remote === "string" ? values.remote.split(",").filter(Boolean) : undefined;
  let report: RpmsgReport;
  try {
    report = await rpmsgSession({
      platform: platformArg(values.platform, io.cwd),
      firmware,
      cwd: io.cwd,
      send,
      waitMs,
      expectReply: values["no-reply"] !== true,
      ...(typeof values.processor === "string" ? { processor: values.processor } : {}),
      ...(driver !== undefined ? { driver } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(remote ? { remote } : {}),
      ...(Array.isArray(values["search-path"]) ? { searchPath: values["search-path"].map((d) => resolve(io.cwd, d)) } : {}),
    });
  } catch (e) {
    if (!isRprocError(e)) throw e;
    if (values.json) io.stdout(JSON.stringify({ error: { code: e.code, step: null, message: e.message } }, null, 2) + "\n");
    io.stderr(`rproc rpmsg: ${e.code}: ${e.message}\n`);
    return EXIT_USAGE;
  }
  if (values.json) {
    const { events, ...rest } = report;
    io.stdout(JSON.stringify(values.trace ? report : { ...rest, events: undefined }, null, 2) + "\n");
    void events;
  } else io.stdout(renderRpmsgReport(report, values.trace === true));
  if (report.error && !values.json) io.stderr(`rproc rpmsg: ${report.error.code}: ${report.error.message}\n`);
  return report.error ? EXIT_FAILURE : EXIT_OK;
}
