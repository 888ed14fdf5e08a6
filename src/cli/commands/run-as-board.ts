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
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIO } from "../io.js";

export const summary = "run a host command where a tree served by rproc mount is the board's /sys and /dev";

const USAGE = `usage: rproc run-as-board DIR -- COMMAND [ARG...]

  DIR      a directory served by a running \`rproc mount DIR ...\`
  COMMAND  runs unmodified in a private mount namespace: /sys/class/remoteproc, /sys/kernel/debug/remoteproc,
           /sys/class/devcoredump, /sys/module/firmware_class and /dev/remoteprocN are the served ones; the
           host's /sys and /dev are not touched. Needs root, or unprivileged user namespaces.
Exit status: the command's; 1 when the namespace cannot be made; 2 usage error.
`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const sep = argv.indexOf("--");
  if (argv.includes("--help") && (sep < 0 || argv.indexOf("--help") < sep)) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  if (sep !== 1 || argv.length < 3) {
    io.stderr(`rproc run-as-board: expected DIR -- COMMAND\n${USAGE}`);
    return EXIT_USAGE;
  }
  const dir = resolve(io.cwd, argv[0]!);
  if (mountedType(dir) !== FS_TYPE) {
    io.stderr(`rproc run-as-board: ${dir} is not served by \`rproc mount\` (start \`rproc mount ${argv[0]} --platform P\` first)\n`);
    return EXIT_FAILURE;
  }
  try {
    const r = await runAsBoard(dir, argv.slice(2));
    if (r.code === null) return 128 + 15;
    if (r.code !== 0 && process.getuid?.() !== 0)
      io.stderr(`rproc run-as-board: exit ${r.code}; without root this needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)\n`);
    return r.code;
  } catch (e) {
    if (!isRprocError(e)) throw e;
    io.stderr(`rproc run-as-board: ${e.code}: ${e.message}\n`);
    return EXIT_FAILURE;
  }
}
