/**
 * `rproc crash FIRMWARE --platform P ...`: crashReport() (src/report/crash.ts)
 * boots, crashes, dumps and recovers; this renders it.
 */
import { resolve } from "node:path";
import { hex, isRprocError } from "../../errors.js";
import { crashReport, type CrashRun, type CrashTypeName } from "../../report/crash.js";
import { COMMAND_WORD, FIXTURE_FAULTS, isFixtureFault } from "../../drivers/emulated/index.js";
import { defineCommand, UsageError } from "../command.js";
import { EXIT_FAILURE, EXIT_OK } from "../io.js";
import { formatEvent } from "../render-event.js";
import { withProgress } from "../progress.js";
import { platformArg } from "../platform-arg.js";

const TYPES = ["mmufault", "watchdog", "fatal-error"];

/** The steps worth showing without --trace: the crash, its work, dump and recovery milestones. */
const MILESTONES = new Set(["inject_fault", "rproc_report_crash", "rproc_crash_handler_work", "rproc_trigger_recovery", "rproc_boot_recovery", "rproc_attach_recovery", "rproc_stop", "rproc_coredump", "rproc_coredump_using_sections", "request_firmware", "rproc_start", "running"]);

function human(run: CrashRun, opts: { trace: boolean; output?: string; waitMs: number }): string {
  const r = run.report;
  const lines: string[] = [];
  if (!opts.trace) for (const e of run.events.slice(run.crashFrom)) if (r.crash.injected && MILESTONES.has(e.step) && e.phase !== "end") lines.push(formatEvent(e));
  if (r.crash.injected) lines.push(`crash: ${r.crash.type} in ${r.processor} (crash #${r.crash.crashCnt}), recovery ${r.recovery}, coredump ${r.coredump}`);
  else if (run.booted) lines.push(`no crash: the processor did not crash within ${opts.waitMs} ms`);
  else lines.push(`no crash injected: the boot failed${r.error?.step ? ` at ${r.error.step}` : ""}`);
  if (r.fault) {
    lines.push(`fault: ${r.fault.kind} at pc ${r.fault.pc}${r.fault.address !== null ? `, ${r.fault.access ?? "access"} of ${r.fault.address}` : ""}: ${r.fault.message}`);
    const regs = Object.entries(r.fault.registers).map(([k, v]) => `${k.padStart(6)} ${v.padEnd(10)}`);
    for (let i = 0; i < regs.length; i += 4) lines.push("  " + regs.slice(i, i + 4).join(" ").trimEnd());
    if (r.fault.status) lines.push(`fault status: ${Object.entries(r.fault.status).map(([k, v]) => `${k} ${v}`).join(" ")}${r.fault.statusDecoded.length ? ` (${r.fault.statusDecoded.join(", ")})` : ""}`);
  }
  const d = r.dump;
  if (d) {
    lines.push(`coredump: ${d.mode}, ${d.size} bytes, ${d.segments.length} segment(s)${d.prstatus ? `, registers in an NT_PRSTATUS note (pc ${d.prstatus.r15 ?? d.prstatus.pc ?? hex(0)})` : ""}`);
    for (const s of d.segments) lines.push(`  da ${hex(s.da)} size ${hex(s.size)}${s.name ? " " + s.name : ""}`);
    if (d.written) lines.push(`written to ${d.written.path}`);
  } else if (r.noDump) lines.push(`coredump: none: ${r.noDump}`);
  else if (r.crash.injected && r.coredump !== "disabled" && r.recovery === "enabled") lines.push("coredump: none");
  if (opts.output && !d?.written) lines.push(`nothing written to ${opts.output}: ${run.writeFailed ? "the write failed (error below)" : "there is no dump"}`);
  for (const x of r.diagnostics) lines.push(`${x.severity}: ${x.message}`);
  if (r.error) lines.push(`error: ${r.error.code}: ${r.error.message}`);
  if (r.crashLoop) lines.push(`crash loop: ${r.crashLoop.count} crashes: the firmware faulted again after each recovery; first fault: ${r.crashLoop.first.message}`);
  lines.push(`state: ${r.crashLoop ? "crash loop" : r.state} (expected ${r.expectedState})`);
  return lines.join("\n") + "\n";
}

export const command = defineCommand({
  name: "crash",
  synopsis: [
    "FIRMWARE --platform NAME|FILE [--processor NAME] [--type mmufault|watchdog|fatal-error]",
    "      [--recovery enabled|disabled] [--coredump enabled|inline|disabled] [-o core.elf] [--json] [--trace]",
    "      [--driver sim|emulated] [--fault mmufault|undef|watchdog] [--wait-ms N]",
  ],
  description: "Boots, makes the processor crash, shows the crash work, coredump and recovery (docs/crash-and-coredump.md).",
  positionals: { min: 1, max: 1, missing: "missing FIRMWARE", extra: "one FIRMWARE only" },
  options: {
    platform: { type: "string", value: "NAME|FILE", help: "bundled platform name or a platform JSON file" },
    processor: { type: "string", value: "NAME", help: "remote processor (default: the platform's first)" },
    type: { type: "string", value: "TYPE", help: "crash type the simulated processor reports (default watchdog)" },
    recovery: { type: "string", value: "WORD", help: "sysfs recovery word before the crash (default: the driver's, enabled except ti_k3_r5)" },
    coredump: { type: "string", value: "WORD", help: "sysfs coredump word before the crash (default enabled; inline: the dump is read, then recovery goes on)" },
    output: { type: "string", short: "o", value: "FILE", help: "write the coredump (ELF core) to FILE (atomically; never onto the firmware)" },
    trace: { type: "boolean", help: "print every lifecycle event" },
    driver: {
      type: "string",
      value: "NAME",
      help: "sim (default): the simulated processor reports the crash; emulated: the firmware runs on an\nemulated core and crashes by itself (default when the platform names the emulated driver)",
    },
    fault: {
      type: "string",
      value: "KIND",
      help: `emulated: make the firmware crash through its command word ${COMMAND_WORD} (the fixture firmware's\ncommand interface, docs/emulated-driver.md); without it, wait for a crash of the firmware's own`,
    },
    "wait-ms": { type: "string", value: "N", help: "emulated: how long to wait for the crash (default 10000)" },
  },
  exitStatus:
    "0 the sequence ended as configured (running after recovery, crashed without it, a dump when asked),\n1 otherwise, 2 usage error.",
  async run({ values: v, positionals }, io) {
    if (!v.platform) throw new UsageError("missing --platform");
    if (v.type !== undefined && !TYPES.includes(v.type)) throw new UsageError(`--type ${v.type}: one of mmufault, watchdog, fatal-error`);
    const recovery = v.recovery;
    if (recovery !== undefined && recovery !== "enabled" && recovery !== "disabled") throw new UsageError(`--recovery ${recovery}: enabled or disabled`);
    const coredump = v.coredump ?? "enabled";
    if (coredump !== "enabled" && coredump !== "inline" && coredump !== "disabled") throw new UsageError(`--coredump ${coredump}: enabled, inline or disabled`);
    if (v.driver !== undefined && v.driver !== "sim" && v.driver !== "emulated") throw new UsageError(`--driver ${v.driver}: sim or emulated`);
    if (v.fault !== undefined && !isFixtureFault(v.fault)) throw new UsageError(`--fault ${v.fault}: one of ${Object.keys(FIXTURE_FAULTS).join(", ")}`);
    const waitMs = v["wait-ms"] === undefined ? 10_000 : Number(v["wait-ms"]);
    if (!Number.isSafeInteger(waitMs) || waitMs <= 0) throw new UsageError(`--wait-ms ${v["wait-ms"]}: not a positive integer`);
    const streamTrace = v.trace && !v.json;
    let run: CrashRun;
    try {
      run = await crashReport({
        platform: platformArg(v.platform, io.cwd),
        firmware: positionals[0]!,
        cwd: io.cwd,
        ...(v.processor !== undefined ? { processor: v.processor } : {}),
        ...(v.type !== undefined ? { type: v.type as CrashTypeName } : {}),
        ...(recovery !== undefined ? { recovery } : {}),
        coredump,
        ...(v.driver !== undefined ? { driver: v.driver } : {}),
        ...(v.fault !== undefined && isFixtureFault(v.fault) ? { fault: v.fault } : {}),
        waitMs,
        ...(v.output !== undefined ? { output: resolve(io.cwd, v.output) } : {}),
        ...(streamTrace ? { onEvent: (e) => io.stdout(formatEvent(e) + "\n") } : {}),
        progress: (label, work) => withProgress(io, !v.json, label, work),
      });
    } catch (e) {
      // What was asked cannot be set up (platform, processor, options that do not go together, an output that may not be written).
      if (!isRprocError(e)) throw e;
      if (e.field === "output") throw e;
      throw new UsageError(e.field === "fault" || e.field === "type" ? e.message : `${e.code}: ${e.message}`);
    }
    return { exit: run.report.ok ? EXIT_OK : EXIT_FAILURE, json: run.report, stdout: human(run, { trace: v.trace, output: v.output, waitMs }) };
  },
});
