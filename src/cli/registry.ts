/**
 * Every `rproc` command: its one-line summary (for `rproc --help`) and how to
 * load it. A command's module is imported only when that command runs, so
 * `rproc inspect` never loads the emulator, the TEE or the signer.
 * To add a command: a file under commands/ exporting `command` (defineCommand,
 * src/cli/command.ts) and one line here.
 */
import type { Command } from "./command.js";

export interface CommandEntry {
  summary: string;
  load: () => Promise<{ command: Command<any> }>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export const COMMANDS: Record<string, CommandEntry> = {
  inspect: { summary: "read a firmware file (ELF, signed image, core dump) and check it", load: () => import("./commands/inspect.js") },
  platforms: { summary: "list the bundled platforms, or show one (name or JSON file)", load: () => import("./commands/platforms.js") },
  boot: { summary: "boot firmware on a simulated platform (dry run), report, shut down", load: () => import("./commands/boot.js") },
  crash: { summary: "boot, inject a crash, show coredump and recovery", load: () => import("./commands/crash.js") },
  rpmsg: { summary: "boot, talk to the firmware over rpmsg (channels, messages both ways), shut down", load: () => import("./commands/rpmsg.js") },
  sign: { summary: "sign ELF images into an OP-TEE remoteproc signed image", load: () => import("./commands/sign.js") },
  verify: { summary: "verify an OP-TEE remoteproc signed image against a public key", load: () => import("./commands/verify.js") },
  board: { summary: "drive a board's /sys/class/remoteproc (or a tree served by rproc mount)", load: () => import("./commands/board.js") },
  mount: { summary: "serve simulated processors as a board's sysfs/debugfs/dev tree (FUSE)", load: () => import("./commands/mount.js") },
  "run-as-board": { summary: "run a host command with a tree served by rproc mount as its /sys and /dev", load: () => import("./commands/run-as-board.js") },
  serve: { summary: "serve a live web view of one processor (127.0.0.1 only)", load: () => import("./commands/serve.js") },
};
