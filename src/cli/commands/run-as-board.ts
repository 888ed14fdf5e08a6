/**
 * `rproc run-as-board DIR -- COMMAND...`: runs an unmodified host command
 * where the tree `rproc mount DIR` serves appears at /sys/class/remoteproc,
 * /sys/kernel/debug/remoteproc, /dev/remoteprocN…, in a private mount
 * namespace (src/mount/namespace.ts). Exits with the command's status.
 */
import { resolve } from "node:path";
import { isRprocError } from "../../errors.js";
import { FS_TYPE, mountedType } from "../../mount/mount.js";
import { runAsBoard } from "../../mount/namespace.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../io.js";
import { defineCommand, UsageError } from "../command.js";

export const command = defineCommand({
  name: "run-as-board",
  synopsis: "DIR -- COMMAND [ARG...]",
  description:
    "DIR: a directory served by a running `rproc mount DIR ...`. COMMAND runs unmodified in a private mount namespace:\n" +
    "/sys/class/remoteproc, /sys/kernel/debug/remoteproc, /sys/class/devcoredump, /sys/module/firmware_class and\n" +
    "/dev/remoteprocN are the served ones; the host's /sys and /dev are not touched. Needs root, or unprivileged user namespaces.",
  positionals: { min: 2, max: Infinity, missing: "expected DIR -- COMMAND", extra: "" },
  options: {},
  exitStatus: "the command's; 1 when the namespace cannot be made; 2 usage error.",
  async run({ argv }, io) {
    const sep = argv.indexOf("--");
    if (sep !== 1 || argv.length < 3) throw new UsageError("expected DIR -- COMMAND");
  const dir = resolve(io.cwd, argv[0]!);
  if (mountedType(dir) !== FS_TYPE) {
    io.stderr(`rproc run-as-board: ${dir} is not served by \`rproc mount\` (start \`rproc mount ${argv[0]} --platform P\` first)\n`);
    return { exit: EXIT_FAILURE };
  }
  try {
    const r = await runAsBoard(dir, argv.slice(2));
    if (r.code === null) return { exit: 128 + 15 };
    if (r.code !== 0 && process.getuid?.() !== 0)
      io.stderr(`rproc run-as-board: exit ${r.code}; without root this needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)\n`);
    return { exit: r.code };
  } catch (e) {
    if (!isRprocError(e)) throw e;
    io.stderr(`rproc run-as-board: ${e.code}: ${e.message}\n`);
    return { exit: EXIT_FAILURE };
  }
  },
});
