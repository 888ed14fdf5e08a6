/**
 * `rproc rpmsg FIRMWARE --platform P [--processor N] [--driver sim|emulated]
 * [--send TEXT]... [--send-hex HEX]... [--to NAME|ADDR] [--wait-ms N]
 * [--remote MODEL[,MODEL]] [--json] [--trace]`: boot with the rpmsg host,
 * print the channels and every message both ways, shut down.
 */
import { resolve } from "node:path";
import { isRprocError } from "../../errors.js";
import { firmwareArg } from "../../core/firmware.js";
import { defineCommand, UsageError } from "../command.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../io.js";
import { platformArg } from "../platform-arg.js";
import { renderRpmsgReport, rpmsgSession, type RpmsgReport } from "../../rpmsg/session.js";

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

export const command = defineCommand({
  name: "rpmsg",
  synopsis: [
    "FIRMWARE --platform NAME|FILE [--processor NAME] [--driver sim|emulated]",
    "      [--send TEXT]... [--send-hex HEX]... [--to NAME|ADDR] [--wait-ms N] [--remote MODELS] [--json] [--trace]",
  ],
  description: "Boots with the rpmsg host, prints the channels and every message both ways, shuts down.",
  positionals: { min: 1, max: 1, missing: "missing FIRMWARE", extra: "one FIRMWARE only" },
  options: {
    platform: { type: "string", value: "NAME|FILE", help: "bundled platform name or a platform JSON file" },
    processor: { type: "string", value: "NAME", help: "remote processor (default: the platform's first)" },
    driver: { type: "string", value: "NAME", help: "sim (a TypeScript remote model answers) or emulated (the firmware runs on an emulated core)" },
    send: { type: "string", multiple: true, value: "TEXT", help: "a message to send (repeatable; with --send-hex, in the order given)" },
    "send-hex": { type: "string", multiple: true, value: "HEX", help: "a message given as hex bytes" },
    to: { type: "string", value: "NAME|ADDR", help: "channel name (e.g. rpmsg-tty) or remote address (decimal or 0x..); default: the first channel" },
    "wait-ms": { type: "string", value: "N", help: "how long to wait for the channel and for each answer (default 1000)" },
    remote: { type: "string", value: "MODELS", help: "sim remote models, comma-separated: tty, raw, sample, openamp-echo (default tty)" },
    "no-reply": { type: "boolean", help: "do not wait for answers (a remote that only consumes)" },
    "search-path": { type: "string", multiple: true, value: "DIR", help: "firmware directory, repeatable" },
    trace: { type: "boolean", help: "print every lifecycle event" },
  },
  exitStatus: "0 every message delivered and answered, 1 otherwise, 2 usage error.",
  async run({ values, positionals, argv }, io) {
    if (values.platform === undefined) throw new UsageError("missing --platform");
    const driver = values.driver;
    if (driver !== undefined && driver !== "sim" && driver !== "emulated") throw new UsageError(`--driver ${driver}: sim or emulated`);
    const waitMs = values["wait-ms"] === undefined ? 1000 : Number(values["wait-ms"]);
    if (!Number.isSafeInteger(waitMs) || waitMs < 0) throw new UsageError(`--wait-ms ${String(values["wait-ms"])}: not a non-negative integer`);
    const send: Uint8Array[] = [];
    for (const p of payloads(argv)) {
      if (p.kind === "text") send.push(Buffer.from(p.value, "utf8"));
      else {
        const h = p.value.replace(/[\s:]/g, "");
        if (h.length % 2 || /[^0-9a-fA-F]/.test(h)) throw new UsageError(`--send-hex ${p.value}: not hex bytes`);
        send.push(Buffer.from(h, "hex"));
      }
    }
    let to: string | number | undefined = values.to;
    if (typeof to === "string" && /^(0x[0-9a-f]+|\d+)$/i.test(to)) to = Number(to);
    const firmware = firmwareArg(positionals[0]!, io.cwd);
    const remote = values.remote !== undefined ? values.remote.split(",").filter(Boolean) : undefined;
    let report: RpmsgReport;
    try {
      report = await rpmsgSession({
        platform: platformArg(values.platform, io.cwd),
        firmware,
        cwd: io.cwd,
        send,
        waitMs,
        expectReply: !values["no-reply"],
        ...(values.processor !== undefined ? { processor: values.processor } : {}),
        ...(driver !== undefined ? { driver } : {}),
        ...(to !== undefined ? { to } : {}),
        ...(remote ? { remote } : {}),
        ...(values["search-path"].length ? { searchPath: values["search-path"].map((d) => resolve(io.cwd, d)) } : {}),
      });
    } catch (e) {
      if (!isRprocError(e)) throw e;
      return { exit: EXIT_USAGE, json: { error: { code: e.code, step: null, message: e.message } }, stderr: `rproc rpmsg: ${e.code}: ${e.message}\n` };
    }
    const { events, ...rest } = report;
    void events;
    return {
      exit: report.error ? EXIT_FAILURE : EXIT_OK,
      json: values.trace ? report : { ...rest, events: undefined },
      stdout: renderRpmsgReport(report, values.trace),
      ...(report.error && !values.json ? { stderr: `rproc rpmsg: ${report.error.code}: ${report.error.message}\n` } : {}),
    };
  },
});
