/**
 * Runs a command in a private mount namespace where a served tree takes the
 * place of the board's files: /sys is a fresh tmpfs in which the served
 * class, devices, bus, kernel and module folders are bound, the host's other
 * /sys folders bound back; /dev is a fresh tmpfs with null, zero, full,
 * random, urandom, tty, pts and fuse bound back and the served dev/* files
 * bound in (never files created in the host's devtmpfs, whose superblock is
 * shared). Nothing the host sees changes. Root uses `unshare -m`; another
 * user gets a user namespace (`unshare -Urm`) where the kernel allows it.
 */
import { spawn } from "node:child_process";
import { RprocError } from "../errors.js";

/** The shell program run inside the namespace: $1 = served root, then the command. */
export const NAMESPACE_SCRIPT = `set -e
T="$1"; shift
H=$(mktemp -d /tmp/rproc-hostsys.XXXXXX); D=$(mktemp -d /tmp/rproc-hostdev.XXXXXX)
mount --rbind /sys "$H"; mount --rbind /dev "$D"
mount -t tmpfs -o mode=755 rproc-sys /sys
for e in "$H"/* "$T"/sys/*; do
  n=\${e##*/}; [ -d "/sys/$n" ] && continue; mkdir "/sys/$n"
  if [ -e "$T/sys/$n" ]; then mount --rbind "$T/sys/$n" "/sys/$n"; else mount --rbind "$H/$n" "/sys/$n"; fi
done
mount -t tmpfs -o mode=755 rproc-dev /dev
for n in null zero full random urandom tty fuse; do
  if [ -e "$D/$n" ]; then : > "/dev/$n"; mount --bind "$D/$n" "/dev/$n"; fi
done
mkdir /dev/pts /dev/shm; [ -d "$D/pts" ] && mount --rbind "$D/pts" /dev/pts; mount -t tmpfs rproc-shm /dev/shm
ln -s pts/ptmx /dev/ptmx; ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin; ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr
for f in "$T"/dev/*; do [ -e "$f" ] || continue; n=\${f##*/}; : > "/dev/$n"; mount --bind "$f" "/dev/$n"; done
umount -l "$H" "$D"; rmdir "$H" "$D"
exec "$@"
`;

export interface RunAsBoardResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Spawns `command` in the namespace with inherited stdio; resolves with its exit status. */
export function runAsBoard(servedRoot: string, command: string[], opts: { stdio?: "inherit" | "pipe"; onOutput?: (s: string) => void } = {}): Promise<RunAsBoardResult> {
  if (command.length === 0) return Promise.reject(new RprocError("EINVAL", "no command to run", { field: "command" }));
  const root = process.getuid?.() === 0;
  const args = [...(root ? [] : ["--user", "--map-root-user"]), "--mount", "--propagation", "private", "sh", "-c", NAMESPACE_SCRIPT, "rproc-board", servedRoot, ...command];
  return new Promise((resolve, reject) => {
    const p = spawn("unshare", args, { stdio: opts.stdio === "pipe" ? ["ignore", "pipe", "pipe"] : "inherit" });
    p.stdout?.on("data", (d) => opts.onOutput?.(String(d)));
    p.stderr?.on("data", (d) => opts.onOutput?.(String(d)));
    p.on("error", (e) =>
      reject(new RprocError("ENOENT", `cannot run unshare (util-linux): ${(e as Error).message}`, { cause: e, field: "unshare" })),
    );
    p.on("exit", (code, signal) => resolve({ code, signal }));
  });
}
