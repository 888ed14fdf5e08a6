/**
 * Making an emulated firmware crash on request, through the command
 * interface of the fixture firmware (fixtures/emulated/fw.c,
 * docs/emulated-driver.md): a 32-bit word `fw_cmd` in the firmware's data
 * that the host writes and the firmware's main loop takes (and clears). The
 * crash is then the firmware's own doing — a real bad access, a real
 * undefined instruction, a watchdog it really stopped feeding — not a
 * report the host makes up. A firmware without that word has no such
 * interface, and the caller must refuse.
 */
import { RprocError, hex } from "../../errors.js";
import { findSymbol, parseElf } from "../../formats/elf.js";
import type { Rproc } from "../../core/rproc.js";

/** The symbol of the fixture's command word. */
export const COMMAND_WORD = "fw_cmd";

/** Commands of the fixture firmware that end in a crash, by the name the CLI uses. */
export const FIXTURE_FAULTS = { mmufault: 1, undef: 2, watchdog: 3 } as const;
export type FixtureFault = keyof typeof FIXTURE_FAULTS;

export function isFixtureFault(name: string): name is FixtureFault {
  return Object.prototype.hasOwnProperty.call(FIXTURE_FAULTS, name);
}

/** Device address of the firmware's command word, or undefined when the image has none (or is not an ELF with symbols). */
export function commandWordAddress(image: Uint8Array): number | undefined {
  let sym;
  try {
    sym = findSymbol(parseElf(image), COMMAND_WORD);
  } catch (e) {
    if (e instanceof RprocError) return undefined;
    throw e;
  }
  if (!sym || sym.size !== 4 || sym.shndx === 0) return undefined;
  const da = Number(sym.value);
  return Number.isSafeInteger(da) ? da : undefined;
}

/**
 * Writes the command for `fault` into the running firmware and resolves
 * when the processor reports the crash (the first rproc_report_crash after
 * the write). Rejects with ETIMEDOUT when the firmware does not crash within
 * `timeoutMs` of wall time (a watchdog starve needs its timeout in executed
 * instructions first), or EFAULT when the word is not in memory the host
 * reaches through the processor's carveouts.
 */
export async function injectFixtureFault(rproc: Rproc, commandDa: number, fault: FixtureFault, timeoutMs = 10_000): Promise<void> {
  const view = rproc.daToVa(commandDa, 4);
  if (!view) {
    throw new RprocError("EFAULT", `${COMMAND_WORD} at da ${hex(commandDa)} is not in any carveout of ${rproc.name}: the host cannot write the command`, {
      field: COMMAND_WORD,
      value: commandDa,
    });
  }
  const waiting = waitForCrash(rproc, timeoutMs, `writing ${COMMAND_WORD} = ${FIXTURE_FAULTS[fault]} (${fault})`);
  rproc.emit("inject_fault", "info", { fault, command: FIXTURE_FAULTS[fault], da: hex(commandDa) });
  view.setU32(0, FIXTURE_FAULTS[fault]);
  await waiting;
}

/**
 * Resolves at the processor's next rproc_report_crash — a crash of the
 * firmware's own making — or rejects with ETIMEDOUT after `timeoutMs`.
 */
export function waitForCrash(rproc: Rproc, timeoutMs: number, after = "boot"): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new RprocError("ETIMEDOUT", `${rproc.name}: the firmware did not crash within ${timeoutMs} ms of ${after}`, { step: "wait_for_crash", value: timeoutMs }));
    }, timeoutMs);
    const unsubscribe = rproc.events.on((e) => {
      if (e.step !== "rproc_report_crash") return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    });
  });
}
